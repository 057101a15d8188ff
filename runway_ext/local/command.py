"""``runway-ext local deploy|destroy|serve``: run a Runway project against a local AWS stand-in.

``deploy``/``destroy`` start an in-process moto server on 127.0.0.1 (or use ``--endpoint`` of
one kept up by ``serve``), point every AWS client of the run at it, run ``runway`` on the
project, print a summary, and stop the server they started. Nothing ever reaches real AWS: a
non-loopback endpoint is refused and AWS profiles/credentials of the caller are not passed on.

``serve`` keeps the stand-in up with the local registry and the local edge (every CloudFront
distribution served at its own ``http://127.0.0.1:PORT/``) until interrupted, and advertises them to
the commands pointed at it (:mod:`runway_ext.local.serve_session`). ``deploy --serve`` does the same
after a deploy against a fresh stand-in.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from runway_ext.core import journal
from runway_ext.core.cli import configure_cli_logging
from runway_ext.core.errors import HookError
from runway_ext.core.log import get_logger
from runway_ext.local.console import journal_file_for, journal_folder, journals_in, start_console
from runway_ext.local.moto_invalidations import DEFAULT_INVALIDATION_SECONDS
from runway_ext.local.run_guard import GuardedRun, StopSignals, run_guarded
from runway_ext.local.runway_cli import runway_executable
from runway_ext.local.runway_output import TracebackFolder, failure_cause, step_verdicts
from runway_ext.local.runway_watch import RunwayWatch
from runway_ext.local.serve_session import read_session, session_folder
from runway_ext.local.session import LocalAws, clean_environment, local_aws, require_listening, require_loopback
from runway_ext.local.summary import Site, project_stacks, render_summary
from runway_ext.local.tools import DockerMode, LocalTools, local_tools

LOG = get_logger("runway_ext.local")
SESSION_WAIT_SECONDS = 15.0
"""How long a deploy against ``serve`` waits for the edge to serve what it deployed (it polls twice a second)."""


def run_runway_locally(
    project: Path, action: str, aws: LocalAws, *, deploy_environment: str, timeout: float, extra_environment: dict[str, str] | None = None
) -> int:
    """Run ``runway ACTION --ci`` in ``project`` against ``aws`` and return its exit code (see :func:`runway_run`)."""
    run = runway_run(project, action, aws, deploy_environment=deploy_environment, timeout=timeout, extra_environment=extra_environment)
    assert run.returncode is not None
    return run.returncode


def runway_run(
    project: Path,
    action: str,
    aws: LocalAws,
    *,
    deploy_environment: str,
    timeout: float,
    extra_environment: dict[str, str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> GuardedRun:
    """Run ``runway ACTION --ci`` in ``project`` against ``aws``; Runway's output is copied to standard error.

    Ctrl-C or SIGTERM stops Runway and every program it started (:mod:`.run_guard`), prints what was stopped
    and raises ``KeyboardInterrupt``; the timeout does the same and raises :class:`HookError`.
    """
    require_project(project)
    env = {**clean_environment(), **(extra_environment or {}), **aws.environment(deploy_environment)}
    watch = RunwayWatch()
    shown = echo or _to_stderr

    def watched(line: str) -> None:
        watch.feed(line)
        shown(line)

    run = run_guarded([runway_executable(), action, "--ci"], cwd=project, env=env, timeout=timeout, echo=watched)
    if run.interrupted is None:
        if run.returncode == 0 and (reason := watch.nothing_done()):
            LOG.error("nothing was %s: %s", "deployed" if action == "deploy" else "destroyed", reason)
            run.returncode, run.failure = 1, f"nothing was {'deployed' if action == 'deploy' else 'destroyed'}: {reason}"
        return run
    for line in run.stopped_lines():
        LOG.warning("%s", line)
    if run.interrupted == "timeout":
        raise HookError(f"runway {action} timed out after {timeout:g}s; stopped it and what it started")
    raise KeyboardInterrupt


def require_project(project: Path) -> None:
    """Fail in one line when ``project`` is not a Runway project folder."""
    if not (project / "runway.yml").is_file() and not (project / "runway.yaml").is_file():
        raise HookError(f"path: {project} has no runway.yml")


def _client(aws: LocalAws, service: str) -> Any:
    import boto3

    env = aws.environment()
    return boto3.client(
        service,
        endpoint_url=aws.endpoint,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def describe_stacks(aws: LocalAws) -> list[dict[str, Any]]:
    """Every live stack on the local AWS."""
    stacks: list[dict[str, Any]] = []
    for page in _client(aws, "cloudformation").get_paginator("describe_stacks").paginate():
        stacks.extend(stack for stack in page["Stacks"] if stack["StackStatus"] != "DELETE_COMPLETE")
    return stacks


def stack_states(stacks: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Each stack's status and last change time, to tell which stacks a run created or changed."""
    return {stack["StackName"]: (stack["StackStatus"], str(stack.get("LastUpdatedTime") or stack.get("CreationTime"))) for stack in stacks}


