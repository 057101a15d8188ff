"""Run ``runway`` so that Ctrl-C (or a timeout) stops everything the run started, and says what it stopped.

Runway runs in its own session, with a marker variable (:data:`RUN_MARKER_VARIABLE`) in its environment that
every program it starts inherits. The hooks start their programs (``npm run build``, ``docker push``,
``sam deploy``) in sessions of their own, so a terminal's Ctrl-C reaches none of them directly, and once
Runway has exited they are re-parented to init. On SIGINT/SIGTERM (or the timeout) :func:`run_guarded`:

1. notes every process of the run: Runway's descendants, and every process carrying the marker;
2. forwards SIGINT to Runway's process group, so its hooks stop the programs they started (they kill their
   process groups on ``KeyboardInterrupt``);
3. waits up to :data:`GRACE_SECONDS` for all of them to end;
4. kills the process group of each one still running (SIGKILL), then the process itself;
5. returns what ended by itself and what had to be killed, for one line each.

Runway's output is copied line by line to ``echo`` (the terminal) and its last lines are kept, so a summary
can name the cause of a failure. Linux only (``/proc``), as local mode is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_MARKER_VARIABLE = "RUNWAY_EXT_LOCAL_RUN"
"""Set to a fresh id in the environment of one local run; every program the run starts inherits it."""
GRACE_SECONDS = 10.0
"""How long the hooks get to stop their programs after Ctrl-C before the rest is killed."""
KEPT_LINES = 400
"""How many of Runway's last output lines are kept for the summary."""


@dataclass(frozen=True)
class RunProcess:
    """One process of a run: its pid, its process group and its command line (shortened)."""

    pid: int
    pgid: int
    command: str


@dataclass
class GuardedRun:
    """How a guarded run ended: Runway's exit code (``None`` when it was stopped), its last lines, what was stopped."""

    returncode: int | None
    output: list[str]
    interrupted: str | None = None
    """``"Ctrl-C"``, ``"SIGTERM"`` or ``"timeout"`` when the run was stopped."""
    ended: list[RunProcess] = field(default_factory=list)
    """Processes of the run that ended by themselves within the grace period."""
    killed: list[RunProcess] = field(default_factory=list)
    """Processes of the run that were still running after it and were killed."""
    failure: str | None = None
    """The cause of a failure the caller found in the output (an exit code 0 that did nothing, say)."""

    def stopped_lines(self) -> list[str]:
        """One line naming what was stopped and how (empty when nothing was running)."""
        lines = []
        if self.ended:
            lines.append("stopped (ended within the grace period): " + _names(self.ended))
        if self.killed:
            lines.append(f"killed (still running after {GRACE_SECONDS:g}s): " + _names(self.killed))
        return lines


def _names(processes: Sequence[RunProcess]) -> str:
    return ", ".join(f"{process.command} (pid {process.pid})" for process in processes)


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, process group, state) of ``pid``, or ``None`` when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), fields[0]


def _command(pid: int) -> str:
    """The command line of ``pid`` as a person reads it: file paths shortened to their names, at most 80 characters."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [part.decode(errors="replace") for part in argv if part]
    text = " ".join(Path(word).name if word.startswith("/") else word for word in words) or "?"
    return text if len(text) <= 80 else text[:77] + "..."


def _carries_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie nobody reaped yet counts as ended)."""
    found = _stat(pid)
    return found is not None and found[2] not in ("Z", "X")


def run_processes(root: int, marker: str) -> list[RunProcess]:
    """Every live process of the run: descendants of ``root`` and processes carrying ``marker`` (not this one)."""
    needle = f"{RUN_MARKER_VARIABLE}={marker}".encode()
    parents: dict[int, int] = {}
    groups: dict[int, int] = {}
    marked: set[int] = set()
    own = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        pid = int(entry.name)
        found = _stat(pid)
        if found is None or found[2] in ("Z", "X"):
            continue
        parents[pid], groups[pid] = found[0], found[1]
        if _carries_marker(pid, needle):
            marked.add(pid)
    members = set(marked) | ({root} if root in parents else set())
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if pid not in members and parent in members:
                members.add(pid)
                changed = True
    return [RunProcess(pid, groups[pid], _command(pid)) for pid in sorted(members)]


