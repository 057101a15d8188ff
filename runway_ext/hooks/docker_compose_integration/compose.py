"""Talking to ``docker compose``: locating the project, checking the client and daemon, queries, runs.

Every call runs the real ``docker``/``docker compose`` CLI with an argument list (never a shell),
bounded by a timeout. What the output means is decided in :mod:`.plan`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from runway_ext.core.docker import require_daemon
from runway_ext.core.errors import HookError
from runway_ext.core.log import get_logger
from runway_ext.core.process import find_executable, run_process
from runway_ext.hooks.docker_compose_integration.args import ComposeArgs
from runway_ext.hooks.docker_compose_integration.plan import (
    ComposeOutputError,
    ComposeProject,
    ServiceStatus,
    clean_log_lines,
    compose_major_version,
    parse_ps_output,
    parse_service_list,
    project_name_from_folder,
    summarise_services,
)

INSTALL_HINT = "install the Docker CLI with the Compose v2 plugin (https://docs.docker.com/compose/install/linux/)"
QUERY_TIMEOUT = 60.0
"""Seconds allowed for a quick compose query (version, config, ps, logs)."""
SHUTDOWN_GRACE = 120.0
"""Seconds allowed beyond a command's own timeout before it is killed."""

_PROBE_LOG = get_logger("runway_ext.hooks.docker_compose_integration.probe")
_PROBE_LOG.setLevel(logging.WARNING)  # availability probes: their output goes into the error, not the log


def locate_project(args: ComposeArgs, cwd: Path | None = None, *, untouched: str = "nothing was done") -> ComposeProject:
    """Resolve the files and the project name; fail naming the field when a file is missing.

    ``untouched`` ends the missing env_file error (e.g. ``"nothing was started"``).
    """
    if args.working_directory is not None:
        folder = (cwd or Path.cwd()) / args.working_directory
        if not folder.is_dir():
            raise HookError(f"working_directory: {folder} is not a folder")
    else:
        folder = cwd or Path.cwd()
    folder = folder.resolve()
    compose_file = (folder / args.compose_file).resolve()
    if not compose_file.is_file():
        raise HookError(f"compose_file: {compose_file} not found")
    env_file = None
    if args.env_file is not None:
        env_file = (folder / args.env_file).resolve()
        if not env_file.is_file():
            raise HookError(f"env_file: {env_file} not found; {untouched}")
    try:
        name = args.project_name or project_name_from_folder(compose_file.parent.name)
    except ValueError as error:
        raise HookError(f"project_name: {error}") from None
    return ComposeProject(name=name, compose_file=compose_file, env_file=env_file, working_directory=folder)


def connect(project: ComposeProject) -> ComposeProject:
    """Find ``docker``, its compose v2 plugin and a daemon that answers; fail in one line saying how to fix it."""
    docker = find_executable("docker", install_hint=INSTALL_HINT)
    version = run_process(
        [docker, "compose", "version", "--short"],
        what="docker compose version",
        timeout=QUERY_TIMEOUT,
        capture_stdout=True,
        check=False,
        logger=_PROBE_LOG,
    )
    major = compose_major_version(version.stdout) if version.returncode == 0 else None
    if major is None or major < 2:
        found = f"found {version.stdout.strip()}" if version.returncode == 0 else "'docker compose' is not a docker command"
        raise HookError(f"docker compose v2 is not available ({found}): {INSTALL_HINT}; the old docker-compose v1 is not supported")
    require_daemon(docker, os.environ)
    return replace(project, docker=docker)


def query(project: ComposeProject, log: logging.Logger, *command: str) -> str:
    """Run a quick compose query and return what it printed."""
    return run_process(
        project.argv(*command),
        what=f"docker compose {command[0]}",
        timeout=QUERY_TIMEOUT,
        cwd=project.working_directory,
        capture_stdout=True,
        logger=log,
    ).stdout


def run_compose(project: ComposeProject, command: Sequence[str], *, timeout: float, log: logging.Logger) -> None:
    """Run a compose command that changes the project (build, up, down, stop), its output logged."""
    run_process(project.argv(*command), what=f"docker compose {command[0]}", timeout=timeout, cwd=project.working_directory, logger=log)


def defined_services(project: ComposeProject, log: logging.Logger) -> list[str]:
    """The services the compose file defines, sorted (compose's own order varies)."""
    return sorted(parse_service_list(query(project, log, "config", "--services")))


def service_statuses(project: ComposeProject, services: Sequence[str], log: logging.Logger) -> list[ServiceStatus]:
    """Each service's state from ``docker compose ps --all --format json``."""
    try:
        containers = parse_ps_output(query(project, log, "ps", "--all", "--format", "json"))
    except ComposeOutputError as error:
        raise HookError(str(error)) from None
    return summarise_services(containers, services)


def service_logs(project: ComposeProject, services: Sequence[str], lines: int) -> dict[str, list[str]]:
    """The last ``lines`` log lines of each service (empty for one compose cannot give them)."""
    if lines <= 0:
        return {service: [] for service in services}
    logs = {}
    for service in services:
        result = run_process(
            project.argv("logs", "--no-color", "--no-log-prefix", "--tail", str(lines), service),
            what=f"docker compose logs {service}",
            timeout=QUERY_TIMEOUT,
            cwd=project.working_directory,
            capture_stdout=True,
            check=False,
            logger=_PROBE_LOG,
        )
        logs[service] = clean_log_lines(result.stdout, lines) if result.returncode == 0 else []
    return logs


def project_volumes(project: ComposeProject) -> list[str]:
    """Names of the volumes labelled as this project's."""
    result = run_process(
        [project.docker, "volume", "ls", "--quiet", "--filter", f"label=com.docker.compose.project={project.name}"],
        what="docker volume ls",
        timeout=QUERY_TIMEOUT,
        capture_stdout=True,
        logger=_PROBE_LOG,
    )
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())
