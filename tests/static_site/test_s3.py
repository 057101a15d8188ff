"""S3 I/O of the sync against a moto server bucket: manifest, listing, HEADs, uploads in order, deletes, errors."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

import runway_ext.static_site.s3 as s3_site
from runway_ext.core.errors import HookError
from runway_ext.hooks.npm_build.build_output import scan_build
from runway_ext.static_site.headers import CacheRule, headers_for
from runway_ext.static_site.inplace import SkewWindow, keys_to_inspect, manifest_after_sync, plan_sync
from runway_ext.static_site.layout import manifest_key
from runway_ext.static_site.manifest import SiteManifest, with_manifest_state
from runway_ext.static_site.s3 import Progress, S3Site, format_bytes
from runway_ext.static_site.store import ReleaseStore
from tests.reliability.faults import Fault, session_with

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


def sync(target: S3Site, out: Path, *, delete: bool = False, rules: tuple[CacheRule, ...] = ()) -> Any:
    """One complete sync as the hook does it; returns the plan."""
    manifest = target.read_manifest()
    local = scan_build(out)
    remote = with_manifest_state(target.list_objects(), manifest)
    remote.update(target.inspect(keys_to_inspect(local, remote, prefix=target.prefix)))
    records = ReleaseStore(target).published(manifest.objects if manifest is not None else None)
    plan = plan_sync(local, remote, prefix=target.prefix, delete=delete, published=records, window=SkewWindow(0), rules=rules)
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


def test_inspect_reads_s3s_sha256_and_the_headers(s3: Any, out: Path) -> None:
    sync(site(), out)
    s3.put_object(Bucket=BUCKET, Key="foreign.txt", Body=b"x", ContentType="text/plain", CacheControl="max-age=5")
    found = site().inspect(["index.html", "foreign.txt"])
    assert found["index.html"].sha256 == scan_build(out)["index.html"].sha256 and found["index.html"].headers_known
    assert (found["foreign.txt"].sha256, found["foreign.txt"].content_type, found["foreign.txt"].cache_control) == (
        None,
        "text/plain",
        "max-age=5",
    )


OLD_BUILD = {
    "index.html": b"<script src=/main.js></script> 1",
    "about.html": b"<h1>about</h1>",
    "main.js": b"console.log('build 1')",
    "style.css": b"body {}",
    "old.html": b"<h1>old</h1>",
}
NEW_BUILD = {
    "index.html": b"<script src=/main.js></script> 2",  # overwritten page
    "about.html": b"<h1>about</h1>",  # same bytes, other headers (a rule): a page's metadata update
    "main.js": b"import './chunk-2.js'; import './chunk-3.js'",  # overwritten file
    "style.css": b"body {}",  # same bytes, other headers: a file's metadata update
    "chunk-2.js": b"chunk 2",  # new keys
    "chunk-3.js": b"chunk 3",
    "blog/new.html": b"<h1>new</h1>",
}
NEW_RULES = (CacheRule("about.html", "public, max-age=5"), CacheRule("*.css", "public, max-age=60"))


def write_tree(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


class Writes:
    """The site's writes in the order S3 saw them: ("start"|"end", key), recorded by botocore events of the site's client."""

    def __init__(self, target: S3Site) -> None:
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        for operation in ("PutObject", "CopyObject", "DeleteObject", "DeleteObjects"):
            target.client.meta.events.register(f"provide-client-params.s3.{operation}", self._start)
            target.client.meta.events.register(f"after-call.s3.{operation}", self._end)

    def _start(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        keys = [item["Key"] for item in params["Delete"]["Objects"]] if "Delete" in params else [params["Key"]]
        context["written_keys"] = keys
        with self._lock:
            self.events += [("start", key) for key in keys]

    def _end(self, context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.events += [("end", key) for key in context["written_keys"]]

    def site_events(self) -> list[tuple[str, str]]:
        return [(what, key) for what, key in self.events if key != manifest_key("")]


def test_each_wave_is_complete_before_the_next_starts(s3: Any, tmp_path: Path) -> None:
    sync(site(), write_tree(tmp_path / "old", OLD_BUILD))
    target = site(workers=8)
    writes = Writes(target)
    plan = sync(target, write_tree(tmp_path / "new", NEW_BUILD), delete=True, rules=NEW_RULES)
    waves = [(wave.kind, sorted([t.key for t in wave.transfers] or wave.deletes)) for wave in plan.waves]
    assert waves == [
        ("new keys", ["blog/new.html", "chunk-2.js", "chunk-3.js"]),
        ("overwritten files", ["main.js", "style.css"]),
        ("overwritten pages", ["about.html", "index.html"]),
        ("deletes", ["old.html"]),
    ]
    events = writes.site_events()
    assert sorted(key for what, key in events if what == "end") == sorted(key for _, keys in waves for key in keys)
    position = {event: number for number, event in enumerate(events)}
    for (_, earlier), (kind, later) in zip(waves, waves[1:], strict=False):
        last_end = max(position[("end", key)] for key in earlier)
        first_start = min(position[("start", key)] for key in later)
        assert last_end < first_start, (kind, events)
    assert s3.get_object(Bucket=BUCKET, Key="about.html")["CacheControl"] == "public, max-age=5"
    assert s3.get_object(Bucket=BUCKET, Key="style.css")["CacheControl"] == "public, max-age=60"


def test_a_failed_wave_stops_the_sync_before_the_next(s3: Any, tmp_path: Path) -> None:
    sync(site(), write_tree(tmp_path / "old", OLD_BUILD))
    fault = Fault(code="BadDigest", protocol="rest-xml", status=400, only=lambda request: request.url.endswith("/chunk-3.js"))
    target = S3Site(session_with("before-send.s3.PutObject", fault), BUCKET, "", log=LOG, workers=8, region="us-east-1")
    writes = Writes(target)
    with pytest.raises(HookError, match=r"^could not upload chunk-3.js in s3://site-bucket: .*injected BadDigest"):
        sync(target, write_tree(tmp_path / "new", NEW_BUILD), delete=True, rules=NEW_RULES)
    assert fault.injected >= 1
    started = {key for what, key in writes.site_events() if what == "start"}
    assert started <= {"blog/new.html", "chunk-2.js", "chunk-3.js"}  # nothing of a later wave was even tried
    stored = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "chunk-3.js" not in stored and "old.html" in stored  # the failed upload, and no delete
    for key in ("index.html", "about.html", "main.js", "style.css"):  # no overwrite of a file nor of a page
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == OLD_BUILD[key], key
    assert s3.head_object(Bucket=BUCKET, Key="about.html")["CacheControl"] == headers_for("about.html").cache_control


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


def test_the_tool_s_own_deletes_go_in_batches(s3: Any, monkeypatch: pytest.MonkeyPatch, log: pytest.LogCaptureFixture) -> None:
    for number in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"old/{number}.json", Body=b"old")
    monkeypatch.setattr(s3_site, "DELETE_BATCH", 2)
    site().delete([f"old/{number}.json" for number in range(5)], lambda: None)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert [message for message in log.messages if message.startswith("deleted ")] == [
        "deleted 2 objects",
        "deleted 4 objects",
        "deleted 5 objects",
    ]


def test_site_deletes_are_conditional_on_the_recorded_etag(s3: Any, out: Path, log: pytest.LogCaptureFixture) -> None:
    """A published page overwritten behind the tool's back between the plan and the delete is kept and named."""
    for number in range(3):
        (out / f"old-{number}.html").write_bytes(b"old")
    sync(site(), out)
    for number in range(3):
        (out / f"old-{number}.html").unlink()
    target = site()
    manifest = target.read_manifest()
    local = scan_build(out)
    remote = with_manifest_state(target.list_objects(), manifest)
    records = ReleaseStore(target).published(manifest.objects if manifest is not None else None)
    plan = plan_sync(local, remote, delete=True, published=records, window=SkewWindow(0))
    assert plan.deletes == ("old-0.html", "old-1.html", "old-2.html")
    s3.put_object(Bucket=BUCKET, Key="old-1.html", Body=b"rewritten by hand")
    target.apply(plan, local, out)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {"old-0.html", "old-2.html"} & keys == set()
    assert s3.get_object(Bucket=BUCKET, Key="old-1.html")["Body"].read() == b"rewritten by hand"
    assert (
        "kept 1 object(s) that changed after this site recorded them (not deleted; now left to whoever changed them): old-1.html"
        in log.messages
    )


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


