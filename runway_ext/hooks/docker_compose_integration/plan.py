"""What to do with a compose project, decided from data: pure functions, no I/O.

* :func:`parse_ps_output` reads ``docker compose ps --format json`` (one JSON object per line
  since compose 2.21, one JSON array before that; empty when nothing exists).
* :func:`summarise_services` folds containers into one :class:`ServiceStatus` per service, with a
  state out of ``healthy``/``running``/``starting``/``unhealthy``/``exited``/… and whether it is
  ready (healthy, or running without a healthcheck) — the same rule as ``docker compose up --wait``.
* :class:`ComposeProject`, :func:`up_argv` and :func:`stop_argv` build the command lines.
* :func:`select_services`, :func:`start_action`, :func:`services_to_blame`, :func:`stop_action` and
  :func:`removed_volumes` classify what a start or a stop did, or failed to do.
* :func:`project_name_from_folder` applies compose's own project name normalisation.
* :func:`render_status_table`, :func:`not_ready_message` and :func:`clean_log_lines` make what a person reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_compose_integration.args import StartAction, StartArgs, StopAction, StopArgs

READY_STATES = frozenset({"healthy", "running"})
"""Service states that count as up: healthy, or running without a healthcheck."""

MISSING = "missing"
"""The state of a service that has no container at all."""

# Worst first wins when a service has several containers (scale > 1).
_SEVERITY = {
    "healthy": 0,
    "running": 1,
    "starting": 2,
    "created": 3,
    "paused": 3,
    "restarting": 4,
    "removing": 4,
    "unhealthy": 5,
    "exited": 6,
    "dead": 6,
}
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


class ComposeOutputError(ValueError):
    """``docker compose`` printed something that is not the JSON we asked for."""


@dataclass(frozen=True)
class ContainerStatus:
    """One container as ``docker compose ps --format json`` describes it."""

    service: str
    name: str
    container_id: str
    state: str
    """Docker's state: running, exited, created, restarting, paused, removing, dead."""
    health: str = ""
    """Healthcheck status: healthy, unhealthy, starting, or empty without a healthcheck."""
    exit_code: int = 0
    status: str = ""
    """Docker's human text, e.g. ``Up 3 seconds (healthy)``."""
    one_off: bool = False
    """A ``docker compose run`` container (not part of the service's normal set)."""

    @property
    def condition(self) -> str:
        """This container's state in one word (see :func:`classify`)."""
        return classify(self.state, self.health)


@dataclass(frozen=True)
class ServiceStatus:
    """One service's state, folded over its containers."""

    service: str
    state: str
    health: str = ""
    containers: int = 0
    exit_code: int | None = None
    status: str = ""
    container_ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ready(self) -> bool:
        """Whether the service is up: healthy, or running without a healthcheck."""
        return self.state in READY_STATES

    def describe(self) -> str:
        """``name (state)``, with the exit code for an exited service."""
        if self.state in ("exited", "dead") and self.exit_code is not None:
            return f"{self.service} ({self.state} {self.exit_code})"
        return f"{self.service} ({self.state})"

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready form stored in hook_data."""
        return {
            "service": self.service,
            "state": self.state,
            "health": self.health,
            "ready": self.ready,
            "containers": self.containers,
            "exit_code": self.exit_code,
            "status": self.status,
        }


def status_from_dict(data: Mapping[str, Any]) -> ServiceStatus:
    """Rebuild a :class:`ServiceStatus` from :meth:`ServiceStatus.as_dict` (``ready`` is derived, not read)."""
    exit_code = data.get("exit_code")
    return ServiceStatus(
        service=str(data.get("service", "")),
        state=str(data.get("state", "")),
        health=str(data.get("health") or ""),
        containers=int(data.get("containers") or 0),
        exit_code=int(exit_code) if exit_code is not None else None,
        status=str(data.get("status") or ""),
    )


def classify(state: str, health: str) -> str:
    """One word for a container: its health while running with a healthcheck, else docker's state."""
    state = (state or "").strip().lower()
    health = (health or "").strip().lower()
    if state == "running":
        return health if health in ("healthy", "unhealthy", "starting") else "running"
    return state or "unknown"


