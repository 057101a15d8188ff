"""The start, stop and status hooks (CFNgin entry points and CLI actions) and their CLI output.

Each body is thin: locate and connect, observe the services, act through :mod:`.compose`, let
:mod:`.plan` say what happened, and build its result in one place.
"""

from __future__ import annotations

import time
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, HookGroup, hook
from runway_ext.hooks.docker_compose_integration.args import StartArgs, StartResult, StatusArgs, StatusResult, StopArgs, StopResult
from runway_ext.hooks.docker_compose_integration.compose import (
    SHUTDOWN_GRACE,
    connect,
    defined_services,
    locate_project,
    project_volumes,
    run_compose,
    service_logs,
    service_statuses,
)
from runway_ext.hooks.docker_compose_integration.plan import (
    STOP_WORDS,
    ComposeProject,
    ServiceStatus,
    changed_services,
    describe_states,
    not_ready,
    not_ready_message,
    removed_volumes,
    render_status_table,
    select_services,
    services_to_blame,
    start_action,
    status_from_dict,
    stop_action,
    stop_argv,
    up_argv,
    up_timeout,
)


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
    services = select_services(args.services, defined_services(project, ctx.log), project.compose_file.name)
    before = service_statuses(project, services, ctx.log)
    if before and not not_ready(before):
        ctx.log.debug("project %s: %s already up; letting compose apply any configuration change", project.name, ", ".join(services))
    started = time.monotonic()
    if args.build:
        run_compose(project, ["build", *args.services], timeout=args.build_timeout, log=ctx.log)
    try:
        run_compose(project, up_argv(args, built=args.build), timeout=up_timeout(args, grace=SHUTDOWN_GRACE), log=ctx.log)
    except HookError as error:
        failing = services_to_blame(service_statuses(project, services, ctx.log))
        if not failing:
            raise  # compose failed before creating containers (image, build, config): its own output says why
        ctx.log.debug("%s", error)
        raise _not_healthy(project, failing, args, time.monotonic() - started) from None
    after = service_statuses(project, services, ctx.log)
    elapsed = round(time.monotonic() - started, 2)
    failing = not_ready(after)
    if args.health_check and failing:  # up --wait succeeded, yet a service went down right after
        raise _not_healthy(project, failing, args, elapsed)
    changed = changed_services(before, after)
    if changed:
        ctx.log.info("project %s: started %s in %.1fs", project.name, ", ".join(changed), elapsed)
    else:
        ctx.log.info("project %s: %s already up; nothing changed", project.name, ", ".join(services))
    return StartResult(
        project=project.name,
        compose_file=str(project.compose_file),
        action=start_action(changed),
        changed=changed,
        ready=not failing,
        built=args.build,
        waited=args.health_check,
        elapsed_seconds=elapsed,
        services=[status.as_dict() for status in after],
    )


def _not_healthy(project: ComposeProject, failing: list[ServiceStatus], args: StartArgs, elapsed: float) -> HookError:
    """The error naming the services that did not come up, with their last log lines."""
    logs = service_logs(project, [status.service for status in failing], args.log_lines)
    return HookError(not_ready_message(project.name, failing, wait_timeout=args.wait_timeout, elapsed=elapsed, logs=logs))


@hook(
    "docker_compose_stop",
    StopArgs,
    summary="Stop docker compose services (down: also remove containers, and volumes if asked).",
    render=render_stop,
)
def stop_containers_hook(args: StopArgs, ctx: HookContext) -> StopResult:
    """``down`` or ``stop`` the services; say so when there was nothing to stop."""
    project = connect(locate_project(args, untouched="nothing was stopped"))
    services = select_services(args.services, defined_services(project, ctx.log), project.compose_file.name)
    before = service_statuses(project, services, ctx.log)
    volumes_before = project_volumes(project) if args.remove_volumes else []
    started = time.monotonic()
    run_compose(project, stop_argv(args), timeout=args.timeout + SHUTDOWN_GRACE, log=ctx.log)
    elapsed = round(time.monotonic() - started, 2)
    volumes_gone = removed_volumes(volumes_before, project_volumes(project)) if args.remove_volumes else []
    action = stop_action(before, cleanup=args.cleanup)
    ctx.log.info(
        "project %s: %s %s%s",
        project.name,
        ", ".join(services),
        STOP_WORDS[action],
        f"; volumes removed: {', '.join(volumes_gone)}" if volumes_gone else "",
    )
    return StopResult(
        project=project.name,
        compose_file=str(project.compose_file),
        action=action,
        services=services,
        volumes_removed=volumes_gone,
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
    services = select_services(args.services, defined_services(project, ctx.log), project.compose_file.name)
    statuses = service_statuses(project, services, ctx.log)
    failing = [status.service for status in not_ready(statuses)]
    ctx.log.info("project %s: %s", project.name, describe_states(statuses))
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