# -- the listing -----------------------------------------------------------------------------------
HOSTILE_KEYS = [
    "index.html",
    "a b/c+d.html",
    "100%/x%2By.txt",
    "amp&lt<gt>quote\"'.txt",
    "trailing space ",
    "carriage\rreturn.txt",  # moto cannot store a newline in a key (AWS can; the XML entity path is the same)
    "tab\tand\x01control.txt",
    "ünïcödé/日本語.html",
    "emoji-\U0001f600.txt",
    "\U0010fffd-high.txt",
    ".runway-ex",
    ".runway-ext",
    ".runway-ext0",
    ".runway-ext.txt",
    "-dash-before-dot",
    "~tilde-last",
]


def reference_listing(s3: Any, prefix: str) -> list[tuple[str, int, str, float]]:
    """The site's objects as botocore's own paginator and parser see them (the tool's state folder left out)."""
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].startswith(prefix + ".runway-ext/"):
                rows.append((item["Key"], item["Size"], item["ETag"].strip('"'), item["LastModified"].timestamp()))
    return rows


def our_listing(target: S3Site) -> list[tuple[str, int, str, float]]:
    return [(item.key, item.size, item.etag, item.last_modified or 0.0) for item in target.list_objects()]


def put_manifest(s3: Any, prefix: str, keys: list[str]) -> None:
    """A complete site manifest naming ``keys`` (what decides where the listing is split)."""
    from runway_ext.static_site.manifest import render_manifest
    from runway_ext.static_site.objects import ObjectState

    entries = {key: ObjectState("0" * 64, 1, "e", "text/html", "no-cache") for key in keys}
    s3.put_object(Bucket=BUCKET, Key=manifest_key(prefix), Body=render_manifest(SiteManifest("s", "c", entries), written_by="test"))


