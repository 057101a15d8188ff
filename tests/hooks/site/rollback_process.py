"""Run ``runway-ext site rollback`` as a real process that kills itself, or pauses, at a chosen point (test support).

Usage: ``python rollback_process.py [--kill-after-restores N] [--pause-after-lock FLAG] -- <rollback CLI args>``

* ``--kill-after-restores N``: SIGKILL once N objects are restored (no cleanup runs);
* ``--pause-after-lock FLAG``: before the first restore (the site lock is held by then), create ``FLAG.ready``
  and wait until ``FLAG`` exists.

Nothing is mocked: the rollback talks to the real S3 endpoint of its environment. Started by
:func:`tests.support.cli_process.start_driver`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runway_ext.hooks.site import rollback_hook
from runway_ext.static_site.store import ReleaseStore
from tests.support.kill_points import die_after_calls, parse_driver_args, pause_before


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-restores", type=int)
    parser.add_argument("--pause-after-lock", type=Path)
    options, rest = parse_driver_args(parser)
    if options.kill_after_restores is not None:
        die_after_calls(ReleaseStore, "restore", options.kill_after_restores)
    if options.pause_after_lock is not None:
        pause_before(ReleaseStore, "restore", options.pause_after_lock)
    return rollback_hook.main(rest)


if __name__ == "__main__":
    sys.exit(main())