def parse_ps_output(text: str) -> list[ContainerStatus]:
    """Parse ``docker compose ps --format json``: JSON lines (compose ≥ 2.21), a JSON array (older), or nothing."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        if stripped.startswith("["):
            rows = json.loads(stripped)
        else:
            rows = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except json.JSONDecodeError as error:
        raise ComposeOutputError(f"docker compose ps printed invalid JSON ({error.msg}): {stripped[:120]!r}") from None
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise ComposeOutputError(f"docker compose ps printed unexpected JSON: {stripped[:120]!r}")
    return [_container(row) for row in rows]


def _container(row: Mapping[str, Any]) -> ContainerStatus:
    service = row.get("Service")
    if not isinstance(service, str) or not service:
        raise ComposeOutputError(f"docker compose ps row without a service name: {dict(row)!r}")
    try:
        exit_code = int(row.get("ExitCode") or 0)
    except (TypeError, ValueError):
        exit_code = 0
    return ContainerStatus(
        service=service,
        name=str(row.get("Name") or row.get("Names") or ""),
        container_id=str(row.get("ID") or ""),
        state=str(row.get("State") or "").lower(),
        health=str(row.get("Health") or "").lower(),
        exit_code=exit_code,
        status=str(row.get("Status") or ""),
        one_off=_label(row.get("Labels"), "com.docker.compose.oneoff").lower() == "true",
    )


def _label(labels: Any, key: str) -> str:
    """A label's value from ``ps`` output: a ``k=v,k=v`` string (compose v2) or a mapping."""
    if isinstance(labels, Mapping):
        return str(labels.get(key, ""))
    if isinstance(labels, str):
        for pair in labels.split(","):
            name, _, value = pair.partition("=")
            if name.strip() == key:
                return value.strip()
    return ""


def summarise_services(containers: Iterable[ContainerStatus], services: Sequence[str]) -> list[ServiceStatus]:
    """One status per service in ``services`` (in that order), ``missing`` where no container exists.

    One-off containers (``docker compose run``) are left out; with several containers (scale) the
    worst one speaks for the service.
    """
    by_service: dict[str, list[ContainerStatus]] = {}
    for container in containers:
        if container.one_off:
            continue
        by_service.setdefault(container.service, []).append(container)
    summary: list[ServiceStatus] = []
    for service in services:
        members = sorted(by_service.get(service, []), key=lambda c: c.name)
        if not members:
            summary.append(ServiceStatus(service=service, state=MISSING))
            continue
        worst = max(members, key=lambda c: _SEVERITY.get(c.condition, 7))
        summary.append(
            ServiceStatus(
                service=service,
                state=worst.condition,
                health=worst.health,
                containers=len(members),
                exit_code=worst.exit_code if worst.state in ("exited", "dead") else None,
                status=worst.status,
                container_ids=tuple(c.container_id for c in members),
            )
        )
    return summary


def not_ready(statuses: Iterable[ServiceStatus]) -> list[ServiceStatus]:
    """The services that are not up (not healthy, and not running without a healthcheck)."""
    return [status for status in statuses if not status.ready]


def changed_services(before: Sequence[ServiceStatus], after: Sequence[ServiceStatus]) -> list[str]:
    """Services a start changed: not ready before, or now running in other containers."""
    previous = {status.service: status for status in before}
    changed = []
    for status in after:
        old = previous.get(status.service)
        if old is None or not old.ready or old.container_ids != status.container_ids:
            changed.append(status.service)
    return changed


def unknown_services(requested: Iterable[str], defined: Iterable[str]) -> list[str]:
    """Requested service names the compose file does not define, in request order."""
    known = set(defined)
    return [name for name in requested if name not in known]


def project_name_from_folder(folder_name: str) -> str:
    """Compose's default project name for a folder: lowercase, only ``[a-z0-9_-]``, starting with a letter or digit.

    Raises ``ValueError`` when nothing usable is left (e.g. a folder named ``___``).
    """
    kept = "".join(re.findall(r"[a-z0-9_-]", folder_name.lower()))
    name = kept.lstrip("_-")
    if not name:
        raise ValueError(f"folder name {folder_name!r} gives no valid compose project name; set project_name")
    return name


def parse_service_list(text: str) -> list[str]:
    """The service names ``docker compose config --services`` printed, one per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def clean_log_lines(text: str, limit: int) -> list[str]:
    """The last ``limit`` non-empty lines of ``docker compose logs`` output, terminal escapes removed."""
    if limit <= 0:
        return []
    lines = [_ANSI_ESCAPE.sub("", line).rstrip() for line in text.splitlines()]
    return [line for line in lines if line.strip()][-limit:]


def render_status_table(statuses: Sequence[ServiceStatus]) -> str:
    """A plain aligned table: SERVICE, STATE, READY, CONTAINERS, STATUS."""
    header = ("SERVICE", "STATE", "READY", "CONTAINERS", "STATUS")
    rows = [
        (
            status.service,
            status.state,
            "yes" if status.ready else "no",
            str(status.containers),
            status.status or "-",
        )
        for status in statuses
    ]
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


# -- the project and its command lines --------------------------------------------------------------
@dataclass(frozen=True)
class ComposeProject:
    """A compose project located on disk: its name, files, the folder compose runs in and the docker client."""

    name: str
    compose_file: Path
    env_file: Path | None
    working_directory: Path
    docker: str = "docker"

    def argv(self, *command: str) -> list[str]:
        """``docker compose`` with this project's global flags, then ``command``."""
        base = [
            self.docker,
            "compose",
            "--ansi",
            "never",
            "--progress",
            "plain",
            "--project-name",
            self.name,
            "--file",
            str(self.compose_file),
        ]
        if self.env_file is not None:
            base += ["--env-file", str(self.env_file)]
        return [*base, *command]


