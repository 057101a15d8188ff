"""Run the npm_build CLI as a real process with the FAKE file pointer store, killable at a chosen point (test support).

Usage: ``python atomic_deploy_process.py POINTER_FILE [--rollback] [--kill-at POINT] -- <CLI args>`` (``--rollback``:
run ``site rollback`` instead of npm_build) where POINT is one of
``upload:N`` (after N uploads), ``record`` (after the release record is written), ``journal`` (after the value
to be written is journaled, before the pointer write), ``switch`` (right after the pointer write). The process
SIGKILLs itself there (no cleanup runs). ``--pause-before-upload FLAG``: with the lock held, before its first
upload, create ``FLAG.ready`` and wait until ``FLAG`` exists. S3 is the real endpoint of the environment (the moto server).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import runway_ext.hooks.npm_build.hook as hook_module
import runway_ext.hooks.site.rollback as rollback_module
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.static_site import atomic_deploy
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore
from runway_ext.static_site.switches import JournalFile
from tests.static_site.fake_pointer import FakeFilePointerStore


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("pointer_file", type=Path)
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--pause-before-upload", type=Path)
    parser.add_argument("--rollback", action="store_true", help="run site rollback instead of npm_build")
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    point, _, count = options.kill_at.partition(":")
    hook_module.KvsPointerStore = lambda session, arn, prefix: FakeFilePointerStore(options.pointer_file, prefix)  # type: ignore[assignment,misc]
    rollback_module.KvsPointerStore = lambda session, arn, prefix: FakeFilePointerStore(options.pointer_file, prefix)  # type: ignore[assignment,misc]
    if options.pause_before_upload is not None:
        flag: Path = options.pause_before_upload
        original = S3Site.put_release_object

        def pausing(self: S3Site, *args: Any, **kwargs: Any) -> Any:
            if not flag.exists():
                Path(str(flag) + ".ready").touch()
                deadline = time.monotonic() + 120
                while not flag.exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
            return original(self, *args, **kwargs)

        S3Site.put_release_object = pausing  # type: ignore[method-assign]
    if point == "upload":
        uploads = 0
        lock = threading.Lock()
        upload = S3Site.put_release_object

        def counting(self: S3Site, *args: Any, **kwargs: Any) -> Any:
            nonlocal uploads
            result = upload(self, *args, **kwargs)
            with lock:
                uploads += 1
                if uploads >= int(count):
                    die()
            return result

        S3Site.put_release_object = counting  # type: ignore[method-assign]
    elif point == "record":
        append = ReleaseStore.append

        def appending(self: ReleaseStore, *args: Any, **kwargs: Any) -> Any:
            append(self, *args, **kwargs)
            die()

        ReleaseStore.append = appending  # type: ignore[method-assign]
    elif point == "journal":
        save = JournalFile.save

        def saving(self: JournalFile, journal: Any) -> None:
            save(self, journal)
            if not journal.history or len(journal.written) > len(journal.history):
                die()

        JournalFile.save = saving  # type: ignore[method-assign]
    elif point == "switch":
        swap = atomic_deploy.timed_swap

        def swapping(*args: Any, **kwargs: Any) -> Any:
            swap(*args, **kwargs)
            die()

        atomic_deploy.timed_swap = swapping  # type: ignore[assignment]
    return rollback_hook.main(rest) if options.rollback else build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
