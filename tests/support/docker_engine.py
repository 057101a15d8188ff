"""A real, private Docker engine + registry for tests (stdlib only).

:class:`DockerEngine` starts, under a directory the caller gives:

* ``dockerd`` (Debian's 20.10) on its own unix socket, with its own data-root,
  exec-root, pidfile and an empty ``daemon.json``, and an environment whose
  proxy variables point at a closed port so that any accidental pull from an
  internet registry fails at once;
* an iptables rule ``DOCKER-USER -o <default-route interface> -j DROP`` so no
  container (nor a BuildKit ``RUN`` step) can reach beyond this machine;
* ``docker-registry`` (distribution 2.8) on ``127.0.0.1:<port>`` with
  filesystem storage under the same directory;
* a base image (default ``runway-ext/busybox:latest``) made locally with
  ``docker import`` of a rootfs tarball built here from the ``busybox-static``
  binary.  Nothing is ever pulled.

:meth:`DockerEngine.stop` kills what was started by pid and undoes what the
start changed on the host: iptables rules and chains, FORWARD policy, the
``docker0`` bridge, ``ip_forward``.  One engine runs at a time per host
(an ``flock`` serialises them) because dockerd's iptables chains and the
``docker0`` bridge are host-wide.

The host needs root and ``.ci/docker-install.sh`` (docker.io, docker-registry,
busybox-static, and the compose/buildx CLI plugins).  Use
:func:`engine_unavailable_reason` to skip tests with a one-line reason.

Example::

    with DockerEngine(tmp_dir) as engine:
        subprocess.run(["docker", "build", "."], env=engine.env(), check=True)
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import io
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "PROXY_GUARD",
    "DockerEngine",
    "DockerEngineError",
    "build_busybox_rootfs",
    "buildx_available",
    "compose_command",
    "compose_read_env_file",
    "compose_unavailable_reason",
    "docker_cli",
    "engine_unavailable_reason",
    "find_executable",
    "free_port",
    "multiarch_unavailable_reason",
    "running_docker_engine",
]

DEFAULT_BASE_IMAGE = "runway-ext/busybox:latest"

#: Where ``.ci/multiarch-install.sh`` unpacks Debian's ``busybox-static:arm64`` (``bin/busybox`` below it).
ARM64_ROOT = Path(os.environ.get("RUNWAY_EXT_ARM64_ROOT", "/var/cache/runway-ext/arm64"))
BINFMT_AARCH64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
MULTIARCH_PLATFORMS: tuple[str, ...] = ("linux/amd64", "linux/arm64")
MULTIARCH_INSTALL_HINT = "run: bash .ci/multiarch-install.sh (qemu-user-static, binfmt-support, busybox-static:arm64)"

#: Proxy variables that make any pull from an internet registry fail at once.
PROXY_GUARD: dict[str, str] = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "localhost,127.0.0.1",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "localhost,127.0.0.1",
}

#: Docker CLI plugin dirs searched by both the 20.10 and the 28 clients.
PLUGIN_DIRS: tuple[str, ...] = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)

_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_LOCK_FILE = Path(tempfile.gettempdir()) / "runway-ext-docker-engine.lock"
_IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class DockerEngineError(RuntimeError):
    """The engine, the registry or the base image could not be set up."""


# --------------------------------------------------------------- discovery ---
def find_executable(name: str) -> str | None:
    """Return the path of ``name`` on ``PATH`` or in the sbin dirs, else None."""
    path = os.environ.get("PATH", "") + os.pathsep + _SBIN_PATH
    return shutil.which(name, path=path)


def docker_cli() -> str | None:
    """Return the docker client to use.

    ``$RUNWAY_EXT_DOCKER_CLI`` wins; then Debian's ``/usr/bin/docker`` (the
    20.10 client that matches dockerd 20.10 exactly); then ``docker`` on
    PATH (e.g. a v28 client, which negotiates API 1.41 down by itself;
    :meth:`DockerEngine.env` also pins ``DOCKER_API_VERSION``).
    """
    override = os.environ.get("RUNWAY_EXT_DOCKER_CLI")
    if override:
        return override if os.access(override, os.X_OK) else None
    if os.access("/usr/bin/docker", os.X_OK):
        return "/usr/bin/docker"
    return find_executable("docker")


def _plugin_path(name: str) -> str | None:
    dirs = []
    if os.environ.get("DOCKER_CONFIG"):
        dirs.append(os.path.join(os.environ["DOCKER_CONFIG"], "cli-plugins"))
    dirs.append(os.path.join(os.path.expanduser("~"), ".docker", "cli-plugins"))
    dirs.extend(PLUGIN_DIRS)
    for d in dirs:
        candidate = os.path.join(d, f"docker-{name}")
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def compose_command() -> list[str] | None:
    """Return the argv prefix for compose v2 (``[docker, "compose"]``) or None."""
    cli = docker_cli()
    if cli and _plugin_path("compose"):
        return [cli, "compose"]
    return None


def buildx_available() -> bool:
    """True when the ``docker buildx`` CLI plugin is installed."""
    return docker_cli() is not None and _plugin_path("buildx") is not None


def engine_unavailable_reason() -> str | None:
    """Say in one line why :class:`DockerEngine` cannot start here, or None."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "docker engine: needs Linux"
    if os.geteuid() != 0:
        return "docker engine: needs root (rootful dockerd, iptables)"
    missing = [
        name
        for name in ("dockerd", "containerd", "runc", "docker-registry", "busybox", "iptables")
        if find_executable(name) is None
    ]
    if docker_cli() is None:
        missing.append("docker (client)")
    if missing:
        return f"docker engine: missing {', '.join(missing)} (run: bash .ci/docker-install.sh)"
    if not Path("/sys/fs/cgroup").is_dir():
        return "docker engine: no /sys/fs/cgroup"
    return None


