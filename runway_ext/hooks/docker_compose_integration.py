"""Start, stop and report a Docker Compose project (the ``docker compose`` v2 CLI plugin).

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.docker_compose_integration.start_containers_hook
        enabled: ${docker_compose_enabled}
        args:
          compose_file: docker-compose.yml
          services: [api-public, worker]
          env_file: .env.compose
          wait_timeout: 300
    post_deploy:
      - path: runway_ext.hooks.docker_compose_integration.status_hook
    post_destroy:
      - path: runway_ext.hooks.docker_compose_integration.stop_containers_hook
        enabled: ${docker_compose_enabled}
        args:
          remove_volumes: true

Start runs ``docker compose up -d --pull never --wait --wait-timeout N``: compose leaves containers
whose configuration is unchanged alone, so starting a healthy project is a no-op (reported as
``unchanged``). When services do not become healthy in time, the error names each of them with its
state and last log lines. Stop runs ``down`` (``cleanup``, with ``-v`` for ``remove_volumes``) or
``stop``. The project name is fixed (``project_name``, else the compose file's folder normalised as
compose does), so start, stop and status always address the same containers. CLI::

    python -m runway_ext.hooks.docker_compose_integration start --services api-public worker --build --wait-timeout 600
    python -m runway_ext.hooks.docker_compose_integration stop --cleanup --remove-volumes
    python -m runway_ext.hooks.docker_compose_integration status
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..compose_status import (
    MISSING,
    PROJECT_NAME,
    SERVICE_NAME,
    ComposeOutputError,
    ServiceStatus,
    changed_services,
    clean_log_lines,
    not_ready,
    parse_ps_output,
    parse_service_list,
    project_name_from_folder,
    render_status_table,
    status_from_dict,
    summarise_services,
    unknown_services,
)
from ..core.args import HookArgs
from ..core.errors import HookError
from ..core.hook import HookContext, HookGroup, hook, run_module
from ..core.log import get_logger
from ..core.process import find_executable, run_process

INSTALL_HINT = "install the Docker CLI with the Compose v2 plugin (https://docs.docker.com/compose/install/linux/)"
QUERY_TIMEOUT = 60.0
"""Seconds allowed for a quick compose query (version, config, ps, logs)."""
SHUTDOWN_GRACE = 120.0
"""Seconds allowed beyond a command's own timeout before it is killed."""
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

_PROBE_LOG = get_logger("runway_ext.hooks.docker_compose_integration.probe")
_PROBE_LOG.setLevel(logging.WARNING)  # availability probes: their output goes into the error, not the log


# -- arguments --------------------------------------------------------------------------------------
class ComposeArgs(HookArgs):
    """Arguments shared by start, stop and status: which project and which services."""

    compose_file: Path = Path("docker-compose.yml")
    """Compose file (relative to working_directory)."""

    services: list[str] = []
    """Services to act on (default: every service of the compose file)."""

    project_name: str | None = None
    """Compose project name (default: the compose file's folder name, normalised as compose does)."""

    env_file: Path | None = None
    """Environment file for variable interpolation in the compose file (docker compose --env-file); must exist."""

    working_directory: Path | None = None
    """Folder the relative paths are resolved from and compose runs in (default: the current directory)."""

    @field_validator("services", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: list[str]) -> list[str]:
        for name in services:
            if not SERVICE_NAME.match(name):
                raise ValueError(f"invalid service name {name!r} (expected letters, digits, '.', '_', '-', not starting with '-')")
        return list(dict.fromkeys(services))

    @field_validator("project_name")
    @classmethod
    def _project_name(cls, name: str | None) -> str | None:
        if name is not None and not PROJECT_NAME.match(name):
            raise ValueError(f"invalid project name {name!r} (lowercase letters, digits, '_' and '-', starting with a letter or digit)")
        return name


class StartArgs(ComposeArgs):
    """Arguments of the start hook."""

    build: bool = False
    """Rebuild the services' images first (docker compose build); otherwise only missing images are built."""

    wait_timeout: int = Field(300, gt=0)
    """Seconds to wait for the services to be healthy (or running, without a healthcheck)."""

    health_check: bool = True
    """Wait for healthy/running (docker compose up --wait); false returns once the containers are started."""

    pull: Literal["never", "missing", "always", "policy"] = "never"
    """Image pulls during up: never (default: images must be local or built), missing, always, or policy (the file's pull_policy)."""

    build_timeout: int = Field(1800, gt=0)
    """Seconds allowed for building images."""

    log_lines: int = Field(20, ge=0)
    """Log lines shown for each service that did not become healthy."""


