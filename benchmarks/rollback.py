"""Rollback of a static site vs "rebuild the old commit + sync", on one moto server, in the same run.

Usage (from the repository root, in an environment where runway_ext, moto[server] and npm are available)::

    python benchmarks/rollback.py [--files 2000] [--changed-percent 1]

A generated app (``npm run build`` is a node script writing ``--files`` files, of which ``--changed-percent``
depend on ``src/version.txt``) is deployed as v1 then v2 with the npm_build hook (the 1% differ). Then, for a
versioned and an unversioned bucket:

* **rollback** — ``site rollback --steps 1`` (v2 → v1): timed, with its S3 requests counted by operation;
* **rebuild + sync** — what a rollback costs without releases: check out v1's sources, ``npm run build``,
  sync (the hook with ``build: true``), on a second bucket holding the same v2 site;
* **deploy overhead** — the v2 deploy with ``keep_releases: 10`` vs ``0`` (recording the release).

Prints a Markdown table; S3 requests are counted in-process (every botocore API call by operation name).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.client

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.local.moto_server import moto_server

BUILD = r"""import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
const version = readFileSync("src/version.txt", "utf8").trim();
const files = Number(process.env.BENCH_FILES), changed = Number(process.env.BENCH_CHANGED);
for (let i = 0; i < files; i++) {
  const dir = `out/page-${String(i).padStart(5, "0")}`;
  mkdirSync(dir, { recursive: true });
  const marker = i < changed ? version : "stable";
  writeFileSync(`${dir}/index.html`, `<h1>page ${i} ${marker}</h1>` + "x".repeat(2000));
}
"""

CALLS: collections.Counter[str] = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self: Any, operation: str, params: Any) -> Any:
    CALLS[operation] += 1
    return _original(self, operation, params)


botocore.client.BaseClient._make_api_call = _counting  # type: ignore[method-assign]


def make_app(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": "bench", "private": True, "scripts": {"build": "node build.mjs"}}))
    (folder / "build.mjs").write_text(BUILD)
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "version.txt").write_text(version)
    return folder


def timed(action: Any, *args: Any, **kwargs: Any) -> tuple[float, dict[str, int]]:
    CALLS.clear()
    started = time.perf_counter()
    result = action(*args, **kwargs)
    assert result, "the step failed"
    return time.perf_counter() - started, dict(CALLS)


def deploy(bucket: str, app: Path, keep: int = 10) -> Any:
    shutil.rmtree(app / "out", ignore_errors=True)
    return build_and_sync_app(None, None, bucket_name=bucket, app_path=str(app), delete=True, max_delete_fraction=1, keep_releases=keep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    options = parser.parse_args()
    changed = max(1, int(options.files * options.changed_percent / 100))
    os.environ.update(BENCH_FILES=str(options.files), BENCH_CHANGED=str(changed))
    rows = []
    with tempfile.TemporaryDirectory() as temp, moto_server() as server:
        os.environ.update(server.environment())
        os.environ["RUNWAY_EXT_CACHE_DIR"] = str(Path(temp) / "cache")
        s3 = boto3.client("s3")
        for mode in ("versioned", "unversioned"):
            site, other = f"bench-{mode}", f"bench-{mode}-rebuild"
            for bucket in (site, other):
                s3.create_bucket(Bucket=bucket)
                if mode == "versioned":
                    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            app = make_app(Path(temp) / mode / "app", "v1")
            deploy(site, app)
            deploy(other, app, keep=0)
            (app / "src" / "version.txt").write_text("v2")
            overhead, _ = timed(deploy, site, app)
            plain, _ = timed(deploy, other, app, keep=0)
            seconds, calls = timed(rollback_hook, None, None, bucket=site, steps=1)
            (app / "src" / "version.txt").write_text("v1")
            rebuild, rebuild_calls = timed(deploy, other, app, keep=0)
            rows.append((mode, seconds, calls, rebuild, rebuild_calls, overhead, plain))
    print(f"{options.files} files, {changed} differ ({options.changed_percent:g}%)\n")
    print(
        "| bucket | rollback (s) | rollback copies | rollback PutObject (lock, record, index, manifest) | rebuild old commit + sync (s) | its uploads | speed-up | deploy with release (s) | without (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, seconds, calls, rebuild, rebuild_calls, overhead, plain in rows:
        uploads = calls.get("PutObject", 0)
        print(
            f"| {mode} | {seconds:.2f} | {calls.get('CopyObject', 0)} | {uploads} | {rebuild:.2f} | "
            f"{rebuild_calls.get('PutObject', 0)} | {rebuild / seconds:.1f}x | {overhead:.2f} | {plain:.2f} |"
        )
        print(f"<!-- {mode} rollback requests: {json.dumps(dict(sorted(calls.items())))} -->")


if __name__ == "__main__":
    main()
