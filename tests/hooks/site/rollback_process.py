"""Run ``runway-ext site rollback`` as a real process that kills itself, or pauses, at a chosen point (test support).

Usage: ``python rollback_process.py [--kill-after-restores N] [--pause-after-lock FLAG] -- <rollback CLI args>``

* ``--kill-after-restores N``: SIGKILL once N objects are restored (no cleanup runs);
* ``--pause-after-lock FLAG``: before the first restore (the site lock is held by then), create ``FLAG.ready``
  and wait until ``FLAG`` exists.

Nothing is mocked: the rollback talks to the real S3 endpoint of its environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from runway_ext.hooks.site import rollback_hook
from runway_ext.static_site.store import ReleaseStore


def wait_for(flag: Path) -> None:
    Path(str(flag) + ".ready").touch()
    deadline = time.monotonic() + 120
    while not flag.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{flag} never appeared")
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-restores", type=int)
    parser.add_argument("--pause-after-lock", type=Path)
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    restored = 0
    lock = threading.Lock()
    restore = ReleaseStore.restore

    def counting_restore(self: ReleaseStore, *args: Any, **kwargs: Any) -> str:
        nonlocal restored
        if options.pause_after_lock is not None and restored == 0:
            wait_for(options.pause_after_lock)
        etag = restore(self, *args, **kwargs)
        with lock:
            restored += 1
            if options.kill_after_restores is not None and restored >= options.kill_after_restores:
                os.kill(os.getpid(), signal.SIGKILL)
        return etag

    ReleaseStore.restore = counting_restore  # type: ignore[method-assign]
    return rollback_hook.main(rest)


if __name__ == "__main__":
    sys.exit(main())
