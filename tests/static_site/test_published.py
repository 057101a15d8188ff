"""What the release records say a site published, and since when each key is out of its build (pure)."""

from __future__ import annotations

import json

import pytest

from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.published import PublishedKey, published_keys
from runway_ext.static_site.records import Release, ReleaseError, ReleaseSummary, Retired, parse_release, render_release


def state(tag: str, content_type: str = "text/javascript") -> ObjectState:
    return ObjectState(tag * 64, 3, tag * 32, content_type, "no-cache")


def release(seq: int, objects: dict[str, ObjectState], *, retired: dict[str, Retired] | None = None, kind: str = "deploy") -> Release:
    summary = ReleaseSummary(
        id=f"r{seq}",
        seq=seq,
        time=f"2026-11-{seq:02d}T10:00:00Z",
        source_hash="s",
        settings_hash="c",
        deployed_by="me",
        kind=kind,  # type: ignore[arg-type]
        retention="copies",
        files=len(objects),
        changed=None,
        delete=False,
    )
    return Release(summary, objects, retired=retired)


def test_untracked_records_date_a_key_from_the_first_release_without_it() -> None:
    """Records written before keys were tracked: a key leaves the build at the first release that lacks it."""
    a, b, c = state("a"), state("b"), state("c")
    found = published_keys([release(3, {"x.js": a, "y.js": b}), release(4, {"y.js": b}), release(5, {"z.js": c})])
    assert found.keys == {
        "x.js": PublishedKey(a, 4, "2026-11-04T10:00:00Z"),
        "y.js": PublishedKey(b, 5, "2026-11-05T10:00:00Z"),
        "z.js": PublishedKey(c),
    }
    assert found.latest_seq == 5 and found.latest_objects == {"z.js": c}


def test_a_retired_entry_carries_the_key_past_the_releases_the_index_dropped() -> None:
    """r1 (which had x.js in its build) is no longer in the index; r9's record still says x.js left at r2."""
    a = state("a")
    found = published_keys([release(9, {"i.html": state("b")}, retired={"x.js": Retired(a, 2, "2026-11-02T10:00:00Z")})])
    assert found.keys["x.js"] == PublishedKey(a, 2, "2026-11-02T10:00:00Z")


def test_a_tracking_release_that_does_not_mention_a_key_disowns_it() -> None:
    """Deleted, or changed behind the tool's back and left to whoever changed it: no longer the site's."""
    a = state("a")
    found = published_keys([release(1, {"x.js": a, "i.html": state("b")}), release(2, {"i.html": state("b")}, retired={})])
    assert "x.js" not in found.keys


def test_a_rollback_record_keeps_what_earlier_records_said() -> None:
    a = state("a")
    retired = {"x.js": Retired(a, 2, "2026-11-02T10:00:00Z")}
    found = published_keys([release(3, {"i.html": state("b")}, retired=retired), release(4, {"i.html": state("c")}, kind="rollback")])
    assert found.keys["x.js"] == PublishedKey(a, 2, "2026-11-02T10:00:00Z")


def test_the_manifest_s_objects_are_in_the_newest_build() -> None:
    """A site with keep_releases: 0 has no records, only the manifest of its last sync."""
    a = state("a")
    found = published_keys([], {"x.js": a})
    assert found.keys == {"x.js": PublishedKey(a)} and found.latest_objects is None


def test_retired_keys_round_trip_through_the_strict_record_model() -> None:
    a = state("a")
    original = release(7, {"i.html": state("b", "text/html")}, retired={"x.js": Retired(a, 5, "2026-11-05T10:00:00Z")})
    assert parse_release(render_release(original), "r7").retired == original.retired
    assert parse_release(render_release(release(7, {})), "r7").retired is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("left_seq", 0), ("left_seq", "x"), ("etag", "<script>"), ("sha256", "not-hex"), ("extra", 1)],
)
def test_a_hostile_retired_entry_refuses_the_whole_record(field: str, value: object) -> None:
    document = json.loads(render_release(release(7, {}, retired={"x.js": Retired(state("a"), 5, "2026-11-05T10:00:00Z")})))
    document["retired"]["x.js"][field] = value
    with pytest.raises(ReleaseError, match="release r7: its record: retired.x.js"):
        parse_release(json.dumps(document).encode(), "r7")


def test_a_tracking_record_says_everything_the_records_before_it_said() -> None:
    """So a deploy reads only the newest record when it tracks retired keys."""
    a, b, c = state("a"), state("b"), state("c")
    older = [release(1, {"x.js": a, "y.js": b}), release(2, {"y.js": b})]
    newest = release(3, {"z.js": c}, retired={"y.js": Retired(b, 3, "2026-11-03T10:00:00Z")})
    assert published_keys([*older, newest]) == published_keys([newest])
