"""The docker CLI as the hook runs it: find it, check its daemon, choose the builder, build, log in, push, inspect.

Contract: every call runs the ``docker`` on ``PATH`` with the caller's environment (so ``DOCKER_HOST``
and ``DOCKER_CONFIG`` apply), as an argv list bounded by a timeout, its output streamed to the hook's
log. A failure is a one-line :class:`HookError` with the program's last output. Secrets reach docker
only through stdin (the login password) or its environment (secret build args), never its argv.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...core.docker import require_daemon
from ...core.process import find_executable, run_process
from .plan import BuildCommand, Builder, login_command

INSTALL_HINT = "install Docker (the docker CLI, with the buildx plugin for BuildKit) or put docker on PATH"
BUILDX_PROBE_TIMEOUT = 30.0
LOGIN_TIMEOUT = 120.0
INSPECT_TIMEOUT = 60.0


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

    def build(self, command: BuildCommand, *, cwd: Path, timeout: float) -> None:
        """Run a build command with its extra environment."""
        run_process(command.argv, what="docker build", timeout=timeout, cwd=cwd, env={**self.env, **command.env}, logger=self.log)

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
