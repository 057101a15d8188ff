#!/usr/bin/env bash
# Install a local Docker toolchain for the runway_ext test suite, from nothing.
#
#   * Debian 12 packages: docker.io (dockerd 20.10 + client), docker-registry,
#     busybox-static (source of the locally built base image), iptables.
#   * The `docker compose` v2 and `docker buildx` CLI plugins, taken from the
#     Debian 13 (trixie) .debs.  They are fetched through a *private* apt
#     configuration (own source list, lists and cache dirs) so the system's apt
#     setup is never changed, unpacked with `dpkg-deb -x`, and only the two
#     plugin binaries are copied into a docker CLI plugins dir.
#
# Idempotent: when everything is present it only verifies and exits (< 1 s).
# Nothing is pulled from any container registry; only Debian's apt mirror
# (the same URI this machine's own apt sources use) is contacted.
#
# Environment knobs:
#   RUNWAY_EXT_DOCKER_PLUGIN_DIR  plugin dir   (default /usr/local/lib/docker/cli-plugins)
#   RUNWAY_EXT_DOCKER_APT_CACHE   private apt  (default /var/cache/runway-ext/apt-trixie)
#   RUNWAY_EXT_DOCKER_SUITE       plugin suite (default trixie)
set -euo pipefail

PLUGIN_DIR="${RUNWAY_EXT_DOCKER_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}"
APT_PRIV="${RUNWAY_EXT_DOCKER_APT_CACHE:-/var/cache/runway-ext/apt-trixie}"
SUITE="${RUNWAY_EXT_DOCKER_SUITE:-trixie}"
DEB_PACKAGES=(docker.io docker-registry busybox-static iptables)
PLUGINS=(compose buildx)
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
    echo "docker-install: must run as root (apt-get, dpkg)" >&2
    exit 1
fi

T_ALL=$(date +%s.%N)
step_start() { T_STEP=$(date +%s.%N); echo "docker-install: $1 ..."; }
elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }
step_end() { echo "docker-install: $1 took $(elapsed_since "$T_STEP") s"; }

# ---------------------------------------------------------------- helpers ---
pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

plugin_ok() {
    # A docker CLI plugin answers the metadata sub-command without a daemon.
    local bin="$PLUGIN_DIR/docker-$1"
    [ -x "$bin" ] && "$bin" docker-cli-plugin-metadata >/dev/null 2>&1
}

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        step_start "apt-get update (system sources)"
        apt-get update -qq
        APT_UPDATED=1
        step_end "apt-get update"
    fi
}

# Mirror URI of this machine's Debian sources (deb822 or one-line format).
debian_mirror_uri() {
    local uri=""
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '
            /^[[:space:]]*$/ { if (u != "" && s ~ /(bookworm|stable)([[:space:]]|$)/ && s !~ /security/) { print u; exit } u=""; s=""; next }
            /^URIs:/   { u=$2 }
            /^Suites:/ { s=$0 }
            END { if (u != "" && s ~ /(bookworm|stable)([[:space:]]|$)/ && s !~ /security/) print u }
        ' "$f" | head -n1)
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) !~ /security/) { print $i; exit } } }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# ------------------------------------------------------ 1. Debian packages ---
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    pkg_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt_update_once
    # Never let a maintainer script start dockerd / the registry service.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    step_start "apt-get install ${missing[*]}"
    rc=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    [ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" -eq 0 ] || { echo "docker-install: apt-get install failed ($rc)" >&2; exit "$rc"; }
    step_end "apt-get install (${#missing[@]} packages)"
else
    echo "docker-install: Debian packages already installed (${DEB_PACKAGES[*]})"
fi

# ------------------------------------------- 2. compose + buildx plugins ---
need_plugins=()
for p in "${PLUGINS[@]}"; do
    plugin_ok "$p" || need_plugins+=("$p")
done
if [ "${#need_plugins[@]}" -gt 0 ]; then
    mirror=$(debian_mirror_uri)
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial" "$APT_PRIV/debs"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$mirror" "$SUITE" >"$APT_PRIV/sources.list"
    APT_PRIV_OPTS=(
        -o "Dir::Etc::sourcelist=$APT_PRIV/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT_PRIV/lists"
        -o "Dir::Cache=$APT_PRIV/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "Acquire::Languages=none"
        -o "APT::Sandbox::User=root"
        -o "APT::Update::Post-Invoke-Success::="
    )
    step_start "apt-get update (private $SUITE list, $mirror)"
    apt-get "${APT_PRIV_OPTS[@]}" update -qq
    step_end "apt-get update ($SUITE, private)"

    step_start "apt-get download docker-compose docker-buildx ($SUITE)"
    rm -f "$APT_PRIV"/debs/*.deb
    (cd "$APT_PRIV/debs" && apt-get "${APT_PRIV_OPTS[@]}" download -qq docker-compose docker-buildx)
    step_end "apt-get download (2 .debs)"

    step_start "dpkg-deb -x + install into $PLUGIN_DIR"
    x="$APT_PRIV/extract"
    rm -rf "$x"
    mkdir -p "$x" "$PLUGIN_DIR"
    for deb in "$APT_PRIV"/debs/*.deb; do
        dpkg-deb -x "$deb" "$x"
    done
    for p in "${PLUGINS[@]}"; do
        src=$(find "$x" -path "*/cli-plugins/docker-$p" \( -type f -o -type l \) | head -n1)
        if [ -z "$src" ]; then
            echo "docker-install: docker-$p not found in the $SUITE .deb" >&2
            exit 1
        fi
        install -m 0755 "$(readlink -f "$src")" "$PLUGIN_DIR/docker-$p"
    done
    rm -rf "$x" "$APT_PRIV"/debs/*.deb
    step_end "plugins installed"
else
    echo "docker-install: compose + buildx plugins already in $PLUGIN_DIR"
fi

# ------------------------------------------------------------- 3. verify ---
step_start "verify"
for p in "${PLUGINS[@]}"; do
    plugin_ok "$p" || { echo "docker-install: docker-$p plugin does not run" >&2; exit 1; }
done
for b in dockerd containerd runc docker-registry busybox iptables; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || [ -x "/bin/$b" ] \
        || { echo "docker-install: $b missing" >&2; exit 1; }
done
[ -x /usr/bin/docker ] || { echo "docker-install: /usr/bin/docker (Debian client) missing" >&2; exit 1; }
echo "docker-install: dockerd   $(dockerd --version 2>/dev/null | head -n1)"
echo "docker-install: client    /usr/bin/docker $(/usr/bin/docker --version 2>/dev/null)"
echo "docker-install: compose   $("$PLUGIN_DIR/docker-compose" version --short 2>/dev/null || true)"
echo "docker-install: buildx    $("$PLUGIN_DIR/docker-buildx" version 2>/dev/null | head -n1 || true)"
echo "docker-install: registry  $(docker-registry --version 2>/dev/null | head -n1 || true)"
step_end "verify"
echo "docker-install: done in $(elapsed_since "$T_ALL") s"
