"""The starter CI workflows of the sample project (sample-project/.github/workflows/).

Checked by the real linters, ``actionlint`` (with shellcheck for every ``run:`` script) and ``zizmor
--offline`` (a security auditor of workflows), both from ``.ci/workflow-lint-install.sh``: both clean. Then what the workflows promise is read from their
YAML: GitHub OIDC and no long-lived keys, minimal permissions (``id-token: write`` only in the jobs that assume
a role), one deploy of an environment at a time, one preview ``pr-<number>`` per pull request with its URL in
the job summary and in one comment updated in place, its deletion on close, and a local deploy with no AWS.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / "sample-project" / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
LINT_VENV = Path(__file__).resolve().parents[1] / ".venv-workflow-lint"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def tool(name: str) -> str:
    """``name`` from the workflow checkers' virtualenv (``.ci/workflow-lint-install.sh``), or skip saying why.

    With ``RUNWAY_EXT_REQUIRE_WORKFLOW_LINT=1`` (set by ``.ci/test`` once the installer ran) a missing tool fails.
    """
    found = LINT_VENV / "bin" / name
    if not found.exists():
        reason = f"{name} is not installed (bash .ci/workflow-lint-install.sh)"
        if os.environ.get("RUNWAY_EXT_REQUIRE_WORKFLOW_LINT") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_WORKFLOW_LINT=1 but {reason}")
        pytest.skip(reason)
    return str(found)


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("actionlint"), "-no-color", *map(str, paths)], capture_output=True, text=True, timeout=120, check=False)


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_three_workflows_exist() -> None:
    assert [path.name for path in FILES] == ["deploy.yml", "local.yml", "preview.yml"]


def test_actionlint_is_clean() -> None:
    run = actionlint(*FILES)
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_offline_is_clean_even_pedantic() -> None:
    run = zizmor(*FILES)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings" in run.stdout + run.stderr


def test_the_linters_can_fail(tmp_path: Path) -> None:
    """Both checks find what they are there for: an unknown key, and a pull request's title pasted into a shell."""
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "local.yml").read_text().replace("runs-on:", "runs_on:"))
    assert actionlint(broken).returncode != 0
    injected = tmp_path / "injected.yml"
    injected.write_text(
        (WORKFLOWS / "local.yml")
        .read_text()
        .replace("run: runway-ext local deploy .", 'run: echo "${{ github.event.pull_request.title }}"')
    )
    run = zizmor(injected)
    assert run.returncode != 0 and "template-injection" in run.stdout + run.stderr


def test_no_long_lived_keys_and_minimal_permissions() -> None:
    for path in FILES:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text and "secrets." not in text, path.name
        workflow = load(path.name)
        assert workflow["permissions"] == {}, path.name  # nothing by default; each job asks for what it needs
        for name, job in workflow["jobs"].items():
            permissions = job["permissions"]
            assert permissions.get("contents") == "read", name
            assumes_role = any("configure-aws-credentials" in str(step.get("uses", "")) for step in job["steps"])
            assert (permissions.get("id-token") == "write") == assumes_role, name  # the OIDC token only where a role is assumed
            assert set(permissions.values()) <= {"read", "write"} and set(permissions) <= {"contents", "id-token", "pull-requests"}
            for step in job["steps"]:
                uses = str(step.get("uses", ""))
                if uses:
                    assert len(uses.split("@")[1]) == 40, uses  # pinned to a commit
                if "configure-aws-credentials" in uses:
                    assert step["with"]["role-to-assume"].startswith("${{ vars."), name
                if uses.startswith("actions/checkout"):
                    assert step["with"]["persist-credentials"] is False


def test_deploys_of_one_environment_never_run_at_once() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    (job,) = workflow["jobs"].values()
    assert job["concurrency"] == {"group": "deploy-prod", "cancel-in-progress": False}
    assert job["env"]["DEPLOY_ENVIRONMENT"] == "prod" and job["steps"][-1]["run"] == "runway deploy --ci"


def test_a_preview_per_pull_request_and_its_deletion() -> None:
    workflow = load("preview.yml")
    assert workflow["on"]["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert workflow["env"]["PREVIEW"] == "pr-${{ github.event.pull_request.number }}"
    deploy, delete = workflow["jobs"]["deploy-preview"], workflow["jobs"]["delete-preview"]
    for job in (deploy, delete):
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]  # never for a fork
        assert job["concurrency"]["group"] == "preview-${{ github.event.pull_request.number }}"
    assert "action != 'closed'" in deploy["if"] and "action == 'closed'" in delete["if"]
    runs = "\n".join(str(step.get("run", "")) for step in deploy["steps"])
    assert '--preview "$PREVIEW"' in runs and "runway-ext npm-build" in runs
    assert 'https://$PREVIEW.$PREVIEW_DOMAIN/" >> "$GITHUB_STEP_SUMMARY"' in runs
    assert runs.count("<!-- runway-ext-preview -->") == 1 and "--method PATCH" in runs and "--method POST" in runs
    deletes = "\n".join(str(step.get("run", "")) for step in delete["steps"])
    assert 'runway-ext site preview-delete "$PREVIEW" --bucket-name' in deletes and "--key-value-store-arn" in deletes
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target: a fork's code never runs with these permissions


def test_the_local_deploy_needs_no_aws() -> None:
    workflow = load("local.yml")
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert job["steps"][-1]["run"] == "runway-ext local deploy ."
    assert not any("aws" in str(step.get("uses", "")) for step in job["steps"])
    assert '"${RUNWAY_EXT_SOURCE}[local]"' in "\n".join(str(step.get("run", "")) for step in job["steps"])