def stack_buckets(aws: LocalAws) -> dict[str, str]:
    """Every S3 bucket created by a stack of the stand-in: bucket name -> stack name."""
    client = _client(aws, "cloudformation")
    found: dict[str, str] = {}
    for stack in describe_stacks(aws):
        for resource in client.describe_stack_resources(StackName=stack["StackName"]).get("StackResources", []):
            if resource.get("ResourceType") == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
                found[resource["PhysicalResourceId"]] = stack["StackName"]
    return found


def surviving_buckets(aws: LocalAws, before: dict[str, str]) -> list[str]:
    """One line per bucket whose stack this destroy deleted while the bucket is still there (it was not empty).

    AWS refuses to delete a non-empty bucket and leaves its stack ``DELETE_FAILED``; moto deletes the stack and
    silently keeps the bucket. Local mode reports what AWS would: a failed destroy, naming the bucket.
    """
    if not before:
        return []
    remaining = {stack["StackName"] for stack in describe_stacks(aws)}
    s3 = _client(aws, "s3")
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    lines = []
    for bucket, stack_name in sorted(before.items()):
        if stack_name not in remaining and bucket in existing:
            holds = s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0)
            why = "is not empty, so AWS would fail the delete (DELETE_FAILED)" if holds else "was not deleted"
            lines.append(
                f"stack {stack_name}: bucket {bucket} {why}; the stand-in deleted the stack and kept the bucket: "
                f"empty it (aws s3 rm s3://{bucket} --recursive) before destroying"
            )
    return lines


def distributions_of(aws: LocalAws, stacks: list[dict[str, Any]]) -> set[str]:
    """The CloudFront distribution ids created by ``stacks``."""
    client = _client(aws, "cloudformation")
    found: set[str] = set()
    for stack in stacks:
        for resource in client.describe_stack_resources(StackName=stack["StackName"]).get("StackResources", []):
            if resource.get("ResourceType") == "AWS::CloudFront::Distribution" and resource.get("PhysicalResourceId"):
                found.add(resource["PhysicalResourceId"])
    return found


@contextmanager
def run_log(action: str) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """A file keeping Runway's whole output, and the echo that writes to it and to the terminal (tracebacks folded)."""
    folder = session_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f"runway-{action}-", suffix=".log", dir=folder)
    path = Path(name)
    with os.fdopen(descriptor, "w", encoding="utf-8", errors="replace") as handle:
        terminal = TracebackFolder(_to_stderr, str(path))

        def echo(line: str) -> None:
            handle.write(line + "\n")
            terminal(line)

        yield path, echo


def describe_distributions(aws: LocalAws) -> dict[str, dict[str, Any]]:
    """Every CloudFront distribution on the local AWS, by id, with the ids of its completed invalidations."""
    client = _client(aws, "cloudfront")
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items") or []:
            invalidations = client.list_invalidations(DistributionId=item["Id"]).get("InvalidationList", {}).get("Items") or []
            completed = {entry["Id"] for entry in invalidations if entry["Status"].lower() == "completed"}
            found[item["Id"]] = {"comment": item.get("Comment", ""), "completed": completed}
    return found


