"""Which local tools a local run can use (the user's Docker engine, a local registry, the sam CLI), as switches.

Local mode never starts a Docker engine and never touches the host's firewall or network interfaces. It uses
the engine the user already has (``DOCKER_HOST``, else the docker client's default socket) and a registry on
127.0.0.1 for the images it builds:

1. ``RUNWAY_EXT_REGISTRY`` when the caller sets it (``host:port``), used as is;
2. else Debian's ``docker-registry`` binary when it is installed, started on a free 127.0.0.1 port with its
   storage in a temporary folder, stopped by its pid afterwards;
3. else a ``registry`` container, when the engine already holds the image (nothing is pulled) and runs on this
   machine, started with the host's network on a free 127.0.0.1 port (so no port mapping and no firewall rule),
   removed afterwards;
4. else the image steps are switched off with a one-line notice.

The sample project (and any project written the same way) reads the switches through ``${env …}`` lookups in
runway.yml: ``RUNWAY_EXT_CONTAINERS`` (image, service stack, compose), ``RUNWAY_EXT_SAM`` (the SAM app),
``RUNWAY_EXT_REGISTRY`` (where images are pushed), ``RUNWAY_EXT_BASE_IMAGE`` (a base image already on the
engine, passed through when the caller sets it) and ``RUNWAY_EXT_PLATFORMS`` (the image platforms: linux/amd64
and linux/arm64 when the engine can build both from that base, else those it can, with a notice saying why
the other was skipped; a value the caller sets is used as is).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runway_ext.core.docker import describe_host, probe_daemon
from runway_ext.core.errors import HookError
from runway_ext.core.log import get_logger
from runway_ext.local.moto_server import free_port

LOG = get_logger("runway_ext.local")
DockerMode = Literal["auto", "off"]
REGISTRY_BINARY = "docker-registry"
"""Debian's package ``docker-registry`` installs the distribution registry under this name."""
REGISTRY_IMAGES = ("registry:2", "registry:latest")
"""Registry images used when the engine already has one of them (never pulled)."""
REGISTRY_START_TIMEOUT = 20.0
PASSED_THROUGH = ("RUNWAY_EXT_REGISTRY", "RUNWAY_EXT_BASE_IMAGE", "RUNWAY_EXT_PLATFORMS")
IMAGE_PLATFORMS = ("linux/amd64", "linux/arm64")
"""The platforms the sample's image is built for when the engine can."""
DEFAULT_BASE_IMAGE = "busybox:1.36"
PROBE_TIMEOUT = 30.0
_CONTAINER_SWITCH_OFF = "image, service stack and compose steps are skipped"


@dataclass
class LocalTools:
    """What this run has, as environment variables for Runway, plus one notice per missing tool."""

    environment: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


@contextmanager
def local_tools(docker: DockerMode = "auto", *, registry: str | None = None) -> Iterator[LocalTools]:
    """Find the tools for one local run (starting a local registry when needed); stop what was started afterwards.

    ``registry`` (``host:port``): the registry a ``runway-ext local serve`` owns, used instead of starting one.
    """
    tools = LocalTools()
    with ExitStack() as stack:
        _add_docker(tools, docker, stack, registry)
        sam = shutil.which("sam")
        tools.environment["RUNWAY_EXT_SAM"] = "true" if sam else "false"
        if not sam:
            tools.notices.append("sam: CLI not found on PATH (pip install aws-sam-cli); the SAM step is skipped")
        yield tools


def _switch_off(tools: LocalTools, notice: str) -> None:
    tools.environment["RUNWAY_EXT_CONTAINERS"] = "false"
    tools.notices.append(notice)


def _add_docker(tools: LocalTools, mode: DockerMode, stack: ExitStack, given_registry: str | None = None) -> None:
    """Use the user's engine with a local registry, or switch the container steps off with one notice."""
    if mode == "off":
        _switch_off(tools, f"docker: switched off (--docker off); {_CONTAINER_SWITCH_OFF}")
        return
    client = shutil.which("docker")
    if client is None:
        _switch_off(tools, f"docker: no docker client on PATH; {_CONTAINER_SWITCH_OFF}")
        return
    version, why = probe_daemon(client, os.environ)
    if version is None:
        _switch_off(tools, f"docker: no engine answers at {describe_host(os.environ)} ({why}); {_CONTAINER_SWITCH_OFF}")
        return
    registry = given_registry or os.environ.get("RUNWAY_EXT_REGISTRY", "").strip() or _start_registry(client, stack)
    if registry is None:
        _switch_off(
            tools,
            "docker: no local registry (install Debian's docker-registry, load the registry:2 image into the engine, "
            f"or set RUNWAY_EXT_REGISTRY); {_CONTAINER_SWITCH_OFF}",
        )
        return
    LOG.info("docker: engine %s at %s, images pushed to %s", version, describe_host(os.environ), registry)
    tools.environment.update({"RUNWAY_EXT_CONTAINERS": "true", "RUNWAY_EXT_REGISTRY": registry})
    if os.environ.get("RUNWAY_EXT_BASE_IMAGE"):
        tools.environment["RUNWAY_EXT_BASE_IMAGE"] = os.environ["RUNWAY_EXT_BASE_IMAGE"]
    _add_platforms(tools, client, os.environ.get("RUNWAY_EXT_BASE_IMAGE") or DEFAULT_BASE_IMAGE)


