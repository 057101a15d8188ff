"""Running sam: finding and version-checking it, the scratch folder, the credentials it gets (stand-in sam scripts)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import boto3
import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.log import redact
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.sam_deploy.commands import Credentials
from runway_ext.hooks.sam_deploy.parameters import overrides_document
from runway_ext.hooks.sam_deploy.sam_cli import SamRun, find_sam, session_credentials

LOG = logging.getLogger("runway_ext.hooks.sam_deploy.tests")


def fake_sam(folder: Path, script: str) -> str:
    """An executable shell script standing in for sam."""
    path = folder / "sam"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_find_sam_accepts_a_supported_version(tmp_path: Path) -> None:
    sam = fake_sam(tmp_path, 'echo "SAM CLI, version 1.170.0"')
    assert find_sam(sam, Deadline(30), LOG) == sam


def test_find_sam_refuses_an_old_version(tmp_path: Path) -> None:
    sam = fake_sam(tmp_path, 'echo "SAM CLI, version 1.99.1"')
    with pytest.raises(HookError, match=r"^sam_executable: sam 1\.99\.1 is older than 1\.170\.0"):
        find_sam(sam, Deadline(30), LOG)


def test_find_sam_goes_on_when_the_version_is_unreadable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sam = fake_sam(tmp_path, 'echo "something else"')
    caplog.set_level(logging.WARNING, logger="runway_ext")
    assert find_sam(sam, Deadline(30), LOG) == sam
    assert "could not read the sam version" in caplog.text


def test_missing_sam_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="pip install aws-sam-cli"):
        find_sam(str(tmp_path / "no-such-sam"), Deadline(30), LOG)


def test_spent_deadline_runs_nothing(tmp_path: Path) -> None:
    sam = fake_sam(tmp_path, f'touch "{tmp_path}/ran"; echo "SAM CLI, version 1.170.0"')
    with pytest.raises(HookError, match="budget was spent before sam --version"):
        find_sam(sam, Deadline(0), LOG)
    assert not (tmp_path / "ran").exists()


def test_sam_run_writes_private_overrides_and_cleans_up(tmp_path: Path) -> None:
    with SamRun(Credentials("AKIAEXAMPLE", "secret-key-value"), "eu-west-1", LOG, base_env={"AWS_PROFILE": "prod"}) as run:
        assert run.write_overrides({}) is None
        overrides = Path(run.write_overrides({"Greeting": 'say "hi"'}) or "")
        assert stat.S_IMODE(overrides.stat().st_mode) == 0o600
        assert overrides.read_text() == overrides_document({"Greeting": 'say "hi"'})
        assert (run.env["AWS_REGION"], run.env["AWS_SECRET_ACCESS_KEY"]) == ("eu-west-1", "secret-key-value")
        assert "AWS_PROFILE" not in run.env
        assert (Path(run.env["__SAM_CLI_APP_DIR"]) / "metadata.json").is_file()
        root = run.root
    assert not root.exists()


def test_sam_run_passes_the_environment_to_sam(tmp_path: Path) -> None:
    sam = fake_sam(tmp_path, 'echo "$AWS_DEFAULT_REGION" > region.txt')
    with SamRun(Credentials("AKIAEXAMPLE", "secret-key-value"), "eu-west-2", LOG) as run:
        run.run([sam], what="sam test", cwd=tmp_path, deadline=Deadline(30))
    assert (tmp_path / "region.txt").read_text().strip() == "eu-west-2"


def test_failed_sam_is_one_error_with_its_last_lines(tmp_path: Path) -> None:
    sam = fake_sam(tmp_path, 'echo "Error: template is bad"; exit 1')
    with SamRun(Credentials("AKIAEXAMPLE", "secret-key-value"), "us-east-1", LOG) as run:
        with pytest.raises(HookError, match=r"sam build failed \(exit code 1\); last output:\n    Error: template is bad"):
            run.run([sam], what="sam build", cwd=tmp_path, deadline=Deadline(30))


def test_session_credentials_are_registered_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTONLY123")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-5d1e9a")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "test-token-77c0b2")
    credentials = session_credentials(boto3.Session(region_name="eu-west-1"), "eu-west-1", LOG)
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIATESTONLY123",
        "test-secret-5d1e9a",
        "test-token-77c0b2",
    )
    assert redact("key test-secret-5d1e9a token test-token-77c0b2") == "key *** token ***"


def test_no_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(HookError, match="no AWS credentials found for region eu-west-1"):
        session_credentials(boto3.Session(region_name="eu-west-1"), "eu-west-1", LOG)
