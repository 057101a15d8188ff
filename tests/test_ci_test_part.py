"""``.ci/test-part``: pytest's exit code of one part, where exit 5 (no test collected) is a success only when asked.

A fake ``.venv/bin/python`` in a temporary folder stands in for pytest (the real suite takes minutes and the
engine part needs the host's Docker lock): it prints what it was given and exits with the code it is told.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "test-part"
FAKE_PYTHON = '#!/usr/bin/env bash\necho "part=$RUNWAY_EXT_TEST_PART args=$*"\nexit "$FAKE_CODE"\n'


def run(folder: Path, code: int, *arguments: str) -> subprocess.CompletedProcess[str]:
    (folder / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
    fake = folder / ".venv" / "bin" / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    (folder / ".ci").mkdir(exist_ok=True)
    shutil.copy(SCRIPT, folder / ".ci" / "test-part")
    env = {**os.environ, "FAKE_CODE": str(code)}
    return subprocess.run([".ci/test-part", *arguments], cwd=folder, env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 5])
def test_without_the_flag_every_code_is_pytests_own(tmp_path: Path, code: int) -> None:
    done = run(tmp_path, code, "rest", "-n", "2", "tests/x.py")
    assert (done.returncode, done.stdout) == (code, "part=rest args=-m pytest -n 2 tests/x.py\n")


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4])
def test_with_the_flag_a_failure_is_still_a_failure(tmp_path: Path, code: int) -> None:
    done = run(tmp_path, code, "--none-selected-is-ok", "engine", "-k", "x")
    assert (done.returncode, done.stdout) == (code, "part=engine args=-m pytest -k x\n")


def test_with_the_flag_no_test_collected_is_a_success_said_in_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, 5, "--none-selected-is-ok", "engine", "-k", "x")
    assert (done.returncode, done.stdout.splitlines()) == (0, ["part=engine args=-m pytest -k x", "tests (engine): none selected by these arguments"])


def test_without_a_part_it_says_how_to_call_it(tmp_path: Path) -> None:
    done = run(tmp_path, 0)
    assert done.returncode == 1 and "usage: .ci/test-part [--none-selected-is-ok] PART" in done.stderr