def _add_platforms(tools: LocalTools, client: str, base: str) -> None:
    """``RUNWAY_EXT_PLATFORMS``: the caller's, else each of :data:`IMAGE_PLATFORMS` the engine can build from ``base``."""
    given = os.environ.get("RUNWAY_EXT_PLATFORMS", "").strip()
    if given:
        tools.environment["RUNWAY_EXT_PLATFORMS"] = given
        return
    builder = _probe(client, "buildx", "inspect")
    offered = {
        item.strip().rstrip("*")
        for line in builder.splitlines()
        if line.strip().startswith("Platforms:")
        for item in line.split(":", 1)[1].split(",")
    }
    in_engine = _probe(client, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", base).strip()
    platforms = []
    for platform in IMAGE_PLATFORMS:
        if builder and platform not in offered:
            why = "no QEMU for it is registered with binfmt_misc (apt-get install qemu-user-static binfmt-support)"
        elif not builder and platform != IMAGE_PLATFORMS[0]:
            why = "the docker buildx plugin is missing"
        elif in_engine and in_engine != platform:
            why = f"the base image {base} on the engine is {in_engine} only (set RUNWAY_EXT_BASE_IMAGE to a multi-platform base)"
        else:
            platforms.append(platform)
            continue
        tools.notices.append(f"docker: the image is not built for {platform}: {why}")
    chosen = platforms or [IMAGE_PLATFORMS[0]]
    LOG.info("docker: images built for %s", ", ".join(chosen))
    tools.environment["RUNWAY_EXT_PLATFORMS"] = ",".join(chosen)


def _probe(client: str, *argv: str) -> str:
    """The standard output of a quick docker command, ``""`` when it fails."""
    try:
        done = subprocess.run([client, *argv], capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False)  # argv list
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _start_registry(client: str, stack: ExitStack) -> str | None:
    """Start a registry on a free 127.0.0.1 port and return ``127.0.0.1:PORT``; ``None`` when none can run."""
    binary = shutil.which(REGISTRY_BINARY) or next(
        (str(path) for path in (Path("/usr/bin") / REGISTRY_BINARY, Path("/usr/sbin") / REGISTRY_BINARY) if path.is_file()), None
    )
    if binary is not None:
        return _start_registry_binary(binary, stack)
    if _engine_is_local(os.environ):
        image = next((name for name in REGISTRY_IMAGES if _engine_has_image(client, name)), None)
        if image is not None:
            return _start_registry_container(client, image, stack)
    return None


def _start_registry_binary(binary: str, stack: ExitStack) -> str:
    """``docker-registry serve`` on 127.0.0.1 with storage in a temporary folder; killed by pid when the run ends."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="runway-ext-registry-")))
    address = f"127.0.0.1:{free_port()}"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}\n",
        encoding="utf-8",
    )
    log_file = (folder / "registry.log").open("wb")
    stack.callback(log_file.close)
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    stack.callback(_stop_process, process)
    _wait_for_registry(address, lambda: process.poll() is None)
    LOG.info("started a local registry (%s, pid %d) at %s", REGISTRY_BINARY, process.pid, address)
    return address


def _start_registry_container(client: str, image: str, stack: ExitStack) -> str | None:
    """A registry container on the host's network (no port mapping, no firewall rule), removed when the run ends.

    ``None`` (with a warning naming the engine's answer) when the engine refuses to start it.
    """
    address = f"127.0.0.1:{free_port()}"
    started = subprocess.run(
        [client, "run", "--detach", "--rm", "--pull", "never", "--network", "host", "--env", f"REGISTRY_HTTP_ADDR={address}", image],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    container = started.stdout.strip()
    if started.returncode != 0 or not container:
        LOG.warning(
            "docker: could not start a registry container from %s: %s", image, started.stderr.strip().splitlines()[-1:] or "no output"
        )
        return None
    stack.callback(
        subprocess.run, [client, "rm", "--force", container], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
    )
    _wait_for_registry(address, lambda: True)
    LOG.info("started a local registry (container %s from %s) at %s", container[:12], image, address)
    return address


def _engine_is_local(environ: Mapping[str, str]) -> bool:
    """Whether the engine shares this machine's network (a unix socket), so 127.0.0.1 means the same host for both."""
    host = environ.get("DOCKER_HOST", "")
    return not host or host.startswith("unix://")


def _engine_has_image(client: str, image: str) -> bool:
    done = subprocess.run([client, "image", "inspect", image], stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def _wait_for_registry(address: str, alive: Callable[[], bool]) -> None:
    """Wait until ``GET /v2/`` answers (bounded); a registry that dies or stays silent is an error."""
    deadline = time.monotonic() + REGISTRY_START_TIMEOUT
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if not alive():
            raise HookError(f"the local registry at {address} exited at start")
        try:
            with opener.open(f"http://{address}/v2/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise HookError(f"the local registry at {address} did not answer in {REGISTRY_START_TIMEOUT:g}s")


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process this run started, by its pid: SIGTERM, then SIGKILL after 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
