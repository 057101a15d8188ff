"""The subprocess runner: argv only, streamed, bounded, secrets through stdin."""

from __future__ import annotations

import logging
import sys
import time

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.process import find_executable, run_process


def test_output_is_streamed_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="runway_ext")
    result = run_process([sys.executable, "-c", "print('one'); print('two')"], what="printer", timeout=30)
    assert result.returncode == 0
    assert result.tail == ("one", "two")
    assert ["one", "two"] == [r.getMessage() for r in caplog.records if r.getMessage() in ("one", "two")]


def test_arguments_stay_literal() -> None:
    hostile = "$(touch pwned); rm -rf / `id` | cat > x"
    result = run_process([sys.executable, "-c", "import sys; print(sys.argv[1])", hostile], what="echo", timeout=30, capture_stdout=True)
    assert result.stdout == hostile + "\n"


def test_failure_raises_with_last_lines() -> None:
    with pytest.raises(HookError) as error:
        run_process([sys.executable, "-c", "print('step 1'); print('it broke'); raise SystemExit(3)"], what="the build", timeout=30)
    message = str(error.value)
    assert message.startswith("the build failed (exit code 3)")
    assert "it broke" in message


def test_timeout_kills_the_whole_group() -> None:
    started = time.monotonic()
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    with pytest.raises(HookError, match="sleeper timed out after 1s"):
        run_process([sys.executable, "-c", script], what="sleeper", timeout=1)
    assert time.monotonic() - started < 15


def test_stdin_reaches_the_program_and_not_argv() -> None:
    result = run_process(
        [sys.executable, "-c", "import sys; data = sys.stdin.read(); print(len(data), 'hunter2' in ' '.join(sys.argv))"],
        what="reader",
        timeout=30,
        stdin_text="hunter2-password",
        capture_stdout=True,
    )
    assert result.stdout.split() == ["16", "False"]


def test_missing_program_is_one_clear_line() -> None:
    with pytest.raises(HookError, match="no-such-tool-xyz not found on PATH; install it"):
        find_executable("no-such-tool-xyz", install_hint="install it")
    with pytest.raises(HookError, match="cannot run"):
        run_process(["/nonexistent/tool"], what="tool", timeout=5)
