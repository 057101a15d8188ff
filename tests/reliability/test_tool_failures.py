"""The tools a hook drives fail: each gives one clear error naming the cause, in bounded time, and the next run works.

Covered here: ``sam`` rejecting a template, CloudFormation throttling the ``sam_deploy`` hook's own
reads (injected at the botocore level), and the Docker daemon not answering. Covered by the hook
suites and cited in docs/reliability.md: a registry that refuses the push
(``tests/hooks/docker_build_push/test_hook.py``), ``npm run build`` failing or hanging
(``tests/hooks/npm_build/test_hook.py``).
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import boto3
import pytest

from runway_ext.hooks.docker_build_push import cfngin_hook as docker_hook
from runway_ext.hooks.sam_deploy import cfngin_hook as sam_hook
from runway_ext.testing.cfngin import make_cfngin_context
from tests.reliability.faults import Fault, session_with, use_session
from tests.support.logs import LoggedLines

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> LoggedLines:
    """The runway_ext error lines of the test (through caplog)."""
    return LoggedLines(caplog, level=logging.ERROR)


# -- sam -----------------------------------------------------------------------------------------


@pytest.fixture
def sam_app(aws, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    boto3.client("s3").create_bucket(Bucket="sam-artifacts")
    app = tmp_path / "sam-app"
    shutil.copytree(REPO / "tests" / "fixtures" / "sam_app", app)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("python3.11", f"python{sys.version_info.major}.{sys.version_info.minor}"))
    return app


def deploy(sam: str, app: Path, tmp_path: Path, stack: str, context: object = None, **extra: object) -> object:
    parameters = {"Environment": "dev", "BucketName": f"{stack}-data", "Greeting": "hello", "ApiToken": "none"}
    return sam_hook(
        context or make_cfngin_context(tmp_path),
        None,
        template_file=str(app / "template.yaml"),
        stack_name=stack,
        sam_executable=sam,
        s3_bucket="sam-artifacts",
        parameters=parameters,
        timeout=300,
        **extra,
    )


@pytest.mark.sam
def test_a_template_sam_rejects_is_one_error_naming_sam_and_the_next_run_works(
    sam: str, sam_app: Path, tmp_path: Path, errors: LoggedLines
) -> None:
    template = sam_app / "template.yaml"
    good = template.read_text()
    template.write_text(good.replace("CodeUri: src/", "CodeUri: no-such-folder/"))
    assert deploy(sam, sam_app, tmp_path, "rejected-stack") is False
    assert errors.lines and errors.lines[0].startswith("sam_deploy: sam ") and "failed (exit code 1)" in errors.lines[0], errors.lines
    assert any("does not exist" in line for line in errors.lines[1:])  # sam's own reason follows the summary
    assert not any("Traceback" in line for line in errors.lines)
    stacks = boto3.client("cloudformation").describe_stacks()["Stacks"]
    assert [stack["StackName"] for stack in stacks] == []  # nothing half-deployed
    template.write_text(good)
    assert deploy(sam, sam_app, tmp_path, "rejected-stack")


@pytest.mark.sam
def test_cloudformation_throttling_of_the_hooks_reads(sam: str, sam_app: Path, tmp_path: Path, errors: LoggedLines) -> None:
    lasting = Fault(code="Throttling", protocol="query")
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudformation.DescribeStacks", lasting))
    started = time.monotonic()
    assert deploy(sam, sam_app, tmp_path, "throttled-stack", context=context) is False
    assert time.monotonic() - started < 60
    assert 2 <= lasting.injected <= 10  # retried by the client, and bounded
    assert errors.lines == ["sam_deploy: describe stack throttled-stack: Throttling: injected Throttling"]

    transient = Fault(code="Throttling", protocol="query", fail_first=2)
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudformation.DescribeStacks", transient))
    result = deploy(sam, sam_app, tmp_path, "throttled-stack", context=context)
    assert result and result["action"] == "created"
    assert transient.injected == 2


# -- docker --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_daemon_unreachable_is_one_line_naming_where_it_looked(
    aws, tmp_path: Path, errors: LoggedLines, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    socket = tmp_path / "no-daemon.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    started = time.monotonic()
    result = docker_hook(make_cfngin_context(tmp_path), None, repository_name="app", working_directory=str(app))
    assert result is False
    assert time.monotonic() - started < 35  # the daemon probe is bounded (30 s)
    assert len(errors.lines) == 1
    assert errors.lines[0].startswith(f"docker_build_push: docker daemon unreachable at unix://{socket}")
    assert "DOCKER_HOST" in errors.lines[0]
    assert boto3.client("ecr").describe_repositories()["repositories"] == []  # nothing created before the daemon answered
