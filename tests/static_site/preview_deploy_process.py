"""Run the npm_build CLI (with the real KeyValueStore client) as a process that SIGKILLs itself at a chosen point (test support).

Usage: ``python preview_deploy_process.py --kill-at POINT -- <npm-build CLI args>``, POINT one of ``upload:N`` (after N
uploads of the release) or ``preview-switch`` (right after the preview key's compare-and-swap, before the lock is
released). S3 and the store are the endpoints of the environment (the moto server and local mode's KVS data plane).
Started by :func:`tests.support.cli_process.run_driver`.
"""

from __future__ import annotations

import argparse
import sys

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.previews import PreviewPointerStore
from runway_ext.static_site.s3 import S3Site
from tests.support.kill_points import die_after_call, die_after_calls, parse_driver_args


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-at", required=True)
    options, rest = parse_driver_args(parser)
    point, _, count = options.kill_at.partition(":")
    if point == "upload":
        die_after_calls(S3Site, "put_release_object", int(count))
    elif point == "preview-switch":
        die_after_call(PreviewPointerStore, "swap")
    else:
        raise SystemExit(f"unknown kill point {options.kill_at!r}")
    return build_and_sync_app.main(rest)


if __name__ == "__main__":
    sys.exit(main())
