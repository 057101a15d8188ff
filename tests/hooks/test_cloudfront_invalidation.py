"""The CloudFront invalidation hook against a moto server: CFNgin face, CLI, and real ``runway deploy``.

Faults (a busy or throttled API, an invalidation that stays in progress) are injected at the
botocore level — event handlers on a real client that talks to the moto server — because moto
never answers ``TooManyInvalidationsInProgress`` and completes every invalidation at once.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from runway.context import CfnginContext

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext
from runway_ext.hooks.cloudfront_invalidation import (
    CloudFrontInvalidationArgs,
    caller_reference,
    canonical_status,
    cfngin_hook,
    read_hook_data_paths,
)
from runway_ext.testing.runway_cli import run_runway

HOOK_PATH = "runway_ext.hooks.cloudfront_invalidation.cfngin_hook"
MODULE = "runway_ext.hooks.cloudfront_invalidation"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


@pytest.fixture
def distribution_id(aws) -> str:  # type: ignore[no-untyped-def]
    """A distribution created through the CloudFront API of the moto server."""
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "test-distribution",
            "Comment": "invalidation tests",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "site", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": CACHING_OPTIMIZED,
            },
        }
    )
    return created["Distribution"]["Id"]


def invalidations(distribution: str) -> list[dict[str, Any]]:
    """Every invalidation moto holds for ``distribution``, with its batch."""
    client = boto3.client("cloudfront")
    summary = client.list_invalidations(DistributionId=distribution)["InvalidationList"]
    return [client.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"] for item in summary.get("Items", [])]


def sent_paths(invalidation: dict[str, Any]) -> list[str]:
    return sorted(invalidation["InvalidationBatch"]["Paths"]["Items"])


def run_hook(context: CfnginContext, **kwargs: Any) -> Any:
    return cfngin_hook(context=context, provider=None, **kwargs)


class InjectingContext(HookContext):
    """A hook context whose boto3 session carries fault-injecting event handlers (the client stays real)."""

    def __init__(self, session: boto3.Session) -> None:
        super().__init__("cloudfront_invalidation", cfngin_hook.log)
        self._injected = session

    def session(self, region: str | None = None) -> boto3.Session:
        return self._injected


def aws_error(code: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a ``before-call`` handler returns to make botocore raise ``code`` without sending the request."""
    return AWSResponse("https://cloudfront.test", status, {}, None), {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


# -- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [("COMPLETED", "Completed"), ("Completed", "Completed"), ("inprogress", "InProgress"), ("IN_PROGRESS", "InProgress"), ("Odd", "Odd")])
def test_canonical_status(status: str, expected: str) -> None:
    assert canonical_status(status) == expected


def test_caller_reference_is_deterministic() -> None:
    first = caller_reference("E1", ["/b", "/a"], "run-1")
    assert first == caller_reference("E1", ["/a", "/b"], "run-1")  # order of paths does not matter
    assert first != caller_reference("E1", ["/a", "/b"], "run-2")
    assert first != caller_reference("E2", ["/a", "/b"], "run-1")
    assert first != caller_reference("E1", ["/a"], "run-1")
    assert len(first) <= 128


def test_read_hook_data_paths() -> None:
    data = {"runway_ext": {"npm_build": {"changed_paths": ["/a", "/b"], "count": 2}}}
    assert read_hook_data_paths(data, "runway_ext.npm_build.changed_paths") == ["/a", "/b"]
    with pytest.raises(HookError, match=r"no 'npm_bild' in runway_ext \(it has: npm_build\)"):
        read_hook_data_paths(data, "runway_ext.npm_bild.changed_paths")
    with pytest.raises(HookError, match="is a int, not a list of paths"):
        read_hook_data_paths(data, "runway_ext.npm_build.count")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "distribution_id: field required"),
        ({"distribution_id": "e123-bad"}, "distribution_id: 'e123-bad' is not a CloudFront distribution id"),
        ({"distribution_id": "E1", "paths": []}, "paths: at least one path is required"),
        ({"distribution_id": "E1", "paths": ["/a*/b"]}, "paths: path '/a*/b': '*' is allowed only at the end"),
        ({"distribution_id": "E1", "timeout": 0}, "timeout: Input should be greater than or equal to 1"),
        ({"distribution_id": "E1", "max_paths": 3001}, "max_paths: Input should be less than or equal to 3000"),
        ({"distribution_id": "E1", "paths_from_hook_data": "a..b"}, "paths_from_hook_data: 'a..b' is not a dotted hook_data key"),
        ({"distribution_id": "E1", "paths": ["/x"], "paths_from_hook_data": "a.b"}, "give either paths or paths_from_hook_data"),
        ({"distribution_id": "E1", "pahts": ["/x"]}, "pahts: unknown argument"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_field(
    kwargs: dict[str, Any], message: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="runway_ext"):
        assert run_hook(CfnginContext(config_path=tmp_path), **kwargs) is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert message in errors[0]


def test_seed_defaults() -> None:
    args = CloudFrontInvalidationArgs(distribution_id="E1234567890ABC")
    assert (args.paths, args.wait, args.timeout) == (["/*"], False, 900)


# -- the CFNgin face against moto -----------------------------------------------------------


def test_invalidates_normalised_paths_and_stores_hook_data(distribution_id: str, tmp_path: Path) -> None:
    context = CfnginContext(config_path=tmp_path)
    result = run_hook(context, distribution_id=distribution_id, paths=["about/index.html", "/café menu.html", "/assets/*"], wait=True)
    assert result["ok"] is True
    assert result["status"] == "Completed"  # moto says COMPLETED
    assert result["paths"] == ["/about/", "/about/index.html", "/assets/*", "/caf%C3%A9%20menu.html"]
    (created,) = invalidations(distribution_id)
    assert created["Id"] == result["invalidation_id"]
    assert sent_paths(created) == result["paths"]
    assert created["InvalidationBatch"]["CallerReference"] == result["caller_reference"]
    assert context.hook_data["runway_ext"]["cloudfront_invalidation"] == result


def test_changed_paths_from_hook_data_are_compacted(distribution_id: str, tmp_path: Path) -> None:
    changed = ["/index.html"] + [f"/blog/post-{n}/index.html" for n in range(40)] + ["/_next/static/chunks/a.js"]
    context = CfnginContext(config_path=tmp_path)
    context.set_hook_data("runway_ext", {"npm_build": {"changed_paths": changed}})
    result = run_hook(context, distribution_id=distribution_id, paths_from_hook_data="runway_ext.npm_build.changed_paths", max_paths=5)
    assert result["paths"] == ["/", "/_next/static/chunks/a.js", "/blog/*", "/index.html"]
    assert result["compacted"] is True and result["requested_paths"] == 42
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == result["paths"]


def test_empty_changed_paths_skip_the_invalidation(distribution_id: str, tmp_path: Path) -> None:
    context = CfnginContext(config_path=tmp_path)
    context.set_hook_data("site", {"changed_paths": []})
    result = run_hook(context, distribution_id=distribution_id, paths_from_hook_data="site.changed_paths")
    assert result["skipped"] is True and result["status"] == "skipped" and result["invalidation_id"] is None
    assert invalidations(distribution_id) == []


def test_missing_hook_data_is_a_clear_failure(distribution_id: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="runway_ext"):
        assert run_hook(CfnginContext(config_path=tmp_path), distribution_id=distribution_id, paths_from_hook_data="runway_ext.npm_build.changed_paths") is False
    assert "paths_from_hook_data: no 'runway_ext' in hook_data" in caplog.text
    assert invalidations(distribution_id) == []


def test_unknown_distribution_is_one_line(aws, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR, logger="runway_ext"):
        assert run_hook(CfnginContext(config_path=tmp_path), distribution_id="E0000000000000") is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["cloudfront_invalidation: distribution_id: no CloudFront distribution E0000000000000 in this account"]


def test_dry_run_calls_nothing(distribution_id: str, tmp_path: Path) -> None:
    result = run_hook(CfnginContext(config_path=tmp_path), distribution_id=distribution_id, paths=["/a b.html"], dry_run=True)
    assert result["dry_run"] is True and result["status"] == "dry-run" and result["paths"] == ["/a%20b.html"]
    assert invalidations(distribution_id) == []


def test_run_token_fixes_the_caller_reference(distribution_id: str, tmp_path: Path) -> None:
    first = run_hook(CfnginContext(config_path=tmp_path), distribution_id=distribution_id, paths=["/b", "/a"], run_token="ci-42")
    second = run_hook(CfnginContext(config_path=tmp_path), distribution_id=distribution_id, paths=["/a", "/b"], run_token="ci-42")
    other = run_hook(CfnginContext(config_path=tmp_path), distribution_id=distribution_id, paths=["/a", "/b"], run_token="ci-43")
    assert first["caller_reference"] == second["caller_reference"] == caller_reference(distribution_id, ["/a", "/b"], "ci-42")
    assert other["caller_reference"] != first["caller_reference"]
    references = {item["InvalidationBatch"]["CallerReference"] for item in invalidations(distribution_id)}
    assert references == {first["caller_reference"], other["caller_reference"]}


# -- faults injected at the botocore level ---------------------------------------------------


def test_busy_distribution_is_retried_with_the_same_reference(distribution_id: str) -> None:
    session = boto3.Session()
    references: list[str] = []

    def busy_twice(params: dict[str, Any], **_: Any) -> Any:
        references.append(params["body"].decode() if isinstance(params.get("body"), bytes) else str(params.get("body")))
        if len(references) <= 2:
            return aws_error("TooManyInvalidationsInProgress")
        return None  # the third attempt goes to the moto server

    session.events.register("before-call.cloudfront.CreateInvalidation", busy_twice)
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], timeout=60)
    result = cfngin_hook.execute(args, InjectingContext(session))
    assert len(references) == 3
    assert len(set(references)) == 1  # every attempt sent the same CallerReference and paths
    assert result["caller_reference"] in references[0]
    assert [item["Id"] for item in invalidations(distribution_id)] == [result["invalidation_id"]]


