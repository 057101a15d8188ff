"""Run the npm_build CLI as a real process with the FAKE file pointer store, killable at a chosen point (test support).

Usage: ``python atomic_deploy_process.py POINTER_FILE [--rollback] [--kill-at POINT] -- <CLI args>`` (``--rollback``:
run ``site rollback`` instead of npm_build) where POINT is one of
``upload:N`` (after N uploads), ``record`` (after the release record is written), ``journal`` (after the value
to be written is journaled, before the pointer write), ``switch`` (right after the pointer write). The process
SIGKILLs itself there (no cleanup runs). ``--pause-before-upload FLAG``: with the lock held, before its first
upload, create ``FLAG.ready`` and wait until ``FLAG`` exists. S3 is the real endpoint of the environment (the moto
server). Started by :func:`tests.support.cli_process.start_driver` / ``run_driver``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import runway_ext.hooks.npm_build.hook as hook_module
import runway_ext.hooks.site.rollback as rollback_module
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.static_site import atomic_deploy
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore
from runway_ext.static_site.switches import JournalFile
from tests.static_site.fake_pointer import FakeFilePointerStore
from tests.support.kill_points import die_after_call, die_after_calls, parse_driver_args, pause_before


def before_the_pointer_write(_file: JournalFile, journal: Any) -> bool:
    """The journal save that records the value about to be written (not the one after the write)."""
    return not journal.history or len(journal.written) > len(journal.history)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("pointer_file", type=Path)
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--pause-before-upload", type=Path)
    parser.add_argument("--rollback", action="store_true", help="run site rollback instead of npm_build")
    options, rest = parse_driver_args(parser)
    point, _, count = options.kill_at.partition(":")
    hook_module.KvsPointerStore = lambda session, arn, prefix: FakeFilePointerStore(options.pointer_file, prefix)  # type: ignore[assignment,misc]
    rollback_module.KvsPointerStore = lambda session, arn, prefix: FakeFilePointerStore(options.pointer_file, prefix)  # type: ignore[assignment,misc]
    if options.pause_before_upload is not None:
        pause_before(S3Site, "put_release_object", options.pause_before_upload)
    if point == "upload":
        die_after_calls(S3Site, "put_release_object", int(count))
    elif point == "record":
        die_after_call(ReleaseStore, "append")
    elif point == "journal":
        die_after_call(JournalFile, "save", when=before_the_pointer_write)
    elif point == "switch":
        die_after_call(atomic_deploy, "timed_swap")
    return rollback_hook.main(rest) if options.rollback else build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
