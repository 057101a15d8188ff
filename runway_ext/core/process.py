"""Running external programs: argv lists only, bounded by a timeout, output streamed to the log."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runway_ext.core.errors import HookError
from runway_ext.core.log import get_logger, redact

LOGGER = get_logger("runway_ext.process")
TAIL_LINES = 30


@dataclass(frozen=True)
class ProcessResult:
    """What a finished program left: its exit code, captured stdout and the last lines it printed."""

    returncode: int
    stdout: str
    tail: tuple[str, ...]


def find_executable(name: str, *, install_hint: str) -> str:
    """Return the full path of ``name`` on PATH (or ``name`` itself if it is a path), else fail with how to install it."""
    if os.sep in name:
        if Path(name).is_file() and os.access(name, os.X_OK):
            return name
        raise HookError(f"{name} is not an executable file; {install_hint}")
    found = shutil.which(name)
    if not found:
        raise HookError(f"{name} not found on PATH; {install_hint}")
    return found


def run_process(
    argv: Sequence[str],
    *,
    what: str,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    capture_stdout: bool = False,
    check: bool = True,
    logger: logging.Logger | None = None,
) -> ProcessResult:
    """Run ``argv`` (never through a shell) and stream its output to the log.

    ``stdin_text`` is how a secret reaches a program (never argv). With ``capture_stdout`` the
    standard output is returned instead of logged (standard error is still streamed). A program
    still running at ``timeout`` is killed with its whole process group. With ``check`` a non-zero
    exit raises :class:`HookError` naming ``what`` and showing the program's last lines.
    """
    arguments = [str(part) for part in argv]
    log = logger or LOGGER
    log.debug("running: %s", " ".join(arguments))
    try:
        process = subprocess.Popen(
            arguments,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture_stdout else subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise HookError(f"{what}: cannot run {arguments[0]}: {error.strerror}") from error
    except PermissionError as error:
        raise HookError(f"{what}: cannot run {arguments[0]}: permission denied") from error

    tail: deque[str] = deque(maxlen=TAIL_LINES)
    captured: list[str] = []

    def stream(pipe, keep: list[str] | None) -> None:
        for raw in pipe:
            line = raw.rstrip("\n")
            if keep is not None:
                keep.append(raw)
                continue
            tail.append(redact(line))
            log.info("%s", line)
        pipe.close()

    readers = [threading.Thread(target=stream, args=(process.stdout, captured if capture_stdout else None), daemon=True)]
    if capture_stdout:
        readers.append(threading.Thread(target=stream, args=(process.stderr, None), daemon=True))
    for reader in readers:
        reader.start()
    if stdin_text is not None and process.stdin is not None:
        try:
            process.stdin.write(stdin_text)
            process.stdin.close()
        except BrokenPipeError:
            pass
    try:
        returncode = process.wait(timeout=timeout)
    except KeyboardInterrupt:  # Ctrl-C reaches only us (the program has its own session): stop it too
        _kill_group(process)
        raise
    except subprocess.TimeoutExpired:
        _kill_group(process)
        for reader in readers:
            reader.join(timeout=5)
        raise HookError(f"{what} timed out after {timeout:g}s" + _format_tail(tail)) from None
    for reader in readers:
        reader.join(timeout=5)
    if check and returncode != 0:
        raise HookError(f"{what} failed (exit code {returncode})" + _format_tail(tail))
    return ProcessResult(returncode=returncode, stdout="".join(captured), tail=tuple(tail))


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Kill a program and everything it started (it runs in its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def _format_tail(tail: deque[str]) -> str:
    """The last output lines, indented under the error's first line."""
    if not tail:
        return ""
    return "; last output:\n" + "\n".join(f"    {line}" for line in tail)
