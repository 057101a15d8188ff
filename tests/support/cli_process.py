"""Real CLI processes a test starts, waits on and stops (test support, runs in the test).

* Drivers (``tests/**/*_process.py``, built on :mod:`tests.support.kill_points`): :func:`start_driver` /
  :func:`run_driver` run ``python DRIVER [driver options] -- [CLI args]`` with this repository importable;
  :func:`wait_ready` waits until a paused driver has created ``FLAG.ready``; :func:`finish` collects its end.
* Long-running CLIs (``runway-ext local serve``, ``local deploy --serve``): :class:`ServedCli` starts one in its
  own session, collects its merged output line by line from a thread, waits for a line with a deadline, and
  stops it with SIGTERM and a bounded wait, then SIGKILL to its whole process group. :class:`LocalServe` is
  ``runway-ext local serve`` on a free port, once up; :func:`console_address` reads the console's address a
  serving CLI printed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from runway_ext.local.moto_server import free_port

REPO = Path(__file__).resolve().parents[2]
RUNWAY_EXT = str(Path(sys.executable).parent / "runway-ext")
_Served = TypeVar("_Served", bound="ServedCli")


def start_driver(
    script: Path,
    wrapper: Sequence[str],
    arguments: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[str]:
    """Start a driver with its options ``wrapper`` and the CLI's ``arguments`` (``env`` over this process's); stdout and stderr piped apart."""
    command = [sys.executable, str(script), *wrapper, "--", *arguments]
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_driver(
    script: Path,
    wrapper: Sequence[str],
    arguments: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a driver to its end (its own exit or its SIGKILL: ``returncode == -9``)."""
    process = start_driver(script, wrapper, arguments, env=env, cwd=cwd)
    return subprocess.CompletedProcess(process.args, *finish(process))


def wait_ready(flag: Path, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Wait until the driver paused at ``flag`` (it created ``FLAG.ready``); fails if it ended or never got there."""
    ready = Path(str(flag) + ".ready")
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise AssertionError(f"the process ended early: {process.communicate()}")
        assert time.monotonic() < deadline, "the process never reached its pause"
        time.sleep(0.02)


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    """Wait for a started driver: (exit code, stdout, stderr); past ``timeout`` s it is killed and TimeoutExpired raised."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, stdout, stderr


class ServedCli:
    """A CLI that runs until stopped, in its own session, stdin closed, its stdout and stderr collected in ``lines``.

    Use as a context manager (leaving it stops the process) or call :meth:`stop`. ``lines`` grows from a reader
    thread while the process runs; :meth:`wait_for_line` and :meth:`line` read a copy.
    """

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """Every line so far, one string."""
        return "\n".join(list(self.lines))

    def wait_for_line(self, prefix: str, timeout: float = 120) -> str:
        """The first line that starts with ``prefix``, once printed; fails if the process ends or ``timeout`` s pass first."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in list(self.lines) if line.startswith(prefix)]
            if found:
                return found[0]
            assert self.process.poll() is None, f"the process ended before printing {prefix!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"no line {prefix!r} within {timeout:g}s:\n{self.output}"
            time.sleep(0.2)

    def line(self, prefix: str) -> str:
        """The one line printed so far that starts with ``prefix`` (fails on none or several)."""
        (found,) = [line for line in list(self.lines) if line.startswith(prefix)]
        return found

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM the process and wait ``timeout`` s for its exit code; past that, SIGKILL its whole group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def __enter__(self: _Served) -> _Served:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


class LocalServe(ServedCli):
    """``runway-ext local serve --port PORT [options]`` on a free port, returned once it printed ``sites:`` (it is up).

    If it ends or stays silent for ``timeout`` s first, it is stopped and the failure names its output.
    """

    def __init__(self, *options: str, env: Mapping[str, str], cwd: Path, timeout: float = 120) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        super().__init__([RUNWAY_EXT, "local", "serve", "--port", str(self.port), *options], env=env, cwd=cwd)
        try:
            self.wait_for_line("sites:", timeout)
        except BaseException:
            self.stop()
            raise


def console_address(served: ServedCli) -> str:
    """The local console's address from the one ``console: URL`` line a serving CLI printed (a loopback URL)."""
    url = served.line("console: ").split(" ", 1)[1]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
    return url
