"""The docker CLI as the hook runs it: find it, check its daemon, choose the builder, build, log in, push, inspect.

Contract: every call runs the ``docker`` on ``PATH`` with the caller's environment (so ``DOCKER_HOST``
and ``DOCKER_CONFIG`` apply), as an argv list bounded by a timeout, its output streamed to the hook's
log. A failure is a one-line :class:`HookError` with the program's last output. Secrets reach docker
only through stdin (the login password) or its environment (secret build args), never its argv.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runway_ext.core.docker import require_daemon
from runway_ext.core.errors import HookError
from runway_ext.core.process import ProcessResult, find_executable, run_process
from runway_ext.hooks.docker_build_push.plan import BuildCommand, Builder, login_command

INSTALL_HINT = "install Docker (the docker CLI, with the buildx plugin for BuildKit) or put docker on PATH"
BUILDX_PROBE_TIMEOUT = 30.0
LOGIN_TIMEOUT = 120.0
INSPECT_TIMEOUT = 60.0
QEMU_HINT = (
    "no QEMU emulator for it is registered with binfmt_misc on the Docker engine's host "
    "(install it there: apt-get install qemu-user-static binfmt-support, then restart dockerd); nothing was built or pushed"
)
_BUILDER_PLATFORMS = re.compile(r"^\s*Platforms:\s*(?P<list>.+)$", re.MULTILINE)
_BASE_METADATA = re.compile(r"(?:load metadata for|resolve source metadata for) (?P<base>[^\s:]+(?::[^\s:]+)*?):?\s*$", re.MULTILINE)


def docker_environment() -> dict[str, str]:
    """The environment docker subprocesses get: the caller's."""
    return dict(os.environ)


@dataclass(frozen=True)
class DockerCli:
    """One docker client talking to one daemon."""

    executable: str
    env: Mapping[str, str]
    log: logging.Logger

    @classmethod
    def connect(cls, env: Mapping[str, str], log: logging.Logger) -> DockerCli:
        """The docker on ``PATH``, once its daemon answers (else a :class:`HookError` saying how to point at one)."""
        docker = find_executable("docker", install_hint=INSTALL_HINT)
        version = require_daemon(docker, env)
        log.debug("docker daemon %s answers", version)
        return cls(docker, dict(env), log)

    def choose_builder(self, requested: Literal["auto", "buildx", "docker"]) -> Builder:
        """``buildx`` when asked for or (``auto``) when the plugin answers, else the classic CLI with BuildKit on."""
        if requested != "auto":
            return requested
        try:
            probe = subprocess.run(  # argv list; a quick probe, not a streamed build
                [self.executable, "buildx", "version"],
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=BUILDX_PROBE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "docker"
        return "buildx" if probe.returncode == 0 else "docker"

    def builder_platforms(self) -> list[str]:
        """The platforms the buildx builder can build for (``docker buildx inspect``; emulated ones included)."""
        result = run_process(
            [self.executable, "buildx", "inspect"],
            what="docker buildx inspect",
            timeout=BUILDX_PROBE_TIMEOUT,
            env=self.env,
            capture_stdout=True,
            check=False,
            logger=self.log,
        )
        found = _BUILDER_PLATFORMS.search(result.stdout) if result.returncode == 0 else None
        if found is None:
            return []
        return [item.strip().rstrip("*") for item in found["list"].split(",") if item.strip()]

    def require_platforms(self, platforms: tuple[str, ...], *, multi: bool) -> None:
        """Fail in one line, before anything is built, when the builder cannot build one of ``platforms``.

        A multi-platform build needs the buildx plugin; a platform the builder does not list means no
        emulator for it (QEMU via binfmt_misc).
        """
        if multi and self.choose_builder("auto") != "buildx":
            raise HookError(f"platforms: building {', '.join(platforms)} needs the docker buildx plugin; {INSTALL_HINT}")
        supported = self.builder_platforms()
        if not supported:
            return  # no buildx to ask: the build itself says so
        for platform in platforms:
            if not any(_same_platform(platform, item) for item in supported):
                raise HookError(f"platforms: the Docker engine cannot build for {platform}: {QEMU_HINT}")

    def build(self, command: BuildCommand, *, cwd: Path, timeout: float, platform: str = "") -> None:
        """Run a build command with its extra environment; a base image without ``platform`` or no emulator is one line."""
        try:
            run_process(command.argv, what="docker build", timeout=timeout, cwd=cwd, env={**self.env, **command.env}, logger=self.log)
        except HookError as error:
            text = str(error)
            bases = _BASE_METADATA.findall(text)
            if "no match for platform" in text:
                base = bases[-1] if bases else "in FROM"
                raise HookError(
                    f"platforms: the base image {base} has no {platform} image (FROM in the Dockerfile); "
                    f"use a base built for {platform}, or leave {platform} out"
                ) from None
            if "exec format error" in text:
                raise HookError(f"platforms: a RUN step for {platform} could not start: {QEMU_HINT}") from None
            raise

    def run(self, argv: list[str], *, what: str, timeout: float) -> ProcessResult:
        """Run another docker command (its output streamed to the log)."""
        return run_process(argv, what=what, timeout=timeout, env=self.env, logger=self.log)

    def image_id(self, ref: str) -> str | None:
        """The local image id (``sha256:…``) of ``ref``, or ``None`` when docker does not know it."""
        result = run_process(
            [self.executable, "image", "inspect", "--format", "{{.Id}}", ref],
            what=f"inspecting {ref}",
            timeout=INSPECT_TIMEOUT,
            env=self.env,
            capture_stdout=True,
            check=False,
            logger=self.log,
        )
        if result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def login(self, registry: str, username: str, password: str) -> None:
        """``docker login --password-stdin``: the password goes through stdin only."""
        run_process(
            login_command(self.executable, registry, username),
            what=f"docker login to {registry}",
            timeout=LOGIN_TIMEOUT,
            env=self.env,
            stdin_text=password,
            logger=self.log,
        )

    def push(self, ref: str, *, timeout: float) -> None:
        """``docker push REF``."""
        run_process([self.executable, "push", ref], what=f"docker push {ref}", timeout=timeout, env=self.env, logger=self.log)


def _same_platform(wanted: str, offered: str) -> bool:
    """``linux/arm64`` is offered by ``linux/arm64`` and ``linux/arm64/v8``; a variant must match when asked for."""
    wanted_parts, offered_parts = wanted.split("/"), offered.split("/")
    if wanted_parts[:2] != offered_parts[:2]:
        return False
    return len(wanted_parts) < 3 or wanted_parts[2:] == offered_parts[2:]