def multiarch_unavailable_reason() -> str | None:
    """Say in one line why linux/arm64 images cannot be built and run here, or None.

    Needs QEMU registered with binfmt_misc (``qemu-aarch64``, enabled, flag ``F``), Debian's arm64
    busybox unpacked under :data:`ARM64_ROOT` and the buildx plugin.
    """
    if not buildx_available():
        return "multi-platform: the docker buildx plugin is missing (run: bash .ci/docker-install.sh)"
    try:
        registration = BINFMT_AARCH64.read_text()
    except OSError:
        return f"multi-platform: no QEMU for arm64 registered with binfmt_misc ({MULTIARCH_INSTALL_HINT})"
    if not registration.startswith("enabled") or not any(
        line.startswith("flags:") and "F" in line for line in registration.splitlines()
    ):
        return f"multi-platform: qemu-aarch64 is not enabled with flag F in binfmt_misc ({MULTIARCH_INSTALL_HINT})"
    if not os.access(ARM64_ROOT / "bin" / "busybox", os.X_OK):
        return f"multi-platform: no arm64 busybox in {ARM64_ROOT} ({MULTIARCH_INSTALL_HINT})"
    return None


def compose_unavailable_reason() -> str | None:
    """Say in one line why ``docker compose`` cannot run here, or None."""
    if docker_cli() is None:
        return "docker compose: no docker client (run: bash .ci/docker-install.sh)"
    if _plugin_path("compose") is None:
        return "docker compose: plugin missing (run: bash .ci/docker-install.sh)"
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------- base image ---
def _is_static_elf(path: str) -> bool:
    """True when ``path`` is an ELF64 binary without a PT_INTERP header."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        endian = "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(endian + "Q", head, 0x20)[0]
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        if struct.unpack_from(endian + "I", table, i * phentsize)[0] == 3:  # PT_INTERP
            return False
    return True


def build_busybox_rootfs(busybox: str | None = None) -> bytes:
    """Return an uncompressed tar of a minimal rootfs made of busybox.

    Contents: ``/bin/busybox``, one symlink per applet (from
    ``busybox --list-full``), ``/etc/passwd`` and ``/etc/group`` (root and
    nobody), and empty ``/tmp`` (1777), ``/root``, ``/proc``, ``/sys``,
    ``/dev``, ``/var``.  Entries are sorted with a fixed mtime, so the
    tarball (and the imported layer) is reproducible.
    """
    busybox = busybox or find_executable("busybox")
    if not busybox:
        raise DockerEngineError("busybox not found (apt-get install busybox-static)")
    busybox = os.path.realpath(busybox)
    if not _is_static_elf(busybox):
        raise DockerEngineError(f"{busybox} is not a static binary (install busybox-static)")
    listing = subprocess.run(
        [busybox, "--list-full"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    mtime = 946684800  # 2000-01-01, fixed for reproducibility
    buf = io.BytesIO()

    def add(name: str, kind: bytes, mode: int, data: bytes = b"", target: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, mtime
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if kind == tarfile.SYMTYPE:
            info.linkname = target
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "var", "root", "tmp", "home"}
    applets = sorted({p.strip("/") for p in listing if p.strip("/") and p.strip("/") != "bin/busybox"})
    for applet in applets:
        parent = os.path.dirname(applet)
        while parent:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    with open(busybox, "rb") as f:
        binary = f.read()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d in sorted(dirs):
            add(d, tarfile.DIRTYPE, {"tmp": 0o1777, "root": 0o700}.get(d, 0o755))
        add("bin/busybox", tarfile.REGTYPE, 0o755, binary)
        add("etc/passwd", tarfile.REGTYPE, 0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        for applet in applets:
            add(applet, tarfile.SYMTYPE, 0o777, target="/bin/busybox")
    return buf.getvalue()


# ------------------------------------------------------------- unix socket ---
class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _api_get(sock_path: str, url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = _UnixHTTPConnection(sock_path, timeout)
    try:
        conn.request("GET", url)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ----------------------------------------------------------- host changes ---
def _default_route_interfaces() -> list[str]:
    """Interfaces carrying an IPv4 default route (from /proc/net/route)."""
    out: list[str] = []
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000" and fields[0] not in out:
            out.append(fields[0])
    return out


def _iptables_rules(iptables: str, table: str) -> list[str]:
    res = subprocess.run([iptables, "-w", "-t", table, "-S"], capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise DockerEngineError(f"iptables -t {table} -S failed: {res.stderr.strip()}")
    return [line for line in res.stdout.splitlines() if line.startswith(("-N ", "-A ", "-P "))]


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _write(path: str, value: str) -> None:
    try:
        Path(path).write_text(value + "\n")
    except OSError:
        pass


def _kill_pid(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _read(f"/proc/{pid}/stat")
    return not (stat and stat.rsplit(")", 1)[-1].split()[0] == "Z")


# ------------------------------------------------------------------ engine ---
class DockerEngine:
    """A private dockerd + registry + locally built base image.

    Args:
        workdir: directory for everything (socket, data-root, exec-root,
            pidfile, logs, registry storage, docker config).  Created if
            missing; the caller removes it afterwards.
        registry_port: port for the registry on 127.0.0.1 (default: a free one).
        base_image: name the busybox rootfs is imported as.
        storage_driver: dockerd ``--storage-driver``.
        start_timeout: seconds to wait for each of dockerd / registry.
        lock_timeout: seconds to wait for another engine on this host to stop.

    Attributes (valid after :meth:`start`): ``docker_host``
    (``unix:///…/docker.sock``), ``registry`` (``127.0.0.1:PORT``),
    ``base_image``, ``api_version`` (the daemon's, e.g. ``1.41``), ``docker``
    (client path), ``egress_interfaces``.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        registry_port: int | None = None,
        base_image: str = DEFAULT_BASE_IMAGE,
        storage_driver: str = "overlay2",
        start_timeout: float = 60.0,
        lock_timeout: float = 600.0,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.registry_port = registry_port
        self.base_image = base_image
        self.storage_driver = storage_driver
        self.start_timeout = start_timeout
        self.lock_timeout = lock_timeout
        self.docker = docker_cli() or "docker"
        self.docker_host = ""
        self.registry = ""
        self.api_version = ""
        self.egress_interfaces: list[str] = []
        self.timings: dict[str, float] = {}
        self._sock = ""
        self._dockerd: subprocess.Popen[bytes] | None = None
        self._registry: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._iptables = find_executable("iptables") or "iptables"
        self._before: dict[str, Any] = {}
        self._started = False
        self._multiarch_base: str | None = None

    # -- context manager ---------------------------------------------------
    def __enter__(self) -> DockerEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public -------------------------------------------------------------
    def start(self) -> DockerEngine:
        """Start dockerd, drop egress, start the registry, import the base image."""
        reason = engine_unavailable_reason()
        if reason:
            raise DockerEngineError(reason)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._started = True
        try:
            self._acquire_lock()
            t0 = time.monotonic()
            self._snapshot_host()
            self._start_dockerd()
            self._drop_egress()
            self.timings["dockerd"] = time.monotonic() - t0
            t0 = time.monotonic()
            self._start_registry()
            self.timings["registry"] = time.monotonic() - t0
            t0 = time.monotonic()
            self._import_base_image()
            self.timings["base_image"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for docker/compose/buildx subprocesses talking to this engine.

        Sets ``DOCKER_HOST``, ``DOCKER_API_VERSION`` (the daemon's),
        ``DOCKER_CONFIG`` (private, empty), the proxy guard, ``BUILDX_NO_DEFAULT_ATTESTATIONS``,
        and prepends :attr:`bin_dir` (whose ``docker`` is :attr:`docker`) to ``PATH``;
        drops ``DOCKER_CONTEXT``/``DOCKER_TLS*``/``DOCKER_CERT_PATH``.
        """
        env = dict(os.environ if base is None else base)
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(key, None)
        env.update(self.environment())
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", ""), _SBIN_PATH])
        return env

    @property
    def bin_dir(self) -> Path:
        """Dir holding a ``docker`` symlink to :attr:`docker` (prepend it to ``PATH``)."""
        return self.workdir / "bin"

    def environment(self) -> dict[str, str]:
        """The variables :meth:`env` sets, ``PATH`` aside (for ``monkeypatch.setenv``)."""
        out = {
            "DOCKER_HOST": self.docker_host,
            "DOCKER_CONFIG": str(self.workdir / "docker-config"),
            "BUILDX_NO_DEFAULT_ATTESTATIONS": "1",
            "COMPOSE_PROGRESS": "plain",
        }
        if self.api_version:
            out["DOCKER_API_VERSION"] = self.api_version
        out.update(PROXY_GUARD)
        return out

    def run_docker(
        self, *args: str, timeout: float = 300, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS…`` against this engine; return the text result."""
        res = subprocess.run(
            [self.docker, *args],
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and res.returncode != 0:
            raise DockerEngineError(f"docker {shlex.join(args)} exited {res.returncode}: {res.stderr.strip()[-2000:]}")
        return res

    def stop(self) -> None:
        """Kill the registry and dockerd by pid and undo the host changes. Idempotent."""
        if not self._started:
            return
        self._started = False
        errors: list[str] = []
        if self._registry is not None:
            _kill_pid(self._registry.pid, 10)
            self._registry.wait(timeout=5)
            self._registry = None
        if self._dockerd is not None:
            _kill_pid(self._dockerd.pid, 30)
            try:
                self._dockerd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                errors.append("dockerd did not exit")
            self._dockerd = None
        self._kill_leftovers()
        self._unmount_leftovers()
        try:
            self._restore_host()
        except Exception as exc:
            errors.append(str(exc))
        self._release_lock()
        if errors:
            raise DockerEngineError("; ".join(errors))

    def multiarch_base_image(self) -> str:
        """A ``linux/amd64`` + ``linux/arm64`` busybox base in the local registry, as one image index (made on first use).

        ``REGISTRY/runway-ext/busybox:multiarch``: the amd64 image is :attr:`base_image`; the arm64 one is
        built ``FROM scratch`` from Debian's arm64 busybox with ``--platform linux/arm64`` (dockerd 20.10
        ignores ``docker import --platform``), both pushed, then joined by ``docker buildx imagetools
        create``. A build ``FROM`` it for either platform gets that platform's image from the local
        registry. Raises :class:`DockerEngineError` naming :func:`multiarch_unavailable_reason`.
        """
        if self._multiarch_base is not None:
            return self._multiarch_base
        reason = multiarch_unavailable_reason()
        if reason:
            raise DockerEngineError(reason)
        repository = f"{self.registry}/runway-ext/busybox"
        amd64, arm64, index = f"{repository}:amd64", f"{repository}:arm64", f"{repository}:multiarch"
        self.run_docker("tag", self.base_image, amd64)
        self.run_docker("push", amd64)
        with tempfile.TemporaryDirectory(prefix="rwx-arm64-") as folder:
            Path(folder, "rootfs.tar").write_bytes(build_busybox_rootfs(str(ARM64_ROOT / "bin" / "busybox")))
            Path(folder, "Dockerfile").write_text(
                f'FROM scratch\nADD rootfs.tar /\nENV {_IMAGE_PATH_ENV}\nCMD ["/bin/sh"]\n'
            )
            self.run_docker(
                "buildx", "build", "--load", "--provenance=false", "--platform", "linux/arm64", "--tag", arm64, folder
            )
        self.run_docker("push", arm64)
        self.run_docker("buildx", "imagetools", "create", "--tag", index, amd64, arm64)
        self._multiarch_base = index
        return index

    def log_tail(self, name: str = "dockerd", lines: int = 30) -> str:
        """Last lines of ``dockerd.log`` or ``registry.log`` (for error messages)."""
        text = _read(str(self.workdir / f"{name}.log")) or ""
        return "\n".join(text.splitlines()[-lines:])

    # -- lock -----------------------------------------------------------------
    def _acquire_lock(self) -> None:
        fd = os.open(_LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise DockerEngineError(f"another DockerEngine holds {_LOCK_FILE} (waited {self.lock_timeout:.0f} s)") from None
                time.sleep(0.5)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- host snapshot / restore ------------------------------------------------
    def _snapshot_host(self) -> None:
        self._before = {
            "filter": _iptables_rules(self._iptables, "filter"),
            "nat": _iptables_rules(self._iptables, "nat"),
            "docker0": Path("/sys/class/net/docker0").exists(),
            "ip_forward": _read("/proc/sys/net/ipv4/ip_forward"),
            "bridge_nf": _read("/proc/sys/net/bridge/bridge-nf-call-iptables"),
        }

    def _restore_host(self) -> None:
        if not self._before:
            return
        before, self._before = self._before, {}
        for table in ("filter", "nat"):
            self._restore_table(table, before[table])
        if not before["docker0"] and Path("/sys/class/net/docker0").exists():
            subprocess.run(["ip", "link", "delete", "docker0"], capture_output=True, timeout=30)
        if before["ip_forward"] is not None:
            _write("/proc/sys/net/ipv4/ip_forward", before["ip_forward"])
        if before["bridge_nf"] is not None:
            _write("/proc/sys/net/bridge/bridge-nf-call-iptables", before["bridge_nf"])

    def _restore_table(self, table: str, before: list[str]) -> None:
        """Delete rules/chains added since the snapshot; restore chain policies."""
        now = _iptables_rules(self._iptables, table)
        extra = Counter(now) - Counter(before)
        ipt = [self._iptables, "-w", "-t", table]
        # rules first (jumps from built-in chains), newest-last order reversed
        for line in reversed(now):
            if line.startswith("-A ") and extra[line] > 0:
                extra[line] -= 1
                subprocess.run([*ipt, "-D", *shlex.split(line)[1:]], capture_output=True, timeout=30)
        new_chains = [line.split()[1] for line in now if line.startswith("-N ") and line not in before]
        for chain in new_chains:
            subprocess.run([*ipt, "-F", chain], capture_output=True, timeout=30)
        for chain in new_chains:
            subprocess.run([*ipt, "-X", chain], capture_output=True, timeout=30)
        for line in before:
            if line.startswith("-P ") and line not in now:
                subprocess.run([*ipt, *shlex.split(line)], capture_output=True, timeout=30)

    def _drop_egress(self) -> None:
        self.egress_interfaces = _default_route_interfaces()
        for iface in self.egress_interfaces:
            res = subprocess.run(
                [self._iptables, "-w", "-I", "DOCKER-USER", "-o", iface, "-j", "DROP"],
                capture_output=True, text=True, timeout=30,
            )
            if res.returncode != 0:
                raise DockerEngineError(f"cannot drop container egress on {iface}: {res.stderr.strip()}")

    # -- dockerd ------------------------------------------------------------------
    def _start_dockerd(self) -> None:
        w = self.workdir
        sock = w / "docker.sock"
        if len(str(sock)) > 100:  # sun_path limit is 108 bytes
            short = Path(tempfile.mkdtemp(prefix="rwx-dk-"))
            sock = short / "docker.sock"
        self._sock = str(sock)
        for sub in ("data", "exec", "bin", "docker-config"):
            (w / sub).mkdir(exist_ok=True)
        (w / "daemon.json").write_text("{}\n")
        (w / "docker-config" / "config.json").write_text("{}\n")
        shim = w / "bin" / "docker"
        if shim.is_symlink() or shim.exists():
            shim.unlink()
        shim.symlink_to(self.docker)
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("DOCKER_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"))}
        env["PATH"] = _SBIN_PATH + os.pathsep + env.get("PATH", "")
        env.update(PROXY_GUARD)
        argv = [
            find_executable("dockerd") or "dockerd",
            f"--host=unix://{sock}",
            f"--data-root={w / 'data'}",
            f"--exec-root={w / 'exec'}",
            f"--pidfile={w / 'dockerd.pid'}",
            f"--config-file={w / 'daemon.json'}",
            f"--storage-driver={self.storage_driver}",
            "--iptables=true",
            "--ip-forward=true",
            "--shutdown-timeout=5",
            "--log-level=warn",
        ]
        with open(w / "dockerd.log", "ab") as log:
            self._dockerd = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=w, start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._dockerd.poll() is not None:
                raise DockerEngineError(f"dockerd exited {self._dockerd.returncode}: {self.log_tail()}")
            try:
                status, body = _api_get(self._sock, "/_ping", timeout=2)
                if status == 200 and body.strip() == b"OK":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise DockerEngineError(f"dockerd not ready in {self.start_timeout:.0f} s: {self.log_tail()}")
            time.sleep(0.1)
        self.docker_host = f"unix://{sock}"
        _, body = _api_get(self._sock, "/version")
        self.api_version = str(json.loads(body).get("ApiVersion", ""))

    def _kill_leftovers(self) -> None:
        """Kill processes still running from our exec-root (containerd, shims)."""
        marker = str(self.workdir / "exec")
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and int(proc.name) != os.getpid():
                _kill_pid(int(proc.name), 5)

    def _unmount_leftovers(self) -> None:
        prefixes = [str(self.workdir) + "/"]
        if self._sock and not self._sock.startswith(prefixes[0]):
            prefixes.append(os.path.dirname(self._sock) + "/")
        mounts = (_read("/proc/mounts") or "").splitlines()
        targets = [m.split()[1].replace("\\040", " ") for m in mounts if len(m.split()) > 1]
        for target in sorted((t for t in targets if t.startswith(tuple(prefixes))), key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True, timeout=30)
        if len(prefixes) > 1:
            shutil.rmtree(prefixes[1], ignore_errors=True)

    # -- registry -----------------------------------------------------------------
    def _start_registry(self) -> None:
        w = self.workdir
        port = self.registry_port or free_port()
        storage = w / "registry"
        storage.mkdir(exist_ok=True)
        config = w / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {json.dumps(str(storage))}\n"
            "  delete:\n    enabled: true\n"
            "  maintenance:\n    uploadpurging:\n      enabled: false\n"
            "http:\n"
            f"  addr: 127.0.0.1:{port}\n"
            f"  secret: {secrets.token_hex(16)}\n"
            "  headers:\n    X-Content-Type-Options: [nosniff]\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("REGISTRY_")}
        env.update(PROXY_GUARD)
        with open(w / "registry.log", "ab") as log:
            self._registry = subprocess.Popen(
                [find_executable("docker-registry") or "docker-registry", "serve", str(config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=w, start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}/v2/"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._registry.poll() is not None:
                raise DockerEngineError(f"docker-registry exited {self._registry.returncode}: {self.log_tail('registry')}")
            try:
                with opener.open(url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise DockerEngineError(f"registry not ready in {self.start_timeout:.0f} s: {self.log_tail('registry')}")
            time.sleep(0.1)
        self.registry_port = port
        self.registry = f"127.0.0.1:{port}"

    # -- base image ---------------------------------------------------------------
    def _import_base_image(self) -> None:
        rootfs = build_busybox_rootfs()
        res = subprocess.run(
            [self.docker, "import", "--change", f"ENV {_IMAGE_PATH_ENV}",
             "--change", 'CMD ["/bin/sh"]', "-", self.base_image],
            input=rootfs, capture_output=True, env=self.env(), timeout=120,
        )
        if res.returncode != 0:
            raise DockerEngineError(f"docker import failed: {res.stderr.decode(errors='replace').strip()}")


@contextlib.contextmanager
def running_docker_engine(workdir: str | os.PathLike[str], **kwargs: Any) -> Iterator[DockerEngine]:
    """A started :class:`DockerEngine` for the duration of the block (kwargs as the class)."""
    engine = DockerEngine(workdir, **kwargs).start()
    try:
        yield engine
    finally:
        engine.stop()


# ------------------------------------------------------------ compose helper ---
def _unescape_compose(value: str) -> str:
    # `compose config` re-escapes a literal "$" as "$$" so its output stays a valid compose file
    return value.replace("$$", "$")


def compose_read_env_file(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> dict[str, str]:
    """Parse ``path`` exactly as ``docker compose`` does for ``env_file:``.

    Runs ``docker compose config --format json`` on a throw-away project
    whose one service has ``env_file: [path]`` and returns that service's
    environment.  No daemon is needed.  ``environ`` is the environment
    compose interpolates ``${VAR}`` from (default: an empty one, so the
    result depends on the file alone; ``DOCKER_CONFIG``/``DOCKER_HOST`` are
    always private); a bare ``KEY`` line whose variable is unset there is
    left out of the result (compose maps it to null).  Literal ``$`` comes
    back as ``$`` (compose's ``$$`` escaping of its output is undone).

    Raises:
        DockerEngineError: compose is missing, or rejects the file.
    """
    cmd = compose_command()
    if cmd is None:
        raise DockerEngineError(compose_unavailable_reason() or "docker compose unavailable")
    env_file = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="rwx-envfile-") as tmp:
        compose_file = Path(tmp) / "compose.json"
        compose_file.write_text(json.dumps({
            "services": {"envfile": {"image": "runway-ext/none:never", "env_file": [str(env_file)]}}
        }))
        (Path(tmp) / "config").mkdir()
        env = dict(environ or {})
        env.update({"DOCKER_CONFIG": str(Path(tmp) / "config"), "DOCKER_HOST": f"unix://{tmp}/no-daemon.sock"})
        res = subprocess.run(
            [*cmd, "--project-directory", tmp, "-p", "rwx-envfile", "-f", str(compose_file),
             "config", "--format", "json"],
            capture_output=True, text=True, env=env, cwd=tmp, timeout=timeout,
        )
    if res.returncode != 0:
        raise DockerEngineError(f"docker compose config rejected {env_file}: {res.stderr.strip()}")
    service = json.loads(res.stdout)["services"]["envfile"]
    raw = service.get("environment") or {}
    return {k: _unescape_compose(v) for k, v in raw.items() if v is not None}


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.support.docker_engine [--multiarch] [DIR]``: start, print, wait for Ctrl-C.

    ``--multiarch``: ``BASE_IMAGE`` is the two-platform base (:meth:`DockerEngine.multiarch_base_image`), or,
    when this machine cannot build arm64, the one-platform base with a ``MULTIARCH=`` line saying why.
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    multiarch = "--multiarch" in args
    args = [arg for arg in args if arg != "--multiarch"]
    reason = engine_unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    workdir = args[0] if args else tempfile.mkdtemp(prefix="rwx-docker-")
    with contextlib.ExitStack() as stack:
        if not args:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        engine = stack.enter_context(DockerEngine(workdir))
        print(f"DOCKER_HOST={engine.docker_host}")
        print(f"REGISTRY={engine.registry}")
        base = engine.base_image
        if multiarch:
            reason = multiarch_unavailable_reason()
            if reason:
                print(f"MULTIARCH={reason}")
            else:
                base = engine.multiarch_base_image()
        print(f"BASE_IMAGE={base}")
        print(f"TIMINGS={json.dumps({k: round(v, 2) for k, v in engine.timings.items()})}", flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
