"""Which local tools a local run can use (a Docker engine + registry, the sam CLI), and the switches it sets.

The sample project (and any project written the same way) reads these switches through
``${env …}`` lookups in runway.yml: ``RUNWAY_EXT_CONTAINERS`` (image, service stack, compose),
``RUNWAY_EXT_SAM`` (the SAM app), ``RUNWAY_EXT_REGISTRY`` (where images are pushed) and
``RUNWAY_EXT_BASE_IMAGE`` (a base image already on the engine: nothing is pulled in local mode).
A missing tool is said in one line; the steps that need it then fail visibly (not required) instead
of pretending to succeed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..core.log import get_logger

LOG = get_logger("runway_ext.local")
DockerMode = Literal["auto", "off"]


@dataclass
class LocalTools:
    """What this run has, as environment variables for Runway, plus one notice per missing tool."""

    environment: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def _engine_answers(environment: dict[str, str]) -> bool:
    """Whether the docker client reaches an engine with ``environment``."""
    client = shutil.which("docker")
    if client is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - argv list
            [client, "version", "--format", "{{.Server.Version}}"],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


@contextmanager
def local_tools(docker: DockerMode = "auto") -> Iterator[LocalTools]:
    """Find (or start) the tools for one local run; stop what was started afterwards."""
    tools = LocalTools()
    with ExitStack() as stack:
        _add_docker(tools, docker, stack)
        sam = shutil.which("sam")
        tools.environment["RUNWAY_EXT_SAM"] = "true" if sam else "false"
        if not sam:
            tools.notices.append("sam: CLI not found on PATH (pip install aws-sam-cli, or bash .ci/sam-install.sh); the SAM step will fail")
        yield tools


def _add_docker(tools: LocalTools, mode: DockerMode, stack: ExitStack) -> None:
    """Use the engine the caller points at, else start a private one, else switch containers off."""
    given = {name: os.environ[name] for name in ("DOCKER_HOST", "RUNWAY_EXT_REGISTRY", "RUNWAY_EXT_BASE_IMAGE") if name in os.environ}
    if mode == "off":
        tools.environment["RUNWAY_EXT_CONTAINERS"] = "false"
        tools.notices.append("docker: switched off (--docker off); image, service stack and compose steps are skipped or fail")
        return
    if "DOCKER_HOST" in given and "RUNWAY_EXT_REGISTRY" in given and _engine_answers({}):
        tools.environment.update(given)
        tools.environment["RUNWAY_EXT_CONTAINERS"] = "true"
        if "RUNWAY_EXT_BASE_IMAGE" in given:
            tools.environment.setdefault("BASE_IMAGE", given["RUNWAY_EXT_BASE_IMAGE"])
        return
    from ..testing.docker_engine import DockerEngine, engine_unavailable_reason

    reason = engine_unavailable_reason()
    if reason:
        tools.environment["RUNWAY_EXT_CONTAINERS"] = "false"
        tools.notices.append(f"{reason}; image, service stack and compose steps will not run")
        return
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="runway-ext-docker-")))
    LOG.info("starting a private Docker engine and registry on this machine (nothing is pulled)")
    engine = DockerEngine(workdir).start()
    stack.callback(engine.stop)
    tools.environment.update(engine.environment())
    tools.environment.update(
        {"RUNWAY_EXT_REGISTRY": engine.registry, "RUNWAY_EXT_BASE_IMAGE": engine.base_image, "BASE_IMAGE": engine.base_image, "RUNWAY_EXT_CONTAINERS": "true"}
    )
    tools.environment["PATH"] = f"{engine.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
