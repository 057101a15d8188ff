"""Run the npm_build CLI (with the real KeyValueStore client) as a process that SIGKILLs itself at a chosen point (test support).

Usage: ``python preview_deploy_process.py --kill-at POINT -- <npm-build CLI args>``, POINT one of ``upload:N`` (after N
uploads of the release) or ``preview-switch`` (right after the preview key's compare-and-swap, before the lock is
released). S3 and the store are the endpoints of the environment (the moto server and local mode's KVS data plane).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.previews import PreviewPointerStore
from runway_ext.static_site.s3 import S3Site


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-at", required=True)
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    point, _, count = options.kill_at.partition(":")
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
    elif point == "preview-switch":
        swap = PreviewPointerStore.swap

        def swapping(self: PreviewPointerStore, *args: Any, **kwargs: Any) -> Any:
            swap(self, *args, **kwargs)
            die()

        PreviewPointerStore.swap = swapping  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown kill point {options.kill_at!r}")
    return build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
