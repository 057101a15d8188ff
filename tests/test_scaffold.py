"""``runway-ext new-hook``: from the scaffold to a tested hook running in ``runway deploy --ci`` on moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from runway_ext import __version__
from runway_ext.cli import main
from runway_ext.core.errors import HookError
from runway_ext.local.moto_server import MotoServer
from runway_ext.scaffold import class_prefix, render, scaffold, validate_name
from runway_ext.testing.runway_cli import run_runway

HOOK = "seed_greeting"


def console_script() -> str:
    """The ``runway-ext`` script installed beside the running Python."""
    return str(Path(sys.executable).parent / "runway-ext")


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without pytest settings that would leak into an inner pytest run."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("My-Hook", "is not a valid module name"),
        ("2fast", "is not a valid module name"),
        ("CamelCase", "is not a valid module name"),
        ("lambda", "is a Python keyword"),
        ("json", "is already an importable module"),
        ("boto3", "is already an importable module"),
        ("test_things", "would be collected as a test module"),
    ],
)
def test_names_that_cannot_be_a_hook_module_are_refused(name: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(HookError, match=f"^name: '{name}' {message}"):
        scaffold(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_class_name_and_placeholders() -> None:
    assert class_prefix("seed_greeting") == "SeedGreeting"
    assert class_prefix("_private_thing") == "PrivateThing"
    hook_text, test_text = render("seed_greeting")
    assert "class SeedGreetingArgs(HookArgs):" in hook_text
    assert '@hook("seed_greeting", SeedGreetingArgs' in hook_text
    assert "__NAME__" not in hook_text + test_text and "__CLASS__" not in hook_text + test_text
    compile(hook_text, "seed_greeting.py", "exec")
    compile(test_text, "test_seed_greeting.py", "exec")


def test_existing_files_are_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / f"test_{HOOK}.py").write_text("# mine\n")
    assert main(["new-hook", HOOK, "--dir", str(tmp_path)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [f"error: name: {tmp_path / 'tests' / f'test_{HOOK}.py'} already exists; nothing written"]
    assert (tmp_path / "tests" / f"test_{HOOK}.py").read_text() == "# mine\n"
    assert not (tmp_path / f"{HOOK}.py").exists()


def test_dir_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    assert main(["new-hook", HOOK, "--dir", str(target)]) == 1
    assert capsys.readouterr().err.strip() == f"error: dir: {target} is not a folder"


def test_validate_name_accepts_a_fresh_identifier() -> None:
    assert validate_name("seed_greeting_never_used") == "seed_greeting_never_used"


@pytest.mark.runway
def test_new_hook_to_tested_hook_running_in_runway_deploy(tmp_path: Path, aws: MotoServer) -> None:
    """Scaffold into a fresh project, run its generated tests (plugin via entry point), then deploy it with runway."""
    project = tmp_path / "project"
    module = project / "app.cfn"
    project.mkdir()
    made = subprocess.run(
        [console_script(), "new-hook", HOOK, "--dir", "app.cfn"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[:2] == [f"wrote app.cfn/{HOOK}.py", f"wrote app.cfn/tests/test_{HOOK}.py"]

    # 1. The generated tests pass in a pytest run of their own: the fixtures come from the installed entry point.
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "app.cfn/tests"],
        cwd=project,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3 passed" in tested.stdout
    assert "plugins: " in tested.stdout and f"runway-ext-{__version__}" in tested.stdout  # loaded by its entry point

    # 2. The command-line face of the new hook, against moto.
    cli = subprocess.run(
        [sys.executable, f"app.cfn/{HOOK}.py", "--parameter-name", "/cli/greeting", "--value", "from the cli", "--json"],
        cwd=project,
        env=clean_environment(**aws.environment()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == {"parameter_name": "/cli/greeting", "changed": True, "version": 1, "ok": True}
    usage = subprocess.run(
        [sys.executable, f"app.cfn/{HOOK}.py", "--help"], cwd=project, capture_output=True, text=True, timeout=60, check=False
    )
    assert usage.stdout.startswith(f"usage: python app.cfn/{HOOK}.py ")

    # 3. The same hook inside a real `runway deploy --ci`, imported through CFNgin's sys_path.
    (project / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "config.yml").write_text(
        f"""namespace: ${{namespace}}
cfngin_bucket: ""
sys_path: .
pre_deploy:
  - path: {HOOK}.cfngin_hook
    data_key: greeting
    args:
      parameter_name: /${{namespace}}/greeting
      value: ${{envvar GREETING}}
      secure: true
  - path: {HOOK}.cfngin_hook
    required: false
    args:
      parameter_name: not-a-parameter-path
      value: x
stacks: []
"""
    )
    environment = {**aws.environment(), "GREETING": "hello-from-runway-1234"}
    first = run_runway(project, ["deploy", "--ci"], environment=environment)
    assert first.ok, first.output
    stored = boto3.client("ssm").get_parameter(Name="/demo/greeting", WithDecryption=True)["Parameter"]
    assert (stored["Value"], stored["Type"]) == ("hello-from-runway-1234", "SecureString")
    assert "wrote /demo/greeting = *** (version 1)" in first.output
    assert "hello-from-runway-1234" not in first.output
    assert f"{HOOK}: parameter_name: String should match pattern" in first.output
    assert "Traceback" not in first.output

    second = run_runway(project, ["deploy", "--ci"], environment=environment)
    assert second.ok, second.output
    assert "/demo/greeting already holds this value; nothing to do" in second.output
    assert boto3.client("ssm").get_parameter(Name="/demo/greeting")["Parameter"]["Version"] == 1