def test_retries_stop_at_the_timeout(distribution_id: str) -> None:
    session = boto3.Session()
    session.events.register("before-call.cloudfront.CreateInvalidation", lambda **_: aws_error("Throttling"))
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], timeout=2)
    started = time.monotonic()
    with pytest.raises(HookError, match=rf"gave up invalidating {distribution_id} \(timeout 2s\): Throttling: injected Throttling"):
        cfngin_hook.execute(args, InjectingContext(session))
    assert time.monotonic() - started < 2 + 5  # bounded by the timeout (plus one request's slack)
    assert invalidations(distribution_id) == []


def _report_in_progress(parsed: dict[str, Any], **_: Any) -> None:
    # real CloudFront answers InProgress first; moto completes at once — rewrite the real answer
    parsed["Invalidation"]["Status"] = "InProgress"


def test_wait_polls_until_completed_in_any_letter_case(distribution_id: str) -> None:
    session = boto3.Session()
    polls: list[str] = []
    session.events.register("after-call.cloudfront.CreateInvalidation", _report_in_progress)
    session.events.register("after-call.cloudfront.GetInvalidation", lambda parsed, **_: polls.append(parsed["Invalidation"]["Status"]))
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], wait=True, timeout=30)
    result = cfngin_hook.execute(args, InjectingContext(session))
    assert polls == ["COMPLETED"]  # moto's spelling, accepted
    assert result["status"] == "Completed"