@pytest.mark.parametrize("prefix", ["", "site/"])
def test_the_listing_covers_every_key_exactly_once_whatever_the_manifest_predicts(
    s3: Any, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    """Ranges cut from a manifest that is wrong in every way still yield exactly botocore's listing."""
    monkeypatch.setattr(s3_site, "RANGE_KEYS", 3)
    monkeypatch.setattr(s3_site, "PAGE_KEYS", 2)
    keys = [*HOSTILE_KEYS, *(f"page-{number:03d}.html" for number in range(40))]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=prefix + key, Body=key.encode())
    for state in ("site-manifest.json.bak", "releases/index.json", "releases/objects/abc", "\U0010ffff"):
        s3.put_object(Bucket=BUCKET, Key=prefix + ".runway-ext/" + state, Body=b"state")
    s3.put_object(Bucket=BUCKET, Key="outside-the-prefix.html" if prefix else "zzz/other", Body=b"x")
    expected = reference_listing(s3, prefix)
    assert len(expected) == len(keys) + (0 if prefix else 1)

    assert our_listing(site(prefix)) == expected  # no manifest: one range, page after page

    # the manifest names every other key, some keys that are gone, none of the state folder
    predicted = [prefix + key for key in sorted(keys)[::2]] + [prefix + f"gone-{number}" for number in range(12)]
    put_manifest(s3, prefix, predicted)
    target = site(prefix)
    manifest = target.read_manifest()
    assert manifest is not None and len(s3_site.listing_ranges(manifest.objects, per_range=3, state_prefix=".runway-ext/")) > 8
    assert our_listing(target) == expected


