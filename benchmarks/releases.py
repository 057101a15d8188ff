"""Deploy and rollback of a static site, in-place vs atomic releases, side by side on one moto server.

Usage (from the repository root, in an environment where runway_ext and moto[server] are available)::

    python benchmarks/releases.py [--files 2000] [--changed-percent 1] [--rollback-sizes 2000,20000]

A generated site of ``--files`` pages (2 kB each; ``--changed-percent`` of them name the version) is deployed
as v1, then v2 is deployed and rolled back to v1, once per layout, each on its own bucket of the same server:

* **in-place** — the npm_build hook (``delete: true``), then the CloudFront invalidation hook for the paths it
  changed (what a deploy must do to show them); the rollback is ``site rollback`` with ``distribution_id``
  (server-side copies, then an invalidation);
* **atomic** — the npm_build hook with ``key_value_store_arn`` (a release folder, one pointer compare-and-swap);
  the rollback is ``site rollback`` with ``key_value_store_arn`` (parallel HEADs checking S3's checksums, then one
  pointer write; no copy, no invalidation).

Then, for each of ``--rollback-sizes``, an atomic site of that many files is deployed twice and rolled back: the
pointer write and the verification are timed apart (the rollback's own ``switch_seconds`` and
``verify_seconds``).

Requests are counted in-process, every botocore API call by operation name; bytes uploaded are the
Content-Length of every S3 PUT that is not a copy (objects and the tool's own records). Prints Markdown tables.
No timing is asserted anywhere: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import botocore.endpoint

from runway_ext.hooks.cloudfront_invalidation import cfngin_hook as invalidate_hook
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.local.moto_server import moto_server

CALLS: collections.Counter[str] = collections.Counter()
UPLOADED = [0]
_make_api_call = botocore.client.BaseClient._make_api_call
_send = botocore.endpoint.Endpoint._send


def _counting_call(self: Any, operation: str, params: Any) -> Any:
    CALLS[operation] += 1
    return _make_api_call(self, operation, params)


def _counting_send(self: Any, request: Any) -> Any:
    headers = request.headers
    if request.method == "PUT" and "x-amz-copy-source" not in headers and "localhost" in request.url:
        UPLOADED[0] += int(headers.get("Content-Length") or 0)
    return _send(self, request)


botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]
botocore.endpoint.Endpoint._send = _counting_send  # type: ignore[method-assign]

COLUMNS = {
    "PUT": ("PutObject", "UploadPart", "CreateMultipartUpload", "CompleteMultipartUpload"),
    "COPY": ("CopyObject", "UploadPartCopy"),
    "DELETE": ("DeleteObject", "DeleteObjects"),
    "GET": ("GetObject",),
    "HEAD": ("HeadObject",),
    "LIST": ("ListObjectsV2", "ListObjects", "ListObjectVersions"),
}


def write_site(app: Path, files: int, changed: int, version: str) -> Path:
    output = app / "out"
    shutil.rmtree(output, ignore_errors=True)
    for i in range(files):
        page = output / f"page-{i:05d}" / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        marker = version if i < changed else "stable"
        page.write_text(f"<h1>page {i} {marker}</h1>" + "x" * 2000)
    (output / "404.html").write_text("<h1>not found</h1>")
    return app


def measured(action: Any) -> tuple[Any, float, dict[str, int], int]:
    CALLS.clear()
    UPLOADED[0] = 0
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    assert result, "the step failed"
    return result, seconds, dict(CALLS), UPLOADED[0]


def deploy(bucket: str, app: Path, store: str | None, keep_days: float = 7) -> Any:
    atomic = {"key_value_store_arn": store, "keep_days": keep_days} if store else {}
    return build_and_sync_app(
        None, None, bucket_name=bucket, app_path=str(app), build=False, output_dir="out", delete=True, max_delete_fraction=1, **atomic
    )


def create_distribution(bucket: str) -> str:
    config = {
        "CallerReference": f"bench-{bucket}",
        "Comment": "benchmark",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3",
            "ViewerProtocolPolicy": "redirect-to-https",
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
    }
    return str(boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def row(layout: str, step: str, seconds: float, calls: dict[str, int], uploaded: int) -> str:
    counts = [sum(calls.get(name, 0) for name in names) for names in COLUMNS.values()]
    other = sum(calls.values()) - sum(counts) - calls.get("CreateInvalidation", 0)
    cells = " | ".join(str(count) for count in counts)
    return f"| {layout} | {step} | {seconds:.2f} | {cells} | {other} | {uploaded / 1e6:.2f} | {calls.get('CreateInvalidation', 0)} |"


def side_by_side(temp: Path, files: int, changed: int) -> list[str]:
    s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
    rows = []
    for layout in ("in-place", "atomic"):
        bucket = f"bench-{layout}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        store = str(cloudfront.create_key_value_store(Name=f"bench-{layout}")["KeyValueStore"]["ARN"]) if layout == "atomic" else None
        distribution = create_distribution(bucket)
        app = temp / layout
        deploy(bucket, write_site(app, files, changed, "v1"), store)
        write_site(app, files, changed, "v2")

        def deploy_v2(bucket: str = bucket, app: Path = app, store: str | None = store, distribution: str = distribution) -> Any:
            result = deploy(bucket, app, store)
            if store is None:  # in place, the changed paths are live but cached: invalidate them
                assert invalidate_hook(None, None, distribution_id=distribution, paths=result["changed_paths"])
            return result

        result, seconds, calls, uploaded = measured(deploy_v2)
        rows.append(row(layout, "deploy v2", seconds, calls, uploaded))
        rollback_args: dict[str, Any] = {"key_value_store_arn": store} if store else {"distribution_id": distribution}
        _, seconds, calls, uploaded = measured(
            lambda bucket=bucket, args=rollback_args: rollback_hook(None, None, bucket_name=bucket, to="r1", **args)
        )
        rows.append(row(layout, "rollback to v1", seconds, calls, uploaded))
    return rows


def rollback_at(temp: Path, files: int, changed_percent: float) -> str:
    s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
    bucket, changed = f"bench-rollback-{files}", max(1, int(files * changed_percent / 100))
    s3.create_bucket(Bucket=bucket)
    store = str(cloudfront.create_key_value_store(Name=bucket)["KeyValueStore"]["ARN"])
    app = temp / bucket
    started = time.perf_counter()
    deploy(bucket, write_site(app, files, changed, "v1"), store)
    deploy(bucket, write_site(app, files, changed, "v2"), store)
    setup = time.perf_counter() - started
    result, seconds, calls, _ = measured(lambda: rollback_hook(None, None, bucket_name=bucket, key_value_store_arn=store, to="r1"))
    assert result["verified"] == files + 1, result
    return (
        f"| {files} | {result['verified']} | {calls.get('HeadObject', 0)} | {result['verify_seconds']:.2f} | "
        f"{result['switch_seconds']:.3f} | {seconds:.2f} | {setup:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--rollback-sizes", default="2000,20000")
    options = parser.parse_args()
    changed = max(1, int(options.files * options.changed_percent / 100))
    sizes = [int(size) for size in options.rollback_sizes.split(",") if size]
    with tempfile.TemporaryDirectory() as temp, moto_server() as server:
        os.environ.update(server.environment())
        os.environ["RUNWAY_EXT_CACHE_DIR"] = str(Path(temp) / "cache")
        rows = side_by_side(Path(temp), options.files, changed)
        print(
            f"{options.files + 1} files (with 404.html), {changed} differ between v1 and v2 ({options.changed_percent:g}%), versioned buckets\n"
        )
        print("| layout | step | seconds | PUT | COPY | DELETE | GET | HEAD | LIST | other calls | MB uploaded | invalidations |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(rows))
        print("\nAtomic rollback (to r1, one release back)\n")
        print("| files | objects verified | HEADs | verification (s) | pointer write (s) | whole rollback (s) | setup: two deploys (s) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
        for size in sizes:
            print(rollback_at(Path(temp), size, options.changed_percent), flush=True)


if __name__ == "__main__":
    main()