def compose_major_version(text: str) -> int | None:
    """The major version in ``docker compose version --short`` output (``2.26.1-4``, ``v2.29.0``)."""
    match = re.match(r"\s*v?(\d+)\.", text)
    return int(match.group(1)) if match else None


def up_argv(args: StartArgs, *, built: bool) -> list[str]:
    """``up`` in the background, never pulling unless asked, waiting bounded by ``wait_timeout``."""
    argv = ["up", "--detach", "--pull", args.pull]
    if built:
        argv.append("--no-build")
    if args.health_check:
        argv += ["--wait", "--wait-timeout", str(args.wait_timeout)]
    return [*argv, *args.services]


def up_timeout(args: StartArgs, *, grace: float) -> float:
    """Seconds ``up`` may take: the wait (if any), the build of missing images (unless built before), plus ``grace``."""
    return (args.wait_timeout if args.health_check else 0) + (0 if args.build else args.build_timeout) + grace


def stop_argv(args: StopArgs) -> list[str]:
    """``down`` (with ``--volumes``) when cleaning up, else ``stop``; always with the stop timeout."""
    if args.cleanup:
        argv = ["down", "--timeout", str(args.timeout)]
        if args.remove_volumes:
            argv.append("--volumes")
    else:
        argv = ["stop", "--timeout", str(args.timeout)]
    return [*argv, *args.services]


# -- classifying what a start or a stop did ---------------------------------------------------------
def select_services(requested: Sequence[str], defined: Sequence[str], compose_file_name: str) -> list[str]:
    """The services to act on: those requested (all must be defined) or, when none is, every defined one.

    A requested service the compose file does not define is a :class:`HookError` listing what it defines.
    """
    unknown = unknown_services(requested, defined)
    if unknown:
        raise HookError(f"services: {', '.join(unknown)} not in {compose_file_name} (it defines: {', '.join(defined) or 'nothing'})")
    return list(requested) or list(defined)


def start_action(changed: Sequence[str]) -> StartAction:
    """``started`` when some service changed, else ``unchanged``."""
    return "started" if changed else "unchanged"


def services_to_blame(after_failed_up: Sequence[ServiceStatus]) -> list[ServiceStatus]:
    """The services a failed ``up`` is reported by: those not ready.

    Empty when none has a container: compose then failed before creating any (image, build,
    configuration) and its own output says why.
    """
    failing = not_ready(after_failed_up)
    if all(status.state == MISSING for status in failing):
        return []
    return failing


def stop_action(before: Sequence[ServiceStatus], *, cleanup: bool) -> StopAction:
    """What a stop did, from the services' state before it and whether it removed the containers."""
    existing = [status for status in before if status.containers]
    if not existing:
        return "absent"
    if cleanup:
        return "removed"
    if all(status.state in ("exited", "dead", "created") for status in existing):
        return "already-stopped"
    return "stopped"


STOP_WORDS: Mapping[StopAction, str] = {
    "removed": "stopped and removed",
    "stopped": "stopped",
    "already-stopped": "were already stopped",
    "absent": "had no containers",
}
"""How a stop's log line says what happened to the services."""


def removed_volumes(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """The volumes present before a stop and gone after it, sorted."""
    return sorted(set(before) - set(after))


def describe_states(statuses: Sequence[ServiceStatus]) -> str:
    """``api healthy, worker running``: each service and its state, in order."""
    return ", ".join(f"{status.service} {status.state}" for status in statuses) or "no services"


def not_ready_message(
    project: str, failing: Sequence[ServiceStatus], *, wait_timeout: int, elapsed: float, logs: Mapping[str, Sequence[str]]
) -> str:
    """The error for services that did not come up: each named with its state, then its last log lines."""
    lines = [
        f"services not healthy after {elapsed:.0f}s (wait_timeout {wait_timeout}s, project {project}): "
        + ", ".join(status.describe() for status in failing)
        + "; containers left as they are for inspection (stop them with the stop action)"
    ]
    for status in failing:
        shown = logs.get(status.service, ())
        lines.append(f"{status.service}: last {len(shown)} log lines:" if shown else f"{status.service}: no log output")
        lines.extend(f"    {line}" for line in shown)
    return "\n".join(lines)