def test_the_listing_is_parsed_by_the_fast_reader_and_equals_botocores(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in HOSTILE_KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    calls: list[int] = []
    parse = s3_site.parse_contents

    def counting(segment: bytes, *, url_encoded: bool) -> Any:
        found = parse(segment, url_encoded=url_encoded)
        calls.append(len(found))
        return found

    monkeypatch.setattr(s3_site, "parse_contents", counting)
    fast = our_listing(site())
    assert sum(calls) >= len(HOSTILE_KEYS)
    plain = site()
    plain.client.meta.events.unregister("before-parse.s3.ListObjectsV2", s3_site.stash_listing_contents)
    before = list(calls)
    assert our_listing(plain) == fast == reference_listing(s3, "")
    assert calls == before  # botocore parsed the second listing


def test_parse_contents_reads_entities_url_encoding_and_times() -> None:
    segment = (
        b"<Contents><Key>a%2Bb+c%0A%26.html</Key><LastModified>2026-12-02T15:31:26.000Z</LastModified>"
        b"<ETag>&quot;0123&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>12</Size>"
        b"<StorageClass>STANDARD</StorageClass></Contents>"
        b'<Contents><Key>x&amp;y&lt;&#13;</Key><Size>0</Size><ETag>"e-2"</ETag></Contents>'
    )
    first, second = s3_site.parse_contents(segment, url_encoded=True)
    assert (first.key, first.size, first.etag, first.last_modified) == ("a+b c\n&.html", 12, "0123", 1796225486.0)
    assert (second.key, second.etag, second.last_modified) == ("x&y<\r", "e-2", None)
    assert s3_site.parse_contents(segment, url_encoded=False)[0].key == "a%2Bb+c%0A%26.html"


@pytest.mark.parametrize(
    ("segment", "problem"),
    [
        (b"<Contents><Key>a</Key><Size>1</Size>", "could not read a page of the bucket listing: .*"),
        (b"<Contents><Key>a</Key></Contents>", "an entry without Key or Size"),
        (b"<Contents><Key>a</Key><Size>1</Size><LastModified>yesterday</LastModified></Contents>", "bad LastModified 'yesterday'"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><Contents><Key>&e;</Key><Size>1</Size></Contents>', "could not read a page"),
    ],
)
def test_a_listing_page_that_cannot_be_read_is_one_line(segment: bytes, problem: str) -> None:
    with pytest.raises(HookError, match=problem):
        s3_site.parse_contents(segment, url_encoded=False)


def test_the_stash_leaves_errors_and_other_shapes_to_botocore() -> None:
    error = {"status_code": 403, "body": b"<Error><Code>AccessDenied</Code></Error>"}
    page = {"status_code": 200, "body": b"<R><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes></R>"}
    mixed = {"status_code": 200, "body": b"<R><Contents><Key>a</Key></Contents><CommonPrefixes/><Contents><Key>b</Key></Contents></R>"}
    for response in (error, page, mixed):
        before, extra = dict(response), {}  # type: ignore[var-annotated]
        s3_site.stash_listing_contents(response, extra)
        assert (response, extra) == (before, {})
    plain = {"status_code": 200, "body": b"<R><KeyCount>1</KeyCount><Contents><Key>a</Key></Contents><IsTruncated>false</IsTruncated></R>"}
    extra = {}
    s3_site.stash_listing_contents(plain, extra)
    assert plain["body"] == b"<R><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated></R>"
    assert extra == {s3_site.RAW_CONTENTS: b"<Contents><Key>a</Key></Contents>"}


def test_listing_ranges_leave_out_exactly_the_state_folder_and_expect_the_manifests_keys() -> None:
    expected = ["-", "b", "p/.runway-ext", "p/a", "p/b", "p/z", "q"]
    ranges = s3_site.listing_ranges(expected, per_range=2, state_prefix="p/.runway-ext/")
    inside = ["p/.runway-ext/", "p/.runway-ext/site-manifest.json", "p/.runway-ext/releases/objects/ab", "p/.runway-ext/\U0010fffd"]
    outside = ["!", "a", "b", "c", "p/.runway-ext", "p/.runway-ext.txt", "p/.runway-ext0", "p/z", "q", "\U0010fffd"]

    def owners(key: str) -> list[int]:
        return [index for index, item in enumerate(ranges) if (item.after is None or key > item.after) and item.holds(key)]

    assert all(owners(key) == [] for key in inside)
    assert [len(owners(key)) for key in outside] == [1] * len(outside)
    assert [(item.after, item.upto, item.expected) for item in ranges] == [
        (None, "b", 2),
        ("b", "p/.runway-ext/", 1),
        ("p/.runway-ext/\U0010ffff", "p/a", 1),
        ("p/a", "p/z", 2),
        ("p/z", None, None),
    ]
    assert [item.first_page_keys() for item in ranges] == [12, 11, 11, 12, s3_site.PAGE_KEYS]
    assert s3_site.listing_ranges([], per_range=990, state_prefix=".runway-ext/") == [
        s3_site.KeyRange(None, ".runway-ext/", inclusive=False, expected=0),
        s3_site.KeyRange(".runway-ext/\U0010ffff", None),
    ]


def test_a_stopped_listing_raises(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"x")
    target = site()
    target.stop_listing.set()
    with pytest.raises(HookError, match="listing of s3://site-bucket was stopped"):
        target.list_objects()


def test_importing_the_s3_module_imports_no_aws_library() -> None:
    import subprocess
    import sys

    code = "import sys, runway_ext.static_site.s3, runway_ext.static_site.store, runway_ext.hooks.npm_build.hook, runway_ext.hooks.site.rollback; print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert run.stdout.strip() == "[]"


def test_sessions_read_the_service_models_through_one_loader(s3: Any) -> None:
    """Each new session (Runway makes one per stack and hook) reuses the models already parsed; both still work."""
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"x")
    first, second = boto3.Session(), boto3.Session(region_name="eu-west-1")
    sites = [S3Site(first, BUCKET, "", log=LOG, workers=2), S3Site(second, BUCKET, "", log=LOG, workers=2, region="us-east-1")]
    loaders = {id(session._session.get_component("data_loader")) for session in (first, second)}
    assert len(loaders) == 1
    assert [[item.key for item in target.list_objects()] for target in sites] == [["index.html"], ["index.html"]]