def test_wait_fails_clearly_at_the_timeout(distribution_id: str) -> None:
    session = boto3.Session()
    session.events.register("after-call.cloudfront.CreateInvalidation", _report_in_progress)
    session.events.register("after-call.cloudfront.GetInvalidation", _report_in_progress)
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], wait=True, timeout=2)
    with pytest.raises(HookError, match=r"still InProgress when the 2s timeout ran out \(it goes on in CloudFront"):
        cfngin_hook.execute(args, InjectingContext(session))


# -- the CLI, as a user runs it ---------------------------------------------------------------


def run_cli(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - argv list
        [sys.executable, "-m", MODULE, *arguments],
        env={**environment, "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seed_command_line(distribution_id: str, aws) -> None:  # type: ignore[no-untyped-def]
    run = run_cli([distribution_id, "--paths", "/index.html", "/assets/*", "--wait", "--timeout", "600", "--verbose"], aws.environment())
    assert run.returncode == 0, run.stderr
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == ["/", "/assets/*", "/index.html"]
    assert f"{distribution_id}: invalidation {created['Id']} Completed (3 paths)" in run.stdout
    assert f"invalidation {created['Id']} completed" in run.stderr


def test_json_output(distribution_id: str, aws) -> None:  # type: ignore[no-untyped-def]
    run = run_cli([distribution_id, "--paths", "docs/a b.html", "--json"], aws.environment())
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    (created,) = invalidations(distribution_id)
    assert result["invalidation_id"] == created["Id"]
    assert result["paths"] == sent_paths(created) == ["/docs/a%20b.html"]
    assert {"distribution_id", "invalidation_id", "paths", "status", "skipped"} <= set(result)
    assert result["distribution_id"] == distribution_id and result["skipped"] is False


def test_default_path_is_everything(distribution_id: str, aws) -> None:  # type: ignore[no-untyped-def]
    run = run_cli([distribution_id], aws.environment())
    assert run.returncode == 0, run.stderr
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == ["/*"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["E0000000000000"], "error: distribution_id: no CloudFront distribution E0000000000000 in this account"),
        (["E1", "--timeout", "soon"], "error: timeout: Input should be a valid integer"),
        (["E1", "--paths-from-hook-data", "runway_ext.npm_build.changed_paths"], "error: paths_from_hook_data: only available inside a Runway deploy"),
    ],
)
def test_cli_errors_are_one_line(arguments: list[str], message: str, aws) -> None:  # type: ignore[no-untyped-def]
    run = run_cli(arguments, aws.environment())
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(message), run.stderr
    assert "Traceback" not in run.stderr


