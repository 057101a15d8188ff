"""The env file generator, both faces: the CFNgin hook writing real files, the CLI, and a real Runway deploy using ${dotenv}."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values
from runway.context import CfnginContext

from runway_ext.docs_tables import discover_hooks
from runway_ext.hooks.env_file_generator import COMMAND, cfngin_hook
from runway_ext.local.moto_server import MotoServer
from runway_ext.testing.runway_cli import run_runway

MODULE = "runway_ext.hooks.env_file_generator"
HOOK_PATH = f"{MODULE}.cfngin_hook"
ROOT = Path(__file__).resolve().parents[3]


class TestExecutor:
    def run(self, tmp_path: Path, **kwargs: object) -> object:
        return cfngin_hook(context=CfnginContext(config_path=tmp_path), provider=None, **kwargs)

    def test_creates_private_file_that_reads_back(self, tmp_path: Path) -> None:
        target = tmp_path / "app" / ".env.local"
        variables = {"API_URL": "https://x.test/a?b=c#d", "MULTI": "l1\nl2", "QUOTES": 'it\'s "ok"'}
        result = self.run(tmp_path, output_file=str(target), variables=variables)
        assert result == {"output_file": str(target), "action": "created", "keys": list(variables), "backup_file": None, "ok": True}
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert dotenv_values(target) == variables
        assert target.read_text().startswith("# Written by runway_ext")

    def test_refuses_existing_file_without_overwrite(self, tmp_path: Path) -> None:
        target = tmp_path / ".env"
        target.write_text("KEEP=me\n")
        assert self.run(tmp_path, output_file=str(target), variables={"A": "1"}) is False
        assert target.read_text() == "KEEP=me\n"
        assert [p.name for p in tmp_path.iterdir()] == [".env"]

    def test_overwrite_backs_up_first(self, tmp_path: Path) -> None:
        target = tmp_path / ".env"
        target.write_text("OLD=1\n")
        result = self.run(tmp_path, output_file=str(target), variables={"NEW": "2"}, overwrite=True)
        assert isinstance(result, dict) and result["action"] == "updated"
        backup = Path(result["backup_file"])
        assert backup.parent == tmp_path and backup.name.startswith(".env.") and backup.name.endswith(".bak")
        assert backup.read_text() == "OLD=1\n"
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert dotenv_values(target) == {"NEW": "2"}

    def test_unchanged_content_is_not_rewritten_nor_backed_up(self, tmp_path: Path) -> None:
        target = tmp_path / ".env"
        self.run(tmp_path, output_file=str(target), variables={"A": "1"})
        before = target.stat().st_mtime_ns
        result = self.run(tmp_path, output_file=str(target), variables={"A": "1"}, overwrite=True)
        assert isinstance(result, dict) and result["action"] == "unchanged"
        assert target.stat().st_mtime_ns == before
        assert [p.name for p in tmp_path.iterdir()] == [".env"]

    def test_check_mode_writes_nothing(self, tmp_path: Path) -> None:
        target = tmp_path / ".env"
        assert self.run(tmp_path, output_file=str(target), variables={"A": "1"}, check=True) is False
        assert not target.exists()
        self.run(tmp_path, output_file=str(target), variables={"A": "1"})
        result = self.run(tmp_path, output_file=str(target), variables={"A": "1"}, check=True)
        assert isinstance(result, dict) and result["action"] == "up-to-date"

    def test_verbose_logs_names_not_secret_values(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="runway_ext")
        variables = {"REGION": "eu-west-1", "DB_PASSWORD": "pw-9f8e7d", "DATABASE_URL": "postgres://u:urlsecret1@h/db"}
        self.run(tmp_path, output_file=str(tmp_path / ".env"), variables=variables, verbose=True)
        assert "REGION=eu-west-1" in caplog.text
        assert "DB_PASSWORD=***" in caplog.text
        assert "DATABASE_URL=***" in caplog.text  # secret by its shape: a URL with a password
        assert "pw-9f8e7d" not in caplog.text and "urlsecret1" not in caplog.text


class TestCli:
    def cli(self, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runway_ext.hooks.env_file_generator", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_seed_command_line(self, tmp_path: Path) -> None:
        done = self.cli(tmp_path, "--output-file", ".env.local", "--variables", "K=V", "K2=V2", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["action"] == "created"
        assert dotenv_values(tmp_path / ".env.local") == {"K": "V", "K2": "V2"}
        done = self.cli(
            tmp_path, "--output-file", ".env.local", "--json-variables", '{"K": "W"}', "--overwrite", "--create-backup", "--verbose"
        )
        assert done.returncode == 0, done.stderr
        assert dotenv_values(tmp_path / ".env.local") == {"K": "W"}
        assert len(list(tmp_path.glob(".env.local.*.bak"))) == 1

    def test_errors_are_one_line_and_non_zero(self, tmp_path: Path) -> None:
        done = self.cli(tmp_path, "--output-file", ".env", "--variables", "BAD-NAME=1")
        assert done.returncode == 1
        assert done.stderr.strip() == "error: --variables: invalid variable name 'BAD-NAME' (expected [A-Za-z_][A-Za-z0-9_]*)"
        assert "Traceback" not in done.stderr
        assert not (tmp_path / ".env").exists()

    def test_console_script_has_the_subcommand(self, tmp_path: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "runway_ext", "env-file-generator", "--output-file", "x.env", "--variables", "A=1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert dotenv_values(tmp_path / "x.env") == {"A": "1"}


def test_the_hook_is_found_under_its_config_yml_path() -> None:
    assert COMMAND is cfngin_hook
    assert discover_hooks()[HOOK_PATH] is cfngin_hook


@pytest.mark.parametrize(
    "command",
    [["-m", MODULE], ["runway_ext/hooks/env_file_generator"], ["runway_ext/hooks/env_file_generator/__main__.py"]],
    ids=["module", "folder", "file"],
)
def test_help_runs_as_a_module_and_by_path(command: list[str]) -> None:
    done = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {MODULE} ")
    assert "--output-file" in done.stdout
    assert "Error" not in done.stderr


@pytest.mark.runway
def test_runway_deploy_runs_the_hook_with_dotenv_lookup(tmp_path: Path, aws: MotoServer) -> None:
    """Real ``runway deploy --ci`` (against the moto server) resolves ${dotenv} and runs the hook in pre_deploy."""
    module = tmp_path / "app.cfn"
    module.mkdir()
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "settings.env").write_text("API_URL=https://api.example.test\nexport FLAG='on'\nSECRET_TOKEN=tok-12345678\n")
    (module / "config.yml").write_text(
        f"""namespace: ${{namespace}}
