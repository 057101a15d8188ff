"""Run the npm_build CLI as a real process that can be killed or paused at a chosen point (test support).

Usage: ``python deploy_process.py [--kill-after-uploads N] [--pause-after-lock FLAG] [--pause-after-listing FLAG] -- <CLI args>``

* ``--kill-after-uploads N``: the process SIGKILLs itself once N objects are uploaded (no cleanup runs);
* ``--pause-after-lock FLAG``: before the first upload (the lock is held by then), create ``FLAG.ready``
  and wait until ``FLAG`` exists;
* ``--pause-after-listing FLAG``: after the bucket was listed (before taking the lock), create
  ``FLAG.ready`` and wait until ``FLAG`` exists.

Nothing is mocked: the hook talks to the real S3 endpoint of its environment. Started by
:func:`tests.support.cli_process.start_driver`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.s3 import S3Site
from tests.support.kill_points import die_after_calls, parse_driver_args, pause_after, pause_before


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-uploads", type=int)
    parser.add_argument("--pause-after-lock", type=Path)
    parser.add_argument("--pause-after-listing", type=Path)
    options, rest = parse_driver_args(parser)
    if options.kill_after_uploads is not None:
        die_after_calls(S3Site, "_upload", options.kill_after_uploads)
    if options.pause_after_lock is not None:
        pause_before(S3Site, "_upload", options.pause_after_lock)
    if options.pause_after_listing is not None:
        pause_after(S3Site, "list_objects", options.pause_after_listing)
    return build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
