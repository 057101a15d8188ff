"""S3 I/O of the sync against a moto server bucket: manifest, listing, HEADs, uploads in order, deletes, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest

import runway_ext.hooks.npm_build.s3_site as s3_site
from runway_ext.core.errors import HookError
from runway_ext.hooks.npm_build.build_output import scan_build
from runway_ext.hooks.npm_build.plan import (
    SiteManifest,
    keys_to_inspect,
    manifest_after_sync,
    manifest_key,
    plan_sync,
    with_manifest_state,
)
from runway_ext.hooks.npm_build.s3_site import Progress, S3Site, format_bytes, is_page

BUCKET = "site-bucket"
LOG = logging.getLogger("runway_ext.hooks.npm_build")
SITE = {
    "index.html": b"<h1>home</h1>",
    "about/index.html": b"<h1>about</h1>",
    "app.0123abcd.js": b"console.log(1)",
    "images/logo.svg": b"<svg/>",
}


@pytest.fixture
def s3(aws: Any) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    monkeypatch.setattr(logging.getLogger("runway_ext"), "propagate", True)
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    return caplog


@pytest.fixture
def out(tmp_path: Path) -> Path:
    for name, content in SITE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    return tmp_path


def site(prefix: str = "", *, bucket: str = BUCKET, workers: int = 4) -> S3Site:
    return S3Site(boto3.Session(), bucket, prefix, log=LOG, workers=workers, region="us-east-1")


def sync(target: S3Site, out: Path, *, delete: bool = False) -> Any:
    """One complete sync as the hook does it; returns the plan."""
    manifest = target.read_manifest()
    local = scan_build(out)
    remote = with_manifest_state(target.list_objects(), manifest)
    remote.update(target.inspect(keys_to_inspect(local, remote, prefix=target.prefix)))
    plan = plan_sync(local, remote, prefix=target.prefix, delete=delete)
    etags = target.apply(plan, local, out)
    target.write_manifest(
        SiteManifest("src", "cfg", manifest_after_sync(plan, local, remote, etags, prefix=target.prefix)), written_by="test"
    )
    return plan


def test_a_complete_sync_leaves_nothing_to_do_and_nothing_to_inspect(s3: Any, out: Path) -> None:
    first = sync(site("site/"), out)
    assert len(first.uploads) == len(SITE)
    target = site("site/")
    manifest = target.read_manifest()
    assert manifest is not None and sorted(manifest.objects) == sorted("site/" + name for name in SITE)
    local = scan_build(out)
    remote = with_manifest_state(target.list_objects(), manifest)
    assert keys_to_inspect(local, remote, prefix="site/") == []
    assert plan_sync(local, remote, prefix="site/").is_noop
    head = s3.head_object(Bucket=BUCKET, Key="site/app.0123abcd.js")
    assert head["Metadata"]["sha256"] == local["app.0123abcd.js"].sha256
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


def test_inspect_reads_the_sha256_metadata_and_headers(s3: Any, out: Path) -> None:
    sync(site(), out)
    s3.put_object(Bucket=BUCKET, Key="foreign.txt", Body=b"x", ContentType="text/plain", CacheControl="max-age=5")
    found = site().inspect(["index.html", "foreign.txt"])
    assert found["index.html"].sha256 == scan_build(out)["index.html"].sha256 and found["index.html"].headers_known
    assert (found["foreign.txt"].sha256, found["foreign.txt"].content_type, found["foreign.txt"].cache_control) == (
        None,
        "text/plain",
        "max-age=5",
    )


def test_assets_are_uploaded_before_pages(s3: Any, out: Path) -> None:
    target = site(workers=1)
    order: list[str] = []
    target.client.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: order.append(params["Key"]))
    sync(target, out)
    written = [key for key in order if key != manifest_key("")]
    pages = [key for key in written if is_page(key)]
    assert sorted(pages) == ["about/index.html", "index.html"]
    assert written[-len(pages) :] == pages and order[-1] == manifest_key("")


def test_the_manifest_is_read_as_written_and_not_rewritten_when_unchanged(s3: Any, out: Path, log: pytest.LogCaptureFixture) -> None:
    assert site().read_manifest() is None
    sync(site(), out)
    before = s3.head_object(Bucket=BUCKET, Key=manifest_key(""))["ETag"]
    sync(site(), out)
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key(""))["ETag"] == before
    assert "site manifest unchanged" in log.text


def test_a_manifest_this_version_cannot_read_is_ignored_with_a_warning(s3: Any, log: pytest.LogCaptureFixture) -> None:
    s3.put_object(Bucket=BUCKET, Key=manifest_key(""), Body=b'{"format": 99}')
    assert site().read_manifest() is None
    assert "is not a site manifest this version can read; comparing every object" in log.text


def test_deletes_go_in_batches(s3: Any, out: Path, monkeypatch: pytest.MonkeyPatch, log: pytest.LogCaptureFixture) -> None:
    for number in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"old/{number}.html", Body=b"old")
    monkeypatch.setattr(s3_site, "DELETE_BATCH", 2)
    plan = sync(site(), out, delete=True)
    assert len(plan.deletes) == 5
    assert not [key for key in s3.list_objects_v2(Bucket=BUCKET)["Contents"] if key["Key"].startswith("old/")]
    assert [message for message in log.messages if message.startswith("deleted ")] == [
        "deleted 2 objects",
        "deleted 4 objects",
        "deleted 5 objects",
    ]


def test_a_missing_bucket_is_named(aws: Any) -> None:
    with pytest.raises(HookError, match=r"^bucket_name: bucket 'missing-bucket' does not exist$"):
        site(bucket="missing-bucket").read_manifest()
    with pytest.raises(HookError, match=r"^bucket_name: bucket 'missing-bucket' does not exist$"):
        site(bucket="missing-bucket").list_objects()


def test_the_first_failed_transfer_stops_the_sync_with_one_line(s3: Any, out: Path) -> None:
    target = site()
    local = scan_build(out)
    plan = plan_sync(local, {})
    (out / "images/logo.svg").unlink()
    with pytest.raises(HookError, match=r"^could not upload images/logo.svg in s3://site-bucket: .*No such file"):
        target.apply(plan, local, out)


def test_progress_logs_the_last_transfer(log: pytest.LogCaptureFixture) -> None:
    progress = Progress(LOG, total=2, total_bytes=3000, interval=3600)
    progress.advance(1000)
    progress.advance(2000)
    assert [message.split(" in ")[0] for message in log.messages] == ["synced 2/2 objects (3.0 kB of 3.0 kB)"]


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (12_345_678, "12.3 MB"), (5 * 10**12, "5000.0 GB")]
)
def test_format_bytes(count: int, text: str) -> None:
    assert format_bytes(count) == text
