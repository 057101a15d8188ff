"""Ctrl-C on a real terminal during ``runway-ext local deploy`` stops everything the deploy started.

The command runs on a pseudo-terminal (its own session, the pty as controlling terminal), as a user's shell
runs it; Ctrl-C is the byte ``\\x03`` typed into the pty, so the terminal driver sends SIGINT to the foreground
process group, exactly as a keyboard does. Two programs hang mid-deploy:

* ``npm run build`` started by the real npm_build hook (in its own session, as the hook runs every program),
  whose build script starts a grandchild: both must be gone once the command exits;
* a program that left Runway's session itself and ignores SIGINT and SIGTERM (as a badly behaved tool may),
  started through Runway's own ``command.run_command`` hook: only the final kill of its group stops it.

The command must exit 130, name what it stopped, and print no traceback.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.local.tiny_project import RUNWAY_EXT, cli_environment, tiny_project
from tests.reliability.test_interrupt import gone

NPM_HOOK = """post_deploy:
  - path: runway_ext.hooks.npm_build.build_and_sync_app
    args:
      bucket_name: ${output store.BucketName}
      app_path: ./app
"""

BUILD_SCRIPT = """const { spawn } = require("child_process");
const fs = require("fs");
const child = spawn("sleep", ["300"], { stdio: "ignore" });
fs.writeFileSync(process.env.PIDS_FILE + ".tmp", `${process.pid} ${child.pid}`);
fs.renameSync(process.env.PIDS_FILE + ".tmp", process.env.PIDS_FILE);
setInterval(() => {}, 1000);
"""

STUBBORN = """import os, signal, sys, time
os.setsid()
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1] + ".tmp", "w").write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""


def run_on_pty(argv: list[str], cwd: Path, env: dict[str, str], ready: Path, *, timeout: float = 240) -> tuple[int, str, float]:
    """Run ``argv`` on a pty; once ``ready`` exists type Ctrl-C; return (exit code, everything printed, seconds to exit)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader with the pty as its terminal, as a shell's job would be
        os.chdir(cwd)
        os.execve(argv[0], argv, env)  # noqa: S606 - argv list, no shell: the pty child becomes the command
    output = bytearray()
    sent_at: float | None = None
    deadline = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([fd], [], [], 0.1)
            if readable:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                output += chunk
            if sent_at is None and ready.exists():
                time.sleep(0.5)  # the hook is waiting on its program now
                os.write(fd, b"\x03")
                sent_at = time.monotonic()
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the command did not end:\n" + output.decode(errors="replace"))
        while True:  # what is left in the pty
            readable, _, _ = select.select([fd], [], [], 0.2)
            if not readable:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(fd)
    assert sent_at is not None, "never got to the point to interrupt:\n" + output.decode(errors="replace")
    assert status is not None
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace"), time.monotonic() - sent_at


def stop_left_overs(*pids: int) -> None:
    for pid in pids:  # after a failure: stop what this test started, by pid
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.runway
def test_ctrl_c_on_a_pty_stops_npm_build_and_its_child(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project", hooks=NPM_HOOK)
    app = project / "app.cfn" / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "hang", "version": "1.0.0", "scripts": {"build": "node build.js"}}\n')
    (app / "build.js").write_text(BUILD_SCRIPT)
    pids = tmp_path / "pids"
    env = {**cli_environment(), "PIDS_FILE": str(pids)}
    code, output, seconds = run_on_pty([RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off"], tmp_path, env, pids)
    npm_script, sleeper = (int(pid) for pid in pids.read_text().split())
    deadline = time.monotonic() + 5
    while not (gone(npm_script) and gone(sleeper)) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert gone(npm_script), "the build script still runs:\n" + output
        assert gone(sleeper), "the build's child still runs:\n" + output
    finally:
        stop_left_overs(npm_script, sleeper)
    assert code == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "error: interrupted (Ctrl-C); stopped" in output
    stopped = [line for line in output.splitlines() if line.startswith(("warning: stopped", "warning: killed"))]
    assert stopped and any("node build.js" in line for line in stopped), output
    assert seconds < 30


@pytest.mark.runway
def test_ctrl_c_kills_a_program_that_ignores_it_after_the_grace_period(tmp_path: Path) -> None:
    ready = tmp_path / "stubborn.pid"
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    hooks = f"""pre_deploy:
  - path: runway.cfngin.hooks.command.run_command
    args:
      command: ["{sys.executable}", "{script}", "{ready}"]
"""
    project = tiny_project(tmp_path / "project", hooks=hooks)
    code, output, seconds = run_on_pty([RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off"], tmp_path, cli_environment(), ready)
    stubborn = int(ready.read_text())
    deadline = time.monotonic() + 5
    while not gone(stubborn) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert gone(stubborn), "the program that ignores SIGINT still runs:\n" + output
    finally:
        stop_left_overs(stubborn)
    assert code == 130, output
    assert "Traceback" not in output, output
    killed = [line for line in output.splitlines() if line.startswith("warning: killed")]
    assert killed and "stubborn.py" in killed[0] and f"pid {stubborn}" in killed[0], output


@pytest.mark.runway
def test_the_timeout_stops_the_run_and_what_it_started(tmp_path: Path) -> None:
    ready = tmp_path / "stubborn.pid"
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    hooks = f"""pre_deploy:
  - path: runway.cfngin.hooks.command.run_command
    args:
      command: ["{sys.executable}", "{script}", "{ready}"]
"""
    project = tiny_project(tmp_path / "project", hooks=hooks)
    done = subprocess.run(
        [RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off", "--timeout", "45"],
        cwd=tmp_path, env=cli_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ready.exists(), done.stdout + done.stderr
    stubborn = int(ready.read_text())
    try:
        assert gone(stubborn), "the program still runs after the timeout"
    finally:
        stop_left_overs(stubborn)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: runway deploy timed out after 45s; stopped it and what it started"
    assert any(line.startswith("warning: killed") and f"pid {stubborn}" in line for line in done.stderr.splitlines()), done.stderr