# -- through real Runway ----------------------------------------------------------------------


@pytest.mark.runway
def test_runway_post_deploy_invalidates_and_waits(distribution_id: str, tmp_path: Path, aws) -> None:  # type: ignore[no-untyped-def]
    """``runway deploy --ci``: a site step reports changed paths, post_deploy invalidates them with wait."""
    module = tmp_path / "app.cfn"
    module.mkdir()
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text(f"namespace: demo\ncdn_distribution_id: {distribution_id}\n")
    # stands in for the npm build/sync hook: a plain CFNgin hook returning the same shape of data
    (module / "site_steps.py").write_text(
        '''"""Test-only hooks: report changed paths like a site sync, record an id from hook_data."""
from pathlib import Path


def report_changes(context, provider, **kwargs):
    return {"changed_paths": ["/index.html", "/blog/hello world/index.html", "/_next/static/app.js"], "nothing": []}


def record(context, provider, invalidation_id, **kwargs):
    Path("recorded-invalidation.txt").write_text(invalidation_id)
    return True
'''
    )
    (module / "config.yml").write_text(
        f"""namespace: ${{namespace}}
cfngin_bucket: ""
sys_path: ./
pre_deploy:
  - path: site_steps.report_changes
    data_key: site
post_deploy:
  - path: {HOOK_PATH}
    args:
      distribution_id: ${{cdn_distribution_id}}
      paths_from_hook_data: site.changed_paths
      wait: true
      timeout: 120
  - path: site_steps.record
    args:
      invalidation_id: ${{hook_data runway_ext.cloudfront_invalidation.invalidation_id}}
  - path: {HOOK_PATH}
    args:
      distribution_id: ${{cdn_distribution_id}}
      paths_from_hook_data: site.nothing
stacks: []
"""
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert run.ok, run.output
    (created,) = invalidations(distribution_id)  # the empty list created none
    assert sent_paths(created) == ["/", "/_next/static/app.js", "/blog/hello%20world/", "/blog/hello%20world/index.html", "/index.html"]
    assert created["Status"].lower() == "completed"
    assert (module / "recorded-invalidation.txt").read_text() == created["Id"]
    assert f"invalidation {created['Id']} completed" in run.output
    assert "site.nothing is empty: nothing changed" in run.output
    assert "Traceback" not in run.output


@pytest.mark.runway
def test_runway_fails_on_unknown_distribution(aws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    module = tmp_path / "app.cfn"
    module.mkdir()
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "config.yml").write_text(
        f"""namespace: ${{namespace}}
cfngin_bucket: ""
post_deploy:
  - path: {HOOK_PATH}
    args:
      distribution_id: E0000000000000
stacks: []
"""
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert not run.ok
    assert "cloudfront_invalidation: distribution_id: no CloudFront distribution E0000000000000 in this account" in run.output
    assert "Traceback" not in run.output