class StopArgs(ComposeArgs):
    """Arguments of the stop hook."""

    cleanup: bool = True
    """Remove the containers and the project network (docker compose down); false only stops them."""

    remove_volumes: bool = False
    """Also remove the project's named and anonymous volumes (down -v); needs cleanup."""

    timeout: int = Field(30, ge=0)
    """Seconds each container gets to stop after SIGTERM before it is killed."""

    @field_validator("remove_volumes")
    @classmethod
    def _volumes_need_cleanup(cls, remove_volumes: bool, info: ValidationInfo) -> bool:
        if remove_volumes and not info.data.get("cleanup", True):
            raise ValueError("needs cleanup: true (volumes are removed together with the containers)")
        return remove_volumes


class StatusArgs(ComposeArgs):
    """Arguments of the status hook."""


# -- results ------------------------------------------------------------------------------------------
class StartResult(BaseModel):
    """What start did (hook_data ``runway_ext.docker_compose_start``)."""

    project: str
    compose_file: str
    action: Literal["started", "unchanged"]
    changed: list[str]
    ready: bool
    built: bool
    waited: bool
    elapsed_seconds: float
    services: list[dict[str, Any]]


class StopResult(BaseModel):
    """What stop did (hook_data ``runway_ext.docker_compose_stop``)."""

    project: str
    compose_file: str
    action: Literal["removed", "stopped", "already-stopped", "absent"]
    services: list[str]
    volumes_removed: list[str]
    elapsed_seconds: float


class StatusResult(BaseModel):
    """The project's state (hook_data ``runway_ext.docker_compose_status``)."""

    project: str
    compose_file: str
    ready: bool
    not_ready: list[str]
    services: list[dict[str, Any]]


# -- the project and the compose command line -------------------------------------------------------
@dataclass(frozen=True)
class ComposeProject:
    """A compose project located on disk: its name, files and the folder compose runs in."""

    name: str
    compose_file: Path
    env_file: Path | None
    working_directory: Path
    docker: str = "docker"

    def argv(self, *command: str) -> list[str]:
        """``docker compose`` with this project's global flags, then ``command``."""
        base = [self.docker, "compose", "--ansi", "never", "--progress", "plain", "--project-name", self.name, "--file", str(self.compose_file)]
        if self.env_file is not None:
            base += ["--env-file", str(self.env_file)]
        return [*base, *command]


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


def up_argv(args: StartArgs, *, built: bool) -> list[str]:
    """``up`` in the background, never pulling unless asked, waiting bounded by ``wait_timeout``."""
    argv = ["up", "--detach", "--pull", args.pull]
    if built:
        argv.append("--no-build")
    if args.health_check:
        argv += ["--wait", "--wait-timeout", str(args.wait_timeout)]
    return [*argv, *args.services]


def stop_argv(args: StopArgs) -> list[str]:
    """``down`` (with ``--volumes``) when cleaning up, else ``stop``; always with the stop timeout."""
    if args.cleanup:
        argv = ["down", "--timeout", str(args.timeout)]
        if args.remove_volumes:
            argv.append("--volumes")
    else:
        argv = ["stop", "--timeout", str(args.timeout)]
    return [*argv, *args.services]


def compose_major_version(text: str) -> int | None:
    """The major version in ``docker compose version --short`` output (``2.26.1-4``, ``v2.29.0``)."""
    match = re.match(r"\s*v?(\d+)\.", text)
    return int(match.group(1)) if match else None


# -- talking to docker ------------------------------------------------------------------------------
def connect(project: ComposeProject) -> ComposeProject:
    """Find ``docker``, its compose v2 plugin and a daemon that answers; fail in one line saying how to fix it."""
    docker = find_executable("docker", install_hint=INSTALL_HINT)
    version = run_process(
        [docker, "compose", "version", "--short"], what="docker compose version", timeout=QUERY_TIMEOUT,
        capture_stdout=True, check=False, logger=_PROBE_LOG,
    )
    major = compose_major_version(version.stdout) if version.returncode == 0 else None
    if major is None or major < 2:
        found = f"found {version.stdout.strip()}" if version.returncode == 0 else "'docker compose' is not a docker command"
        raise HookError(f"docker compose v2 is not available ({found}): {INSTALL_HINT}; the old docker-compose v1 is not supported")
    server = run_process(
        [docker, "version", "--format", "{{.Server.Version}}"], what="docker version", timeout=QUERY_TIMEOUT,
        capture_stdout=True, check=False, logger=_PROBE_LOG,
    )
    if server.returncode != 0 or not server.stdout.strip():
        host = os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        said = f" ({server.tail[-1].strip()})" if server.tail else ""
        raise HookError(f"no Docker daemon answers at {host}{said}: start dockerd, or set DOCKER_HOST to a running engine")
    return ComposeProject(project.name, project.compose_file, project.env_file, project.working_directory, docker)


