"""Run the npm_build CLI as a real process that can be killed or paused at a chosen point (test support).

Usage: ``python deploy_process.py [--kill-after-uploads N] [--pause-after-lock FLAG] [--pause-after-listing FLAG] -- <CLI args>``

* ``--kill-after-uploads N``: the process SIGKILLs itself once N objects are uploaded (no cleanup runs);
* ``--pause-after-lock FLAG``: before the first upload (the lock is held by then), create ``FLAG.ready``
  and wait until ``FLAG`` exists;
* ``--pause-after-listing FLAG``: after the bucket was listed (before taking the lock), create
  ``FLAG.ready`` and wait until ``FLAG`` exists.

Nothing is mocked: the hook talks to the real S3 endpoint of its environment.
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

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.s3 import S3Site


def wait_for(flag: Path) -> None:
    Path(str(flag) + ".ready").touch()
    deadline = time.monotonic() + 120
    while not flag.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{flag} never appeared")
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-uploads", type=int)
    parser.add_argument("--pause-after-lock", type=Path)
    parser.add_argument("--pause-after-listing", type=Path)
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    uploads = 0
    lock = threading.Lock()
    upload = S3Site._upload
    listing = S3Site.list_objects

    def counting_upload(self: S3Site, *args: Any, **kwargs: Any) -> str:
        nonlocal uploads
        if options.pause_after_lock is not None and uploads == 0:
            wait_for(options.pause_after_lock)
        etag = upload(self, *args, **kwargs)
        with lock:
            uploads += 1
            if options.kill_after_uploads is not None and uploads >= options.kill_after_uploads:
                os.kill(os.getpid(), signal.SIGKILL)
        return etag

    def pausing_listing(self: S3Site) -> Any:
        objects = listing(self)
        if options.pause_after_listing is not None:
            wait_for(options.pause_after_listing)
        return objects

    S3Site._upload = counting_upload  # type: ignore[method-assign]
    S3Site.list_objects = pausing_listing  # type: ignore[method-assign]
    return build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