cfngin_bucket: ""
lookups:
  dotenv: runway_ext.lookups.DotenvLookup
pre_deploy:
  - path: {HOOK_PATH}
    args:
      output_file: generated/.env.app
      variables:
        API_URL: ${{dotenv API_URL::file=settings.env}}
        FLAG: ${{dotenv FLAG::file=settings.env}}
        API_TOKEN: ${{dotenv SECRET_TOKEN::file=settings.env}}
        MISSING: ${{dotenv NOPE::file=settings.env, default=fallback}}
        REGION: ${{region}}
      verbose: true
  - path: {HOOK_PATH}
    required: false
    args:
      output_file: generated/.env.app
      variables:
        OTHER: x
stacks: []
"""
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert run.ok, run.output
    written = module / "generated" / ".env.app"
    assert dotenv_values(written) == {
        "API_URL": "https://api.example.test",
        "FLAG": "on",
        "API_TOKEN": "tok-12345678",
        "MISSING": "fallback",
        "REGION": "us-east-1",
    }
    assert "created generated/.env.app with 5 variables" in run.output
    assert "env_file_generator: output_file: generated/.env.app exists; set overwrite: true" in run.output
    assert "tok-12345678" not in run.output
    assert "Traceback" not in run.output


@pytest.mark.runway
def test_runway_fails_a_required_hook_with_bad_args(tmp_path: Path, aws: MotoServer) -> None:
    module = tmp_path / "app.cfn"
    module.mkdir()
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "config.yml").write_text(
        f"namespace: ${{namespace}}\ncfngin_bucket: ''\npre_deploy:\n  - path: {HOOK_PATH}\n    args:\n      variables:\n        A: '1'\nstacks: []\n"
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert not run.ok
    assert "env_file_generator: output_file: field required" in run.output
    assert "Traceback" not in run.output
    assert not any(path.name.startswith(".env") for path in module.rglob("*"))