def _query(project: ComposeProject, ctx: HookContext, *command: str) -> str:
    """Run a quick compose query and return what it printed."""
    return run_process(
        project.argv(*command), what=f"docker compose {command[0]}", timeout=QUERY_TIMEOUT,
        cwd=project.working_directory, capture_stdout=True, logger=ctx.log,
    ).stdout


def requested_services(project: ComposeProject, args: ComposeArgs, ctx: HookContext) -> list[str]:
    """The services to act on: those asked for (all must exist in the compose file) or all of them, by name."""
    defined = sorted(parse_service_list(_query(project, ctx, "config", "--services")))  # compose's order varies
    unknown = unknown_services(args.services, defined)
    if unknown:
        raise HookError(
            f"services: {', '.join(unknown)} not in {project.compose_file.name} (it defines: {', '.join(defined) or 'nothing'})"
        )
    return list(args.services) or defined


def service_statuses(project: ComposeProject, services: Sequence[str], ctx: HookContext) -> list[ServiceStatus]:
    """Each service's state from ``docker compose ps --all --format json``."""
    try:
        containers = parse_ps_output(_query(project, ctx, "ps", "--all", "--format", "json"))
    except ComposeOutputError as error:
        raise HookError(str(error)) from None
    return summarise_services(containers, services)


def service_logs(project: ComposeProject, service: str, lines: int, ctx: HookContext) -> list[str]:
    """The last ``lines`` log lines of one service (empty if compose cannot give them)."""
    if lines <= 0:
        return []
    result = run_process(
        project.argv("logs", "--no-color", "--no-log-prefix", "--tail", str(lines), service),
        what=f"docker compose logs {service}", timeout=QUERY_TIMEOUT, cwd=project.working_directory,
        capture_stdout=True, check=False, logger=_PROBE_LOG,
    )
    return clean_log_lines(result.stdout, lines) if result.returncode == 0 else []


def project_volumes(project: ComposeProject) -> list[str]:
    """Names of the volumes labelled as this project's."""
    result = run_process(
        [project.docker, "volume", "ls", "--quiet", "--filter", f"label=com.docker.compose.project={project.name}"],
        what="docker volume ls", timeout=QUERY_TIMEOUT, capture_stdout=True, logger=_PROBE_LOG,
    )
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())


def not_ready_error(
    project: ComposeProject, failing: Sequence[ServiceStatus], args: StartArgs, elapsed: float, ctx: HookContext
) -> HookError:
    """The error for services that did not come up: each named with its state, then its last log lines."""
    lines = [
        f"services not healthy after {elapsed:.0f}s (wait_timeout {args.wait_timeout}s, project {project.name}): "
        + ", ".join(status.describe() for status in failing)
        + "; containers left as they are for inspection (stop them with the stop action)"
    ]
    for status in failing:
        logs = service_logs(project, status.service, args.log_lines, ctx)
        lines.append(f"{status.service}: last {len(logs)} log lines:" if logs else f"{status.service}: no log output")
        lines.extend(f"    {line}" for line in logs)
    return HookError("\n".join(lines))


# -- rendering for the CLI --------------------------------------------------------------------------
def _table(result: dict[str, Any]) -> str:
    return render_status_table([status_from_dict(row) for row in result.get("services", [])])


def render_start(result: dict[str, Any]) -> str:
    """CLI output of start: one line saying what happened, then the status table."""
    if result["action"] == "unchanged":
        head = f"project {result['project']}: already up; nothing changed"
    else:
        head = f"project {result['project']}: started {', '.join(result['changed'])} in {result['elapsed_seconds']:.1f}s"
    return f"{head}\n{_table(result)}"


def render_stop(result: dict[str, Any]) -> str:
    """CLI output of stop: one line."""
    what = {
        "removed": "stopped and removed",
        "stopped": "stopped",
        "already-stopped": "already stopped",
        "absent": "nothing to stop (no containers)",
    }[result["action"]]
    line = f"project {result['project']}: {', '.join(result['services'])}: {what} in {result['elapsed_seconds']:.1f}s"
    if result["volumes_removed"]:
        line += f"; volumes removed: {', '.join(result['volumes_removed'])}"
    return line


def render_status(result: dict[str, Any]) -> str:
    """CLI output of status: the table, then a summary line."""
    tail = "all ready" if result["ready"] else f"not ready: {', '.join(result['not_ready'])}"
    return f"{_table(result)}\nproject {result['project']}: {tail}"


