"""The CLI face starts every way a user may start it: as a module, by folder path, by file path, as ``runway-ext``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
FLAGS = (
    "--bucket-name",
    "--app-path",
    "--environment",
    "--output-dir",
    "--delete",
    "--max-delete",
    "--dry-run",
    "--cache-rules",
    "--workers",
    "--region",
)


@pytest.mark.parametrize(
    "command",
    [["-m", "runway_ext.hooks.npm_build"], ["runway_ext/hooks/npm_build"], ["runway_ext/hooks/npm_build/__main__.py"]],
    ids=["module", "folder-path", "file-path"],
)
def test_help_prints_usage_however_it_is_started(command: list[str]) -> None:
    completed = subprocess.run([sys.executable, *command, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m runway_ext.hooks.npm_build ")
    assert all(flag in completed.stdout for flag in FLAGS)
    assert "Error" not in completed.stderr and "Traceback" not in completed.stderr


def test_runway_ext_console_command_lists_the_hook() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "runway_ext.cli", "npm-build", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: runway-ext npm-build ")
    assert all(flag in completed.stdout for flag in FLAGS)
