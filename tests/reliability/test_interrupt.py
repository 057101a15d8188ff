"""Ctrl-C during a hook's CLI: one line, exit code 130, and the program it was running stopped with it.

A real ``python -m runway_ext.hooks.sam_deploy`` process gets SIGINT while it waits for ``sam``. The
``sam`` it runs is a stand-in script (``sam_executable``; the real sam would need minutes to reach the
same point): it starts a grandchild and then hangs, writing both pids first. A terminal's Ctrl-C
reaches the whole foreground process group, but the hook starts its programs in their own session, so
it must stop them itself: here SIGINT goes to the hook's process only, and both pids must be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from runway_ext.local.moto_server import MotoServer


def gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (exited, or a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def hanging_program(folder: Path) -> tuple[Path, Path]:
    """A stand-in program that starts ``sleep 300`` and hangs; it writes ``<its pid> <the sleep's pid>`` first."""
    pids = folder / "pids"
    script = folder / "fake-sam"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pids)!r} + '.tmp', 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        f"os.replace({str(pids)!r} + '.tmp', {str(pids)!r})\n"
        "time.sleep(300)\n"
    )
    script.chmod(0o755)
    return script, pids


def test_ctrl_c_in_a_hook_cli_exits_130_and_stops_its_program(tmp_path: Path, aws: MotoServer) -> None:
    script, pids = hanging_program(tmp_path)
    (tmp_path / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources: {}\n")
    command = [sys.executable, "-m", "runway_ext.hooks.sam_deploy", "deploy", "--stack-name", "interrupted", "--template", "template.yaml"]
    process = subprocess.Popen(
        [*command, "--sam-executable", str(script), "--timeout", "120"],
        cwd=tmp_path,
        env={**os.environ, **aws.environment()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not pids.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the stand-in sam never started"
            time.sleep(0.05)
        program, grandchild = (int(pid) for pid in pids.read_text().split())
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "error: interrupted (Ctrl-C); stopped"
    deadline = time.monotonic() + 10
    while not (gone(program) and gone(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert gone(program), "the program the hook ran still runs"
        assert gone(grandchild), "a process the program started still runs"
    finally:
        for pid in (program, grandchild):  # after a failure: stop what this test started, by pid
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
