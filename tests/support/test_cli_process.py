"""The process harness (tests.support.cli_process, tests.support.kill_points) against real Python processes.

A driver written to a temporary folder wraps a method of its own and SIGKILLs itself or pauses there; a
served program prints lines, handles SIGTERM, ignores it, or leaves a child behind in its process group.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.cli_process import ServedCli, finish, run_driver, start_driver, wait_ready

DRIVER = textwrap.dedent(
    """
    import argparse, sys
    from pathlib import Path
    from tests.support.kill_points import die_after_call, die_after_calls, parse_driver_args, pause_before

    class Work:
        def step(self, n):
            print("step", n, flush=True)
            return n

    parser = argparse.ArgumentParser()
    parser.add_argument("--die-after", type=int)
    parser.add_argument("--die-at-odd", action="store_true")
    parser.add_argument("--pause", type=Path)
    options, rest = parse_driver_args(parser)
    if options.die_after is not None:
        die_after_calls(Work, "step", options.die_after)
    if options.die_at_odd:
        die_after_call(Work, "step", when=lambda self, n: n % 2 == 1)
    if options.pause is not None:
        pause_before(Work, "step", options.pause)
    for n in range(int(rest[0])):
        Work().step(n)
    print("done", rest, flush=True)
    """
)


@pytest.fixture
def driver(tmp_path: Path) -> Path:
    path = tmp_path / "work_process.py"
    path.write_text(DRIVER)
    return path


def test_a_driver_runs_its_cli_arguments_to_the_end(driver: Path) -> None:
    done = run_driver(driver, [], ["3", "--flag-of-the-cli"])
    assert (done.returncode, done.stdout) == (0, "step 0\nstep 1\nstep 2\ndone ['3', '--flag-of-the-cli']\n"), done.stderr


def test_a_driver_dies_after_the_nth_call_returned_and_nothing_after_it_runs(driver: Path) -> None:
    done = run_driver(driver, ["--die-after", "2"], ["5"])
    assert (done.returncode, done.stdout) == (-9, "step 0\nstep 1\n")


def test_a_driver_dies_after_the_first_call_its_condition_picks(driver: Path) -> None:
    done = run_driver(driver, ["--die-at-odd"], ["5"])
    assert (done.returncode, done.stdout) == (-9, "step 0\nstep 1\n")


def test_a_paused_driver_says_so_and_goes_on_once_the_flag_exists(driver: Path, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    paused = start_driver(driver, ["--pause", str(flag)], ["2"])
    wait_ready(flag, paused)
    assert paused.poll() is None
    flag.touch()
    assert finish(paused) == (0, "step 0\nstep 1\ndone ['2']\n", "")


def test_waiting_for_the_pause_of_a_driver_that_ended_fails_with_its_output(driver: Path, tmp_path: Path) -> None:
    ended = start_driver(driver, [], ["1"])
    with pytest.raises(AssertionError, match=r"the process ended early: \(\"step 0\\ndone \['1'\]"):
        wait_ready(tmp_path / "never", ended)


SERVED = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    mode = sys.argv[1]
    if mode == "child":
        child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
        print("child", child.pid, flush=True)
    if mode in ("ignore", "child"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    print("up: serving", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    if mode == "exit":
        sys.exit(1)
    while True:
        time.sleep(0.1)
    """
)


def served(mode: str, tmp_path: Path) -> ServedCli:
    return ServedCli([sys.executable, "-c", SERVED, mode], env=os.environ, cwd=tmp_path)


def test_a_served_cli_is_waited_for_by_its_line_and_stopped_by_sigterm_with_its_exit_code(tmp_path: Path) -> None:
    with served("term", tmp_path) as cli:
        assert cli.wait_for_line("up:") == "up: serving"
        cli.wait_for_line("to stderr")  # stderr is collected with stdout
        assert cli.line("up:") == "up: serving"
    assert cli.process.returncode == 3


def test_a_served_cli_that_ignores_sigterm_is_killed_with_its_whole_group_after_the_bound(tmp_path: Path) -> None:
    cli = served("child", tmp_path)
    child = int(cli.wait_for_line("child ").split()[1])
    cli.wait_for_line("up:")
    assert cli.stop(timeout=1) == -9
    deadline = time.monotonic() + 10
    while not gone(child):
        assert time.monotonic() < deadline, f"the child {child} outlived the stop"
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (no such process, or a zombie waiting for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_waiting_for_a_line_a_served_cli_never_prints_fails_with_its_output(tmp_path: Path) -> None:
    with served("exit", tmp_path) as cli, pytest.raises(AssertionError, match="the process ended before printing 'ready'"):
        cli.wait_for_line("ready", timeout=30)
    assert cli.output.splitlines() == ["up: serving", "to stderr"]
    with served("term", tmp_path) as cli, pytest.raises(AssertionError, match=r"no line 'ready' within 0.5s:\nup: serving"):
        cli.wait_for_line("ready", timeout=0.5)
