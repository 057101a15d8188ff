"""``runway-ext local deploy|destroy|serve``: run a Runway project against a local AWS stand-in.

``deploy``/``destroy`` start an in-process moto server on 127.0.0.1 (or use ``--endpoint`` of
one kept up by ``serve``), point every AWS client of the run at it, run ``runway`` on the
project, print a summary, and stop the server they started. Nothing ever reaches real AWS: a
non-loopback endpoint is refused and AWS profiles/credentials of the caller are not passed on.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import boto3

from ..core import journal
from ..core.cli import configure_cli_logging
from ..core.errors import HookError
from ..core.log import get_logger
from .runway_cli import runway_executable
from .session import LocalAws, clean_environment, local_aws
from .summary import render_summary
from .tools import DockerMode, local_tools

LOG = get_logger("runway_ext.local")


def run_runway_locally(
    project: Path, action: str, aws: LocalAws, *, deploy_environment: str, timeout: float, extra_environment: dict[str, str] | None = None
) -> int:
    """Run ``runway ACTION --ci`` in ``project`` against ``aws``; Runway's output goes straight to the terminal."""
    if not (project / "runway.yml").is_file() and not (project / "runway.yaml").is_file():
        raise HookError(f"path: {project} has no runway.yml")
    env = {**clean_environment(), **(extra_environment or {}), **aws.environment(deploy_environment)}
    try:
        completed = subprocess.run(
            [runway_executable(), action, "--ci"], cwd=project, env=env, stdin=subprocess.DEVNULL, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise HookError(f"runway {action} timed out after {timeout:g}s") from None
    return completed.returncode


def describe_stacks(aws: LocalAws) -> list[dict[str, Any]]:
    """Every live stack on the local AWS."""
    env = aws.environment()
    client = boto3.client(
        "cloudformation",
        endpoint_url=aws.endpoint,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    stacks: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_stacks").paginate():
        stacks.extend(stack for stack in page["Stacks"] if stack["StackStatus"] != "DELETE_COMPLETE")
    return stacks


def local_run(
    project: Path, action: str, *, endpoint: str | None, deploy_environment: str, timeout: float, docker: DockerMode = "auto"
) -> tuple[int, str]:
    """Deploy or destroy ``project`` locally; return Runway's exit code and the summary text."""
    with local_aws(endpoint) as aws, local_tools(docker) as tools:
        for notice in tools.notices:
            LOG.warning("%s", notice)
        code = run_runway_locally(
            project, action, aws, deploy_environment=deploy_environment, timeout=timeout, extra_environment=tools.environment
        )
        summary = render_summary(action, aws.endpoint, describe_stacks(aws), journal.read(aws.journal_file), code == 0)
    if tools.notices:
        summary += "\nnot available here:\n" + "\n".join(f"  {notice}" for notice in tools.notices)
    return code, summary


class LocalCommand:
    """The ``local`` command group of ``runway-ext``."""

    name = "local"
    summary = "Deploy or destroy a Runway project on this machine, against a local AWS stand-in (moto)."

    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """Add ``deploy``, ``destroy`` and ``serve``."""
        parser.description = self.summary
        actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
        for action, text in (("deploy", "deploy the project"), ("destroy", "destroy the project")):
            sub = actions.add_parser(action, help=text, description=text)
            sub.add_argument("path", nargs="?", default=".", help="the Runway project folder (default: .)")
            sub.add_argument("--environment", default="dev", help="Runway deploy environment (default: dev)")
            sub.add_argument("--endpoint", help="use the local AWS of a running `runway-ext local serve` (loopback only)")
            sub.add_argument("--timeout", type=float, default=3600, help="seconds before the run is stopped (default: 3600)")
            sub.add_argument(
                "--docker",
                choices=("auto", "off"),
                default="auto",
                help="auto: the Docker engine at DOCKER_HOST (or the default socket) with RUNWAY_EXT_REGISTRY, else a registry started on 127.0.0.1; off: skip the image steps (default: auto)",
            )
            sub.set_defaults(_command=self, _action=action)
        serve = actions.add_parser("serve", help="keep a local AWS up for several commands")
        serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
        serve.set_defaults(_command=self, _action="serve")

    def run_cli(self, namespace: argparse.Namespace) -> int:
        """Run the chosen action."""
        configure_cli_logging(verbose=False)
        try:
            if namespace._action == "serve":
                return self.serve(namespace.port)
            code, summary = local_run(
                Path(namespace.path).resolve(),
                namespace._action,
                endpoint=namespace.endpoint,
                deploy_environment=namespace.environment,
                timeout=namespace.timeout,
                docker=namespace.docker,
            )
        except HookError as error:
            LOG.error("%s", error)
            return 1
        print(summary)
        return code

    def serve(self, port: int) -> int:
        """Keep a local AWS up until interrupted; print how to use it."""
        from .moto_cloudformation import install
        from .moto_server import MotoServer

        install()
        server = MotoServer(port or None).start()
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())
        print(f"local AWS at {server.endpoint}; use: runway-ext local deploy PATH --endpoint {server.endpoint}", flush=True)
        try:
            stop.wait()
        finally:
            server.stop()
        return 0


COMMAND = LocalCommand()
