"""The CLI entry point (``__main__.py``): started as a module and by path, it prints its usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runway_ext.cli import build_main_parser

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "runway_ext/hooks/docker_build_push"


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "runway_ext.hooks.docker_build_push"],
        [PACKAGE],
        [f"{PACKAGE}/__main__.py"],
    ],
    ids=["module", "package-path", "main-path"],
)
def test_help_prints_usage_however_it_is_started(command: list[str]) -> None:
    done = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m runway_ext.hooks.docker_build_push ")
    assert "REPOSITORY_NAME" in done.stdout and "--image-tag" in done.stdout and "--region" in done.stdout
    assert "Error" not in done.stderr


def test_runway_ext_command_has_the_sub_command() -> None:
    help_text = build_main_parser().format_help()
    assert "docker-build-push" in help_text
