"""A watcher of every process's command line on this machine (``/proc/PID/cmdline``), polled from a thread.

Tests use it to prove what ran and with which argv: that no secret ever reached a command line, or that no
``sam`` process was started at all. ``polls`` counts the passes, so a test can assert the watcher really looked.
"""

from __future__ import annotations

import os
import threading


class ProcessWatch:
    """Records each command line (spaces for NULs) that holds one of ``needles``, from every other process."""

    def __init__(self, *needles: str, interval: float = 0.002) -> None:
        self.needles = [needle.encode() for needle in needles]
        self.seen: list[str] = []
        self.polls = 0
        self.processes_seen: set[int] = set()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        own = str(os.getpid())
        while not self._stop.is_set():
            self.polls += 1
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit() or entry.name == own:
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                        argv = handle.read()
                except OSError:
                    continue
                self.processes_seen.add(int(entry.name))
                if any(needle in argv for needle in self.needles):
                    self.seen.append(argv.replace(b"\0", b" ").decode(errors="replace"))
            self._stop.wait(self._interval)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
