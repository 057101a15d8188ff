"""Known secret values through every hook at the most verbose level: never in logs, CLI output, hook_data,
the run journal, or any process's argv (``/proc/*/cmdline`` polled while the hook runs); secret files are 0600.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.core.journal import JOURNAL_VARIABLE
from runway_ext.hooks.env_file_generator import cfngin_hook as env_file_hook
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.sam_deploy import cfngin_hook as sam_hook
from runway_ext.testing.cfngin import make_cfngin_context
from tests.support.logs import LoggedLines
from tests.support.process_watch import ProcessWatch

REPO = Path(__file__).resolve().parents[2]
DB_PASSWORD = "Pw-d8f3c1e0a9b7"
DATABASE_URL = f"postgres://app:{DB_PASSWORD}@db.internal:5432/app"
API_TOKEN = "tok-5e2b7a91c4d6f0"
REGISTRY_PASSWORD = "reg-pw-0b9c8d7e6f5a"
NPM_TOKEN = "npm-tok-1a2b3c4d5e6f"
SECRETS = (DB_PASSWORD, API_TOKEN, REGISTRY_PASSWORD, NPM_TOKEN)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> LoggedLines:
    """DEBUG (the most verbose level) on the runway_ext and runway loggers: what a verbose deploy prints.

    botocore's own DEBUG wire log is left out: it prints raw AWS responses (a DescribeStacks answer holds
    parameter values), which no hook controls; docs/reliability.md says so.
    """
    return LoggedLines(caplog, loggers=("runway_ext", "runway"))


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal.jsonl"
    monkeypatch.setenv(JOURNAL_VARIABLE, str(path))
    return path


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret {secret[:6]}… found in {where}"


def check_run(logs: LoggedLines, journal: Path, context: Any, watch: ProcessWatch, *outputs: str) -> None:
    assert logs.lines, "nothing was logged: the check would prove nothing"
    assert_no_secret("logs", "\n".join(logs.lines))
    assert journal.is_file() and journal.read_text().strip()
    assert_no_secret("journal", journal.read_text())
    assert_no_secret("hook_data", json.dumps(context.hook_data, default=str))
    for output in outputs:
        assert_no_secret("CLI output", output)
    assert watch.polls >= 1
    assert watch.seen == []


def test_env_file_generator_keeps_secrets_out_of_everything_but_the_0600_file(tmp_path: Path, logs: LoggedLines, journal: Path) -> None:
    context = make_cfngin_context(tmp_path)
    target = tmp_path / "app" / ".env"
    with ProcessWatch(*SECRETS) as watch:
        result = env_file_hook(
            context,
            None,
            output_file=str(target),
            verbose=True,
            variables={"DATABASE_URL": DATABASE_URL, "API_TOKEN": API_TOKEN, "PLAIN": "visible"},
        )
        again = env_file_hook(
            context,
            None,
            output_file=str(target),
            verbose=True,
            overwrite=True,
            variables={"DATABASE_URL": DATABASE_URL, "API_TOKEN": API_TOKEN + "-2", "PLAIN": "visible"},
        )
    assert result and again
    assert "visible" in "\n".join(logs.lines)  # the debug lines were really emitted, with non-secret values
    check_run(logs, journal, context, watch)
    for written in [target, *target.parent.glob("*.bak")]:
        assert (written.stat().st_mode & 0o777) == 0o600
    assert API_TOKEN in target.read_text() + "".join(path.read_text() for path in target.parent.glob("*.bak"))


def test_env_file_generator_cli_output_has_no_secret_values(tmp_path: Path, aws) -> None:  # type: ignore[no-untyped-def]
    """The CLI's own argv holds the values the user typed; its output and log lines must not repeat them."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runway_ext.hooks.env_file_generator",
            "--output-file",
            str(tmp_path / ".env"),
            "--verbose",
            "--json",
            "--variables",
            f"DATABASE_URL={DATABASE_URL}",
            f"API_TOKEN={API_TOKEN}",
        ],
        env=aws.environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "DATABASE_URL" in done.stdout + done.stderr
    assert_no_secret("CLI output", done.stdout + done.stderr)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_build_keeps_env_file_secrets_out_of_logs_argv_and_hook_data(aws, tmp_path: Path, logs: LoggedLines, journal: Path) -> None:  # type: ignore[no-untyped-def]
    boto3.client("s3").create_bucket(Bucket="secret-site")
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "fixtures" / "static_app", app)
    (app / ".env.dev").write_text(f"NEXT_PUBLIC_API_URL=https://api.test\nDATABASE_URL={DATABASE_URL}\nNPM_TOKEN={NPM_TOKEN}\n")
    context = make_cfngin_context(tmp_path)
    with ProcessWatch(*SECRETS) as watch:
        result = build_and_sync_app(context, None, bucket_name="secret-site", app_path=str(app), verbose=True)
    assert result, logs.lines[-5:]
    check_run(logs, journal, context, watch)
    assert (app / ".env.local").stat().st_mode & 0o777 == 0o600
    s3 = boto3.client("s3")
    for item in s3.list_objects_v2(Bucket="secret-site")["Contents"]:
        assert_no_secret(
            f"s3 object {item['Key']}", s3.get_object(Bucket="secret-site", Key=item["Key"])["Body"].read().decode(errors="replace")
        )


@pytest.mark.sam
def test_sam_deploy_token_parameter_never_on_argv_or_in_logs(sam: str, aws, tmp_path: Path, logs: LoggedLines, journal: Path) -> None:  # type: ignore[no-untyped-def]
    boto3.client("s3").create_bucket(Bucket="sam-artifacts")
    app = tmp_path / "sam-app"
    shutil.copytree(REPO / "tests" / "fixtures" / "sam_app", app)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("python3.11", f"python{sys.version_info.major}.{sys.version_info.minor}"))
    context = make_cfngin_context(tmp_path)
    parameters = {"Environment": "dev", "BucketName": "secret-data", "Greeting": "hello", "ApiToken": API_TOKEN}
    with ProcessWatch(*SECRETS) as watch:
        result = sam_hook(
            context,
            None,
            template_file=str(template),
            stack_name="secret-stack",
            sam_executable=sam,
            s3_bucket="sam-artifacts",
            parameters=parameters,
            verbose=True,
        )
    assert result, logs.lines[-5:]
    check_run(logs, journal, context, watch)
    assert len(watch.processes_seen) > 5  # sam and its children were running while we looked
