"""Run ``runway-ext site forget`` as a real process that SIGKILLs itself at a chosen point (test support).

Usage: ``python forget_process.py --kill-at POINT -- <site forget CLI args>``, POINT one of ``records`` (right after
the record rewrites, before any purge) or ``purge:N`` (after N deletions of atomic release objects). S3 and the
store are the endpoints of the environment (the moto server and local mode's KVS data plane); nothing is mocked.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import runway_ext.hooks.site.forget as forget_module
from runway_ext.hooks.site import forget_hook
from runway_ext.static_site.forget import ForgetPlan, purge_copies, purge_release_objects, purge_versions
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
    if point == "records":
        rewrite = forget_module.rewrite_records

        def rewriting(*args: Any, **kwargs: Any) -> list[str]:
            rewrite(*args, **kwargs)
            die()
            return []

        forget_module.rewrite_records = rewriting  # type: ignore[assignment]
    elif point == "purge":
        calls = 0

        def purging(site: S3Site, plan: ForgetPlan, guard: Callable[[], None]) -> list[str]:
            def counting() -> None:
                nonlocal calls
                calls += 1
                if calls > int(count):  # the guard runs before each deletion
                    die()
                guard()

            return purge_release_objects(site, plan, counting)

        forget_module.PURGERS = (purge_copies, purge_versions, purging)
    else:
        raise SystemExit(f"unknown kill point {options.kill_at!r}")
    return int(forget_hook.main(rest))


if __name__ == "__main__":
    sys.exit(main())
