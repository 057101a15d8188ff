"""The CloudFront invalidation hook against a moto server: CFNgin face, CLI, real ``runway deploy``, and
the package run as a program. Faults injected into the API calls are in ``test_cloudfront.py``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runway.context import CfnginContext

from runway_ext.hooks.cloudfront_invalidation import cfngin_hook
from runway_ext.hooks.cloudfront_invalidation.plan import caller_reference
from runway_ext.local.moto_server import MotoServer
from runway_ext.testing.runway_cli import run_runway
from tests.hooks.cloudfront_invalidation.moto_cloudfront import invalidations, sent_paths

HOOK_PATH = "runway_ext.hooks.cloudfront_invalidation.cfngin_hook"
MODULE = "runway_ext.hooks.cloudfront_invalidation"
REPO = Path(__file__).resolve().parents[3]


def run_hook(context: CfnginContext, **kwargs: Any) -> Any:
    return cfngin_hook(context=context, provider=None, **kwargs)


# -- arguments --------------------------------------------------------------------------------


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


def test_atomic_release_needs_no_invalidation(distribution_id: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    context = CfnginContext(config_path=tmp_path)
    npm_build = {"layout": "atomic", "release": "r3", "changed_paths": ["/index.html", "/about/index.html"]}
    context.set_hook_data("runway_ext", {"npm_build": npm_build})
    with caplog.at_level(logging.INFO, logger="runway_ext"):
        result = run_hook(context, distribution_id=distribution_id, paths_from_hook_data="runway_ext.npm_build.changed_paths", wait=True)
    assert result["ok"] is True
    assert result["skipped"] is True and result["paths"] == [] and result["release"] == "r3"
    assert result["invalidation_id"] is None and result["status"] == "skipped"
    assert [record.getMessage() for record in caplog.records if "invalidat" in record.getMessage()] == [
        "atomic release r3: nothing to invalidate"
    ]
    assert invalidations(distribution_id) == []


def test_in_place_layout_is_still_invalidated(distribution_id: str, tmp_path: Path) -> None:
    context = CfnginContext(config_path=tmp_path)
    context.set_hook_data("runway_ext", {"npm_build": {"layout": "in-place", "release": "r3", "changed_paths": ["/index.html"]}})
    result = run_hook(context, distribution_id=distribution_id, paths_from_hook_data="runway_ext.npm_build.changed_paths")
    assert result["skipped"] is False and result["release"] is None
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == ["/", "/index.html"]


def test_missing_hook_data_is_a_clear_failure(distribution_id: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="runway_ext"):
        assert (
            run_hook(
                CfnginContext(config_path=tmp_path),
                distribution_id=distribution_id,
                paths_from_hook_data="runway_ext.npm_build.changed_paths",
            )
            is False
        )
    assert "paths_from_hook_data: no 'runway_ext' in hook_data" in caplog.text
    assert invalidations(distribution_id) == []


def test_unknown_distribution_is_one_line(aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
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


# -- the CLI, as a user runs it ---------------------------------------------------------------


def run_cli(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *arguments],
        env={**environment, "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seed_command_line(distribution_id: str, aws: MotoServer) -> None:
    run = run_cli([distribution_id, "--paths", "/index.html", "/assets/*", "--wait", "--timeout", "600", "--verbose"], aws.environment())
    assert run.returncode == 0, run.stderr
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == ["/", "/assets/*", "/index.html"]
    assert f"{distribution_id}: invalidation {created['Id']} Completed (3 paths)" in run.stdout
    assert f"invalidation {created['Id']} completed" in run.stderr


def test_json_output(distribution_id: str, aws: MotoServer) -> None:
    run = run_cli([distribution_id, "--paths", "docs/a b.html", "--json"], aws.environment())
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    (created,) = invalidations(distribution_id)
    assert result["invalidation_id"] == created["Id"]
    assert result["paths"] == sent_paths(created) == ["/docs/a%20b.html"]
    assert {"distribution_id", "invalidation_id", "paths", "status", "skipped"} <= set(result)
    assert result["distribution_id"] == distribution_id and result["skipped"] is False


def test_default_path_is_everything(distribution_id: str, aws: MotoServer) -> None:
    run = run_cli([distribution_id], aws.environment())
    assert run.returncode == 0, run.stderr
    (created,) = invalidations(distribution_id)
    assert sent_paths(created) == ["/*"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["E0000000000000"], "error: distribution_id: no CloudFront distribution E0000000000000 in this account"),
        (["E1", "--timeout", "soon"], "error: --timeout: Input should be a valid integer"),
        (
            ["E1", "--paths-from-hook-data", "runway_ext.npm_build.changed_paths"],
            "error: paths_from_hook_data: only available inside a Runway deploy",
        ),
    ],
)
def test_cli_errors_are_one_line(arguments: list[str], message: str, aws: MotoServer) -> None:
    run = run_cli(arguments, aws.environment())
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(message), run.stderr
    assert "Traceback" not in run.stderr


# -- through real Runway ----------------------------------------------------------------------


@pytest.mark.runway
def test_runway_post_deploy_invalidates_and_waits(distribution_id: str, tmp_path: Path, aws: MotoServer) -> None:
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
def test_runway_fails_on_unknown_distribution(aws: MotoServer, tmp_path: Path) -> None:
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


# -- the package runs as a program ---------------------------------------------------------------


@pytest.mark.parametrize(
    "how", [["-m", MODULE], ["runway_ext/hooks/cloudfront_invalidation"], ["runway_ext/hooks/cloudfront_invalidation/__main__.py"]]
)
def test_help_by_module_and_by_path(how: list[str]) -> None:
    completed = subprocess.run([sys.executable, *how, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"usage: python -m {MODULE} ")
    assert "DISTRIBUTION_ID" in completed.stdout
    assert "Error" not in completed.stderr and "Traceback" not in completed.stderr
