"""Run ``runway`` with its output passed through unchanged, and tell from it whether Runway skipped every module.

Runway exits 0 when it skips a module (no environment file and no parameters, ``enabled: false``, an
environment the module does not list, a deployment without modules), so a project that deploys nothing looks
like a success. Runway says why in one ``skipped; REASON`` line per module, right after the module's
``processing module in REGION (in progress)`` line (or after ``processing deployment (in progress)`` for a
deployment without modules). :class:`RunwayWatch` reads those lines as they pass: a module whose first line is
such a line was skipped for that reason; any other module ran. Lines elsewhere (``skipped; cfngin_bucket not
defined`` inside a module that runs, ``stack:skipped (nochange)``) say nothing about whether a module ran.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PREFIX = re.compile(r"^\[runway\]\s?")
_MODULE_START = re.compile(r"^(?P<name>\S+?):processing module in (?P<region>\S+) \(in progress\)$")
_DEPLOYMENT_START = re.compile(r"^(?P<name>\S+?):processing deployment \(in progress\)$")
_SKIPPED = re.compile(r"^(?:\S+?:)?skipped; (?P<reason>.+)$")


@dataclass
class RunwayWatch:
    """What Runway's output said about its modules, fed one line at a time."""

    ran: int = 0
    skipped: list[str] = field(default_factory=list)
    """``module (region): reason`` (or ``deployment: reason``), in order."""
    _opened: str | None = None
    """The module or deployment whose first line is awaited."""

    def feed(self, line: str) -> None:
        """Take one line of Runway's standard output."""
        text = _PREFIX.sub("", line.rstrip("\r\n")).strip()
        if not text:
            return
        if match := _MODULE_START.match(text):
            self._close_as_ran()
            self._opened = f"{match.group('name')} ({match.group('region')})"
            return
        if match := _DEPLOYMENT_START.match(text):
            self._close_as_ran()
            self._opened = f"deployment {match.group('name')}"
            return
        if self._opened is None:
            return
        opened, self._opened = self._opened, None
        skipped = _SKIPPED.match(text)
        if skipped:
            self.skipped.append(f"{opened}: {skipped.group('reason')}")
        elif not opened.startswith("deployment "):
            self.ran += 1

    def _close_as_ran(self) -> None:
        """A module block that ended without any line of its own counts as run (it was not said to be skipped)."""
        if self._opened is not None and not self._opened.startswith("deployment "):
            self.ran += 1
        self._opened = None

    def nothing_done(self) -> str | None:
        """Runway's reasons when it skipped every module (and said so), else ``None``."""
        self._close_as_ran()
        if self.ran or not self.skipped:
            return None
        return "Runway skipped every module: " + "; ".join(dict.fromkeys(self.skipped))


def run_watched(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float) -> tuple[int, RunwayWatch]:
    """Run ``argv`` (Runway), copying its standard output to ours line by line; its exit code and what it said.

    Standard error is left as is. Raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds (the
    process is killed first).
    """
    watch = RunwayWatch()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, errors="replace", bufsize=1
    )

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            watch.feed(line)

    reader = threading.Thread(target=pump, name="runway-output", daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    finally:
        reader.join(timeout=10)
    return code, watch