# -- the hooks --------------------------------------------------------------------------------------
@hook(
    "docker_compose_start",
    StartArgs,
    summary="Start docker compose services and wait until they are healthy (never pulls by default).",
    render=render_start,
)
def start_containers_hook(args: StartArgs, ctx: HookContext) -> StartResult:
    """Build if asked, ``up`` the services and wait for them; name the ones that do not come up."""
    project = connect(locate_project(args, untouched="nothing was started"))
    services = requested_services(project, args, ctx)
    before = service_statuses(project, services, ctx)
    if before and not not_ready(before):
        ctx.log.debug("project %s: %s already up; letting compose apply any configuration change", project.name, ", ".join(services))
    started = time.monotonic()
    if args.build:
        run_process(
            project.argv("build", *args.services), what="docker compose build", timeout=args.build_timeout,
            cwd=project.working_directory, logger=ctx.log,
        )
    up_timeout = (args.wait_timeout if args.health_check else 0) + (0 if args.build else args.build_timeout) + SHUTDOWN_GRACE
    try:
        run_process(
            project.argv(*up_argv(args, built=args.build)), what="docker compose up", timeout=up_timeout,
            cwd=project.working_directory, logger=ctx.log,
        )
    except HookError as error:
        failing = not_ready(service_statuses(project, services, ctx))
        if not failing or all(status.state == MISSING for status in failing):
            raise  # compose failed before creating containers (image, build, config): its own output says why
        ctx.log.debug("%s", error)
        raise not_ready_error(project, failing, args, time.monotonic() - started, ctx) from None
    after = service_statuses(project, services, ctx)
    elapsed = round(time.monotonic() - started, 2)
    failing = not_ready(after)
    if args.health_check and failing:  # up --wait succeeded, yet a service went down right after
        raise not_ready_error(project, failing, args, elapsed, ctx)
    changed = changed_services(before, after)
    if changed:
        ctx.log.info("project %s: started %s in %.1fs", project.name, ", ".join(changed), elapsed)
    else:
        ctx.log.info("project %s: %s already up; nothing changed", project.name, ", ".join(services))
    return StartResult(
        project=project.name,
        compose_file=str(project.compose_file),
        action="started" if changed else "unchanged",
        changed=changed,
        ready=not failing,
        built=args.build,
        waited=args.health_check,
        elapsed_seconds=elapsed,
        services=[status.as_dict() for status in after],
    )


@hook(
    "docker_compose_stop",
    StopArgs,
    summary="Stop docker compose services (down: also remove containers, and volumes if asked).",
    render=render_stop,
)
def stop_containers_hook(args: StopArgs, ctx: HookContext) -> StopResult:
    """``down`` or ``stop`` the services; say so when there was nothing to stop."""
    project = connect(locate_project(args, untouched="nothing was stopped"))
    services = requested_services(project, args, ctx)
    before = service_statuses(project, services, ctx)
    volumes_before = project_volumes(project) if args.remove_volumes else []
    started = time.monotonic()
    run_process(
        project.argv(*stop_argv(args)), what=f"docker compose {'down' if args.cleanup else 'stop'}",
        timeout=args.timeout + SHUTDOWN_GRACE, cwd=project.working_directory, logger=ctx.log,
    )
    elapsed = round(time.monotonic() - started, 2)
    removed_volumes = sorted(set(volumes_before) - set(project_volumes(project))) if args.remove_volumes else []
    existing = [status for status in before if status.containers]
    if not existing:
        action = "absent"
    elif args.cleanup:
        action = "removed"
    elif all(status.state in ("exited", "dead", "created") for status in existing):
        action = "already-stopped"
    else:
        action = "stopped"
    ctx.log.info(
        "project %s: %s %s%s", project.name, ", ".join(services),
        {"absent": "had no containers", "removed": "stopped and removed", "stopped": "stopped", "already-stopped": "were already stopped"}[action],
        f"; volumes removed: {', '.join(removed_volumes)}" if removed_volumes else "",
    )
    return StopResult(
        project=project.name,
        compose_file=str(project.compose_file),
        action=action,
        services=services,
        volumes_removed=removed_volumes,
        elapsed_seconds=elapsed,
    )


@hook(
    "docker_compose_status",
    StatusArgs,
    summary="Report each docker compose service's state and health.",
    render=render_status,
)
def status_hook(args: StatusArgs, ctx: HookContext) -> StatusResult:
    """Each service's state and health, from ``docker compose ps``."""
    project = connect(locate_project(args))
    services = requested_services(project, args, ctx)
    statuses = service_statuses(project, services, ctx)
    failing = [status.service for status in not_ready(statuses)]
    ctx.log.info(
        "project %s: %s", project.name,
        ", ".join(f"{status.service} {status.state}" for status in statuses) or "no services",
    )
    return StatusResult(
        project=project.name,
        compose_file=str(project.compose_file),
        ready=not failing,
        not_ready=failing,
        services=[status.as_dict() for status in statuses],
    )


COMMAND = HookGroup(
    "docker_compose_integration",
    {"start": start_containers_hook, "stop": stop_containers_hook, "status": status_hook},
    summary="Start, stop or report a docker compose project (compose v2).",
)

if __name__ == "__main__":
    run_module(COMMAND)