def wait_for_served_sites(
    aws: LocalAws, *, timeout: float = SESSION_WAIT_SECONDS, only: set[str] | None = None
) -> tuple[list[Site], dict[str, list[str]]]:
    """The sites a ``serve`` at ``aws.endpoint`` serves, once its edge caught up with this run's distributions.

    Caught up: every distribution is served and every completed invalidation has been applied to the edge's
    cache, so the site shows what AWS would show now. Returns the sites and the edge's notices by distribution.
    ``only``: the distribution ids to wait for and show (this project's), default all of the stand-in's.
    """
    deadline = time.monotonic() + timeout
    while True:
        distributions = {key: value for key, value in describe_distributions(aws).items() if only is None or key in only}
        session = read_session(aws.endpoint) or {}
        served, applied = session.get("sites", {}), session.get("invalidations_applied", {})
        caught_up = all(
            distribution_id in served and info["completed"] <= set(applied.get(distribution_id, []))
            for distribution_id, info in distributions.items()
        )
        if caught_up or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    sites = [Site(distribution_id, info["comment"], served.get(distribution_id)) for distribution_id, info in distributions.items()]
    return sites, session.get("edge_notices", {})


def local_run(
    project: Path,
    action: str,
    *,
    endpoint: str | None,
    deploy_environment: str,
    timeout: float,
    docker: DockerMode = "auto",
    serve_after: bool = False,
    invalidation_seconds: float = DEFAULT_INVALIDATION_SECONDS,
    show: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> int:
    """Deploy or destroy ``project`` locally, show the summary; with ``serve_after`` keep serving until ``stop``.

    Returns Runway's exit code.
    """
    require_project(project)
    if endpoint:
        endpoint = require_loopback(endpoint)
        require_listening(endpoint)
    session = read_session(endpoint) if endpoint else None
    registry = session.get("registry") if session and docker == "auto" else None
    with ExitStack() as stack:
        journal_file = journal_file_for(session, action)
        aws = stack.enter_context(local_aws(endpoint, invalidation_seconds=invalidation_seconds, journal_file=journal_file))
        tools = stack.enter_context(local_tools(docker, registry=registry))
        notices = list(tools.notices)
        if endpoint and session is None and tools.environment.get("RUNWAY_EXT_CONTAINERS") == "true" and registry is None:
            notices.append(
                f"registry: no `runway-ext local serve` answers at {endpoint}, so images go to a registry that lives for this run only"
            )
        for notice in notices:
            LOG.warning("%s", notice)
        if endpoint and session is None:
            LOG.warning(
                "endpoint: %s answers but is not a `runway-ext local serve` of this user: no site is served, and a plain moto "
                "server cannot create the CDN blueprint's CloudFront resources",
                endpoint,
            )
        buckets_before = stack_buckets(aws) if action == "destroy" else {}
        stacks_before = stack_states(describe_stacks(aws))
        with run_log(action) as (log_path, echo):
            run = runway_run(
                project, action, aws, deploy_environment=deploy_environment, timeout=timeout, extra_environment=tools.environment, echo=echo
            )
            code = run.returncode if run.returncode is not None else 1
            verdicts = step_verdicts(run.output)
            entries = journal.read(aws.journal_file)
            failure = None
            if code != 0:
                failure = run.failure or failure_cause(
                    run.output, entries, endpoint=aws.endpoint, is_serve=endpoint is None or session is not None
                )
            survivors = surviving_buckets(aws, buckets_before) if action == "destroy" else []
            if survivors and code == 0:
                code = 1
                failure = survivors[0]
            all_stacks = describe_stacks(aws)
            changed = {name for name, state in stack_states(all_stacks).items() if stacks_before.get(name) != state}
            by_hooks = {str((entry.get("result") or {}).get("stack_name")) for entry in entries}  # a SAM app's stack, say
            stacks = project_stacks(all_stacks, verdicts, changed, by_hooks) if endpoint else all_stacks
            if code != 0:
                failure = f"{failure}; Runway's full output: {log_path}" if failure else f"Runway's full output: {log_path}"
            else:
                log_path.unlink(missing_ok=True)
        ours = distributions_of(aws, stacks) if endpoint else None
        edge_notices: dict[str, list[str]] = {}
        sites: list[Site] | None = None
        if session is not None:
            sites, edge_notices = wait_for_served_sites(aws, only=ours)
        elif serve_after:
            from runway_ext.local.edge_fleet import EdgeFleet

            waiter = StopSignals(also=stop).install()  # from here a signal stops the serve below, and its cleanup runs
            fleet = EdgeFleet(aws.endpoint).start()
            stack.callback(fleet.stop)
            start_console(
                stack, aws.endpoint, sites=fleet.sites, journals=lambda: [aws.journal_file], registry=registry_of(tools), show=show
            )
            served = fleet.sites()
            sites = [
                Site(distribution_id, info["comment"], served.get(distribution_id))
                for distribution_id, info in describe_distributions(aws).items()
            ]
            edge_notices = fleet.notices
        summary = render_summary(
            action,
            aws.endpoint,
            stacks,
            entries,
            code == 0,
            fresh=endpoint is None,
            sites=sites,
            edge_notices=edge_notices,
            failure=failure,
            verdicts=verdicts,
            hidden_stacks=len(all_stacks) - len(stacks),
        )
        for line in survivors[1:]:
            summary += f"\nalso left behind: {line}"
        if notices:
            summary += "\nnot available here:\n" + "\n".join(f"  {notice}" for notice in notices)
        show(summary)
        if serve_after and session is None:
            show(f"serving the sites above and the local AWS at {aws.endpoint} until Ctrl-C")
            waiter.wait()
    return code


def registry_of(tools: LocalTools) -> str | None:
    """The local registry images go to, when containers are on."""
    return tools.environment.get("RUNWAY_EXT_REGISTRY") if tools.environment.get("RUNWAY_EXT_CONTAINERS") == "true" else None


def serve(
    port: int, docker: DockerMode, invalidation_seconds: float, *, show: Callable[[str], None] = print, stop: threading.Event | None = None
) -> int:
    """Keep a local AWS, its registry and its edge up until ``stop`` (or SIGINT/SIGTERM); advertise them."""
    from runway_ext.local.edge_fleet import EdgeFleet
    from runway_ext.local.moto_cloudformation import install
    from runway_ext.local.moto_invalidations import install_invalidation_delay
    from runway_ext.local.moto_server import MotoServer, PortInUseError
    from runway_ext.local.serve_session import remove_session, write_session
    from runway_ext.local.session import quiet_moto

    waiter = StopSignals(also=stop).install()
    install()
    install_invalidation_delay(invalidation_seconds)
    quiet_moto()
    try:
        server = MotoServer(port or None).start()
    except PortInUseError as error:
        raise HookError(str(error)) from None
    with ExitStack() as stack:
        stack.callback(server.stop)
        tools = stack.enter_context(local_tools(docker))
        journals = journal_folder(stack)
        session: dict[str, Any] = {
            "endpoint": server.endpoint,
            "registry": registry_of(tools),
            "journal_folder": str(journals),
            "sites": {},
            "invalidations_applied": {},
            "edge_notices": {},
        }
        shown: dict[str, str] = {}
        fleet: EdgeFleet | None = None

        def publish(sites: dict[str, str]) -> None:
            for distribution_id, url in sites.items():
                if shown.get(distribution_id) != url:
                    show(f"site: distribution {distribution_id} served at {url}")
            shown.clear()
            shown.update(sites)
            session.update(sites=sites)
            if fleet is not None:
                session.update(invalidations_applied=fleet.applied_invalidations(), edge_notices=fleet.notices)
            write_session(server.port, session)

        write_session(server.port, session)
        stack.callback(remove_session, server.port)
        fleet = EdgeFleet(server.endpoint, on_change=publish).start()
        stack.callback(fleet.stop)
        start_console(stack, server.endpoint, sites=fleet.sites, journals=journals_in(journals), registry=session["registry"], show=show)
        show(f"local AWS at {server.endpoint}; use: runway-ext local deploy PATH --endpoint {server.endpoint}")
        show(f'hook commands, aws and sam in another shell: eval "$(runway-ext local env --port {server.port})"')
        if session["registry"]:
            show(f"images: pushed to the registry at {session['registry']}, kept until this serve stops")
        for notice in tools.notices:
            show(f"not available here: {notice}")
        show("sites: each CloudFront distribution is served at its own http://127.0.0.1 port once deployed (Ctrl-C stops everything)")
        waiter.wait()
    return 0


class LocalCommand:
    """The ``local`` command group of ``runway-ext``."""

    name = "local"
    summary = "Deploy or destroy a Runway project on this machine, against a local AWS stand-in (moto)."

    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """Add ``deploy``, ``destroy`` and ``serve``."""
        parser.description = self.summary
        actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
        docker_help = (
            "auto: the Docker engine at DOCKER_HOST (or the default socket) with RUNWAY_EXT_REGISTRY, else a registry started on "
            "127.0.0.1; off: skip the image steps (default: auto)"
        )
        invalidation_help = f"seconds a CloudFront invalidation stays InProgress in a stand-in this command starts (default: {DEFAULT_INVALIDATION_SECONDS:g})"
        for action, text in (("deploy", "deploy the project"), ("destroy", "destroy the project")):
            sub = actions.add_parser(action, help=text, description=text)
            sub.add_argument("path", nargs="?", default=".", help="the Runway project folder (default: .)")
            sub.add_argument("--environment", default="dev", help="Runway deploy environment (default: dev)")
            sub.add_argument("--endpoint", help="use the local AWS of a running `runway-ext local serve` (loopback only)")
            sub.add_argument("--timeout", type=float, default=3600, help="seconds before the run is stopped (default: 3600)")
            sub.add_argument("--docker", choices=("auto", "off"), default="auto", help=docker_help)
            sub.add_argument("--invalidation-seconds", type=_seconds, default=DEFAULT_INVALIDATION_SECONDS, help=invalidation_help)
            if action == "deploy":
                sub.add_argument(
                    "--serve",
                    action="store_true",
                    help="after the deploy, serve each CloudFront distribution at http://127.0.0.1:PORT/ (and the stand-in) until Ctrl-C",
                )
            sub.set_defaults(_command=self, _action=action)
        serve_parser = actions.add_parser("serve", help="keep a local AWS, its registry and its sites up for several commands")
        serve_parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
        serve_parser.add_argument("--docker", choices=("auto", "off"), default="auto", help=docker_help)
        serve_parser.add_argument("--invalidation-seconds", type=_seconds, default=DEFAULT_INVALIDATION_SECONDS, help=invalidation_help)
        serve_parser.set_defaults(_command=self, _action="serve")
        env_text = 'print the shell exports that point AWS clients at a running serve: eval "$(runway-ext local env)"'
        env_parser = actions.add_parser("env", help=env_text, description=env_text)
        which = env_parser.add_mutually_exclusive_group()
        which.add_argument("--port", type=int, help="the serve's port (default: the only serve running)")
        which.add_argument("--endpoint", help="the serve's endpoint, http://127.0.0.1:PORT or http://localhost:PORT")
        env_parser.set_defaults(_command=self, _action="env")

    def run_cli(self, namespace: argparse.Namespace) -> int:
        """Run the chosen action."""
        configure_cli_logging(verbose=False)
        try:
            if namespace._action == "env":
                from runway_ext.local.shell_env import exports, find_serve

                print("\n".join(exports(find_serve(port=namespace.port, endpoint=namespace.endpoint))), flush=True)
                return 0
            if namespace._action == "serve":
                return serve(namespace.port, namespace.docker, namespace.invalidation_seconds, show=_flushed_print)
            if namespace.endpoint and getattr(namespace, "serve", False):
                raise HookError("--serve: a running `runway-ext local serve` already serves the sites; drop --serve with --endpoint")
            return local_run(
                Path(namespace.path).resolve(),
                namespace._action,
                endpoint=namespace.endpoint,
                deploy_environment=namespace.environment,
                timeout=namespace.timeout,
                docker=namespace.docker,
                serve_after=getattr(namespace, "serve", False),
                invalidation_seconds=namespace.invalidation_seconds,
                show=_flushed_print,
            )
        except HookError as error:
            LOG.error("%s", error)
            return 1


def _to_stderr(text: str) -> None:
    """Runway's own output goes to standard error, as Runway writes its log: standard output is the summary."""
    print(text, file=sys.stderr, flush=True)


def _flushed_print(text: str) -> None:
    print(text, flush=True)


def _seconds(value: str) -> float:
    seconds = float(value)
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return seconds


COMMAND = LocalCommand()
