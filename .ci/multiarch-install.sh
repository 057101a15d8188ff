#!/usr/bin/env bash
# Make this machine build and run linux/arm64 images offline, next to its own linux/amd64.
#
#   * Debian 12 packages qemu-user-static and binfmt-support (user-mode QEMU, registered
#     with binfmt_misc so a foreign binary in a container or a BuildKit RUN step just runs);
#   * the binfmt_misc file system mounted when /proc/sys/fs/binfmt_misc/register is missing,
#     and qemu-aarch64 enabled (flags F: the interpreter is opened once, so it works inside
#     containers whose root file system has no QEMU);
#   * Debian's busybox-static for arm64, fetched through a *private* apt configuration
#     (its own architecture list, source list, lists and cache dirs: the host's apt setup and
#     dpkg architectures are never changed), unpacked with dpkg-deb -x into
#     $RUNWAY_EXT_ARM64_ROOT; tests/support/docker_engine.py builds the arm64 base image from it.
#
# Idempotent: when everything is present it only verifies and exits (< 1 s).
# Nothing is pulled from any container registry; only Debian's apt mirror is contacted.
#
# Environment knobs:
#   RUNWAY_EXT_ARM64_ROOT       where busybox-static:arm64 is unpacked (default /var/cache/runway-ext/arm64)
#   RUNWAY_EXT_ARM64_APT_CACHE  private apt dirs (default /var/cache/runway-ext/apt-arm64)
set -euo pipefail

ARM64_ROOT="${RUNWAY_EXT_ARM64_ROOT:-/var/cache/runway-ext/arm64}"
APT_PRIV="${RUNWAY_EXT_ARM64_APT_CACHE:-/var/cache/runway-ext/apt-arm64}"
BINFMT=/proc/sys/fs/binfmt_misc
export DEBIAN_FRONTEND=noninteractive

say() { echo "multiarch-install: $*"; }
if [ "$(id -u)" -ne 0 ]; then
    say "must run as root (apt-get, mount)" >&2
    exit 1
fi
started=$(date +%s)

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

# Mirror URI of this machine's Debian sources (deb822 or one-line format), as .ci/docker-install.sh finds it.
debian_mirror_uri() {
    local uri="" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ { if ($2 !~ /security/) { print $2; exit } }' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } } }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# ----------------------------------------------------------- 1. QEMU packages ---
missing=()
for p in qemu-user-static binfmt-support; do
    pkg_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get install ${missing[*]} ..."
    apt-get update -qq
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then  # never let a maintainer script start a service
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    rc=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    [ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" -eq 0 ] || { say "apt-get install failed ($rc)" >&2; exit "$rc"; }
else
    say "qemu-user-static and binfmt-support already installed"
fi

# ------------------------------------------------- 2. binfmt_misc + qemu-aarch64 ---
if [ ! -e "$BINFMT/register" ]; then
    say "mounting binfmt_misc on $BINFMT"
    mount -t binfmt_misc binfmt_misc "$BINFMT"
fi
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
    say "registering qemu-aarch64 with binfmt_misc"
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null
fi
grep -q '^enabled' "$BINFMT/qemu-aarch64" || update-binfmts --enable qemu-aarch64
grep -q '^flags: .*F' "$BINFMT/qemu-aarch64" \
    || { say "qemu-aarch64 is registered without the F flag: containers cannot use it" >&2; exit 1; }

# ------------------------------------------------------ 3. busybox-static:arm64 ---
busybox="$ARM64_ROOT/bin/busybox"
if [ ! -x "$busybox" ]; then
    mirror=$(debian_mirror_uri)
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    say "fetching busybox-static:arm64 ($suite, $mirror) through a private apt configuration ..."
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial" "$APT_PRIV/debs"
    printf 'deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$mirror" "$suite" >"$APT_PRIV/sources.list"
    opts=(
        -o "APT::Architecture=arm64"
        -o "APT::Architectures::=arm64"
        -o "Dir::Etc::sourcelist=$APT_PRIV/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT_PRIV/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$APT_PRIV/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "Acquire::Languages=none"
        -o "APT::Sandbox::User=root"
        -o "APT::Update::Post-Invoke-Success::="
    )
    apt-get "${opts[@]}" update -qq
    rm -f "$APT_PRIV"/debs/*.deb
    (cd "$APT_PRIV/debs" && apt-get "${opts[@]}" download -qq busybox-static:arm64)
    rm -rf "$ARM64_ROOT.partial"
    mkdir -p "$ARM64_ROOT.partial"
    dpkg-deb -x "$APT_PRIV"/debs/busybox-static_*_arm64.deb "$ARM64_ROOT.partial"
    rm -rf "$ARM64_ROOT" "$APT_PRIV"/debs/*.deb
    mv "$ARM64_ROOT.partial" "$ARM64_ROOT"
else
    say "busybox-static:arm64 already in $ARM64_ROOT"
fi

# ------------------------------------------------------------------ 4. verify ---
machine=$("$busybox" uname -m)
[ "$machine" = "aarch64" ] || { say "the arm64 busybox reports $machine, expected aarch64 (QEMU not used?)" >&2; exit 1; }
say "qemu-aarch64 $(sed -n 's/^interpreter //p' "$BINFMT/qemu-aarch64"), arm64 busybox runs (uname -m: $machine)"
say "done in $(( $(date +%s) - started )) s"
