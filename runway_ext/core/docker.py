"""Asking the docker CLI whether an engine answers: the one daemon probe every Docker hook and local mode use."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from runway_ext.core.errors import HookError
from runway_ext.core.log import redact

DAEMON_PROBE_TIMEOUT = 30.0
"""Seconds a daemon gets to answer ``docker version`` before it counts as not running."""
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def describe_host(env: Mapping[str, str]) -> str:
    """Where the docker client looks for its engine under ``env`` (``DOCKER_HOST`` or the default socket)."""
    return env.get("DOCKER_HOST") or f"the default socket ({DEFAULT_DOCKER_HOST})"


def probe_daemon(docker: str, env: Mapping[str, str], *, timeout: float = DAEMON_PROBE_TIMEOUT) -> tuple[str | None, str]:
    """``(server version, "")`` when the engine answers, else ``(None, why)``; never raises for a missing daemon."""
    try:
        probe = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer in {timeout:g}s"
    except OSError as error:
        return None, f"cannot run {docker}: {error.strerror}"
    version = probe.stdout.strip()
    if probe.returncode == 0 and version:
        return version, ""
    last = [line.strip() for line in probe.stderr.strip().splitlines()[-1:]]
    return None, redact(" ".join(last)) or f"exit code {probe.returncode}"


def require_daemon(docker: str, env: Mapping[str, str], *, timeout: float = DAEMON_PROBE_TIMEOUT) -> str:
    """The engine's version; an engine that does not answer is a :class:`HookError` saying how to point at one."""
    version, why = probe_daemon(docker, env, timeout=timeout)
    if version is None:
        raise HookError(
            f"docker daemon unreachable at {describe_host(env)} ({why}); "
            f"start Docker or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST={DEFAULT_DOCKER_HOST})"
        )
    return version