def _kill(process: RunProcess) -> None:
    """SIGKILL the process group of ``process`` (never this process's own group), then the process."""
    if process.pgid > 1 and process.pgid != os.getpgrp():
        try:
            os.killpg(process.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.kill(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_run(process: subprocess.Popen[str], marker: str, *, grace: float = GRACE_SECONDS) -> tuple[list[RunProcess], list[RunProcess]]:
    """Forward SIGINT to Runway's group, give the hooks ``grace`` seconds, kill what is left: (ended, killed)."""
    found = run_processes(process.pid, marker)
    try:
        os.killpg(process.pid, signal.SIGINT)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()
        found += [extra for extra in run_processes(process.pid, marker) if extra.pid not in {known.pid for known in found}]
        if not any(alive(member.pid) for member in found):
            break
        time.sleep(0.05)
    left = [member for member in found if alive(member.pid)]
    for member in left:
        _kill(member)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    ended = [member for member in found if member not in left]
    return ended, left


def run_guarded(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    echo: Callable[[str], None],
    grace: float = GRACE_SECONDS,
) -> GuardedRun:
    """Run ``argv`` in its own session, copying its output to ``echo``; stop all of it on Ctrl-C, SIGTERM or ``timeout``.

    SIGINT/SIGTERM are caught only while the run lasts and only when called from the main thread (elsewhere the
    timeout still applies).
    """
    marker = uuid.uuid4().hex
    kept: deque[str] = deque(maxlen=KEPT_LINES)
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**env, RUN_MARKER_VARIABLE: marker},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )

    def copy() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            kept.append(line)
            echo(line)
        process.stdout.close()

    reader = threading.Thread(target=copy, name="runway-output", daemon=True)
    reader.start()
    interrupted: list[str] = []
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
            previous[number] = signal.signal(number, lambda *_, name=name: interrupted.append(name))
    try:
        deadline = time.monotonic() + timeout
        while process.poll() is None and not interrupted and time.monotonic() < deadline:
            time.sleep(0.05)
        result = GuardedRun(returncode=process.returncode, output=[])
        if process.returncode is None:
            result.interrupted = interrupted[0] if interrupted else "timeout"
            result.ended, result.killed = stop_run(process, marker, grace=grace)
            result.returncode = None
        reader.join(timeout=5)
        result.output = list(kept)
        return result
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class StopSignals:
    """SIGINT/SIGTERM (or an optional event) as a request to stop, waited for by :meth:`wait`.

    The handlers only append to a list: they take no lock. (``threading.Event.set`` from a handler deadlocks
    when the signal lands while the main thread holds that event's lock, inside ``Event.wait`` itself.)
    Install before announcing anything a caller may answer with a signal.
    """

    def __init__(self, also: threading.Event | None = None, poll_seconds: float = 0.1) -> None:
        """``also``: an event that stops the wait too (set from another thread)."""
        self.received: list[str] = []
        self.also = also
        self.poll_seconds = poll_seconds

    def install(self) -> StopSignals:
        """Route SIGINT and SIGTERM here, from now on (main thread only; elsewhere only ``also`` stops the wait)."""
        if threading.current_thread() is threading.main_thread():
            for number, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
                signal.signal(number, lambda *_, name=name: self.received.append(name))
        return self

    def stopped(self) -> bool:
        """Whether a stop was asked for (reads a flag; takes no lock)."""
        return bool(self.received) or (self.also is not None and self.also.is_set())

    def wait(self) -> None:
        """Return once a signal arrived or ``also`` was set."""
        while not self.stopped():
            time.sleep(self.poll_seconds)
