"""The strict document models: what a record, index or manifest read back may hold, and the sizes they admit."""

from __future__ import annotations

import json

import pytest

from runway_ext.static_site.documents import MAX_LOCK_TTL
from runway_ext.static_site.manifest import SiteLock, SiteManifest, parse_manifest, render_manifest
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release, ReleaseError, ReleaseSummary, parse_release, render_release

STATE = ObjectState("a" * 64, 10, "0" * 32, "text/html; charset=utf-8", "no-cache")


def release(objects: dict[str, ObjectState]) -> Release:
    summary = ReleaseSummary("r1", 1, "2026-01-01T00:00:00Z", "s", "t", "me@host", "deploy", "copies", len(objects), None)
    return Release(summary, objects)


def test_a_20000_file_record_round_trips() -> None:
    big = release({f"docs/page-{n:05d}/index.html": STATE for n in range(20_000)})
    assert parse_release(render_release(big), "r1") == big


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["objects"]["index.html"].update(sha256="zz"), "objects.index.html.sha256"),
        (lambda d: d["objects"]["index.html"].update(size=-1), "objects.index.html.size"),
        (lambda d: d["objects"]["index.html"].update(content_type="text/html\r\nX-Evil: 1"), "objects.index.html.content_type"),
        (lambda d: d.update(surprise=True), "surprise"),
        (lambda d: d.update(files=10**9), "files"),
        (lambda d: d.update(id="r1/../x"), "id"),
    ],
)
def test_a_record_that_does_not_fit_is_refused_naming_the_field(change: object, field: str) -> None:
    document = json.loads(render_release(release({"index.html": STATE})))
    change(document)  # type: ignore[operator]
    with pytest.raises(ReleaseError, match=f"release r1: its record: {field}"):
        parse_release(json.dumps(document).encode(), "r1")


@pytest.mark.parametrize("ttl", ["NaN", "Infinity", "1e300", "-5"])
def test_a_hostile_lock_ttl_is_clamped(ttl: str) -> None:
    lock = SiteLock(owner="o", host="h", pid=1, run_id="x", ttl=60)
    data = render_manifest(SiteManifest("s", "t", {}, state="syncing", lock=lock), written_by="test")
    hostile = data.replace(b'"ttl":60', b'"ttl":' + ttl.encode())
    assert hostile != data
    manifest = parse_manifest(hostile)
    assert manifest is not None and manifest.lock is not None
    assert 1 <= manifest.lock.ttl <= MAX_LOCK_TTL
