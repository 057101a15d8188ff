"""The atomic layout's pure decisions: what a release uploads, copies and leaves; what prune keeps; the pointer value."""

from __future__ import annotations

import json

import pytest

from runway_ext.static_site.atomic import (
    POINTER_MAX_BYTES,
    AtomicPlanError,
    normalize_shared,
    plan_release,
    plan_retention,
    pointer_for,
    render_pointer,
    unreferenced_shared,
)
from runway_ext.static_site.headers import headers_for
from runway_ext.static_site.inplace import LocalFile
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release, ReleaseSummary

DAY = 86400.0


def file(path: str, content: str) -> LocalFile:
    return LocalFile(path, len(content), "sha-" + content, "")


def state(path: str, content: str, etag: str = "e") -> ObjectState:
    headers = headers_for(path, ())
    return ObjectState("sha-" + content, len(content), etag, headers.content_type, headers.cache_control, checksum="crc-" + content)


def summary(seq: int, *, layout: str = "atomic", shared: tuple[str, ...] = ("assets/",)) -> ReleaseSummary:
    return ReleaseSummary(
        id=f"r{seq}",
        seq=seq,
        time="2026-12-01T00:00:00Z",
        source_hash="s",
        settings_hash="h",
        deployed_by="me",
        kind="deploy",
        retention="atomic" if layout == "atomic" else "copies",
        files=0,
        changed=None,
        layout=layout,  # type: ignore[arg-type]
        shared=shared if layout == "atomic" else (),
    )


def release(seq: int, objects: dict[str, ObjectState]) -> Release:
    return Release(summary(seq), objects)


def test_new_bytes_are_uploaded_unchanged_pages_copied_and_unchanged_shared_files_left() -> None:
    earlier = release(1, {"index.html": state("index.html", "v1"), "about.html": state("about.html", "a"), "assets/x.js": state("assets/x.js", "x")})
    local = {"index.html": file("index.html", "v2"), "about.html": file("about.html", "a"), "assets/x.js": file("assets/x.js", "x")}
    plan = plan_release(local, prefix="", rid="r2", shared=("assets/",), rules=(), earlier=[earlier])
    assert [(u.path, u.key) for u in plan.uploads] == [("index.html", ".runway-ext-releases/r2/index.html")]
    assert [(c.source_key, c.key) for c in plan.copies] == [(".runway-ext-releases/r1/about.html", ".runway-ext-releases/r2/about.html")]
    assert plan.unchanged == ("assets/x.js",)
    assert plan.bytes_to_upload == 2


def test_a_new_shared_file_is_uploaded_to_the_shared_folder_under_a_site_prefix() -> None:
    plan = plan_release({"assets/y.js": file("assets/y.js", "y")}, prefix="docs/", rid="r1", shared=("assets/",), rules=(), earlier=[])
    assert [(u.key, u.shared) for u in plan.uploads] == [("docs/.runway-ext-releases/shared/assets/y.js", True)]


def test_a_shared_file_with_other_bytes_than_a_retained_release_recorded_is_refused() -> None:
    earlier = release(1, {"assets/x.js": state("assets/x.js", "x")})
    with pytest.raises(AtomicPlanError, match="never overwritten"):
        plan_release({"assets/x.js": file("assets/x.js", "other")}, prefix="", rid="r2", shared=("assets/",), rules=(), earlier=[earlier])


def test_headers_that_changed_make_a_per_release_file_an_upload_not_a_copy() -> None:
    old = ObjectState("sha-a", 1, "e", "text/html; charset=utf-8", "max-age=5", checksum="c")
    plan = plan_release({"a.html": file("a.html", "a")}, prefix="", rid="r2", shared=(), rules=(), earlier=[release(1, {"a.html": old})])
    assert [u.path for u in plan.uploads] == ["a.html"] and not plan.copies


def test_shared_prefixes_are_tidied_and_unclean_ones_refused() -> None:
    assert normalize_shared(["assets", "/_next/static/", "assets/"]) == ("_next/static/", "assets/")
    for bad in ["../x", "a//b", "a b", "*"]:
        with pytest.raises(ValueError, match="invalid shared prefix"):
            normalize_shared([bad])


def test_prune_keeps_what_a_pointer_names_and_what_is_recent_by_count_or_by_age() -> None:
    releases = [summary(n) for n in range(1, 8)]
    now = 100 * DAY
    last_live = {f"r{n}": now - (8 - n) * DAY for n in range(1, 8)}  # r1 left 7 days ago … r7 live now
    plan = plan_retention(releases, live="r7", pinned=["r1"], last_live=last_live, now=now, keep_releases=2, keep_days=3.5)
    # r7 live, r6 and r5 within 2 back; r4 is 3 back but only 4 days old... > 3.5: pruned only if both: r4 age 4 > 3.5 and back 3 > 2
    assert plan.retained == ("r7", "r6", "r5", "r1") and plan.pruned == ("r4", "r3", "r2")


def test_prune_needs_both_conditions_and_never_drops_a_release_newer_than_the_live_one() -> None:
    releases = [summary(n) for n in range(1, 6)]
    now = 100 * DAY
    young = {f"r{n}": now - DAY for n in range(1, 6)}
    kept = plan_retention(releases, live="r2", last_live=young, now=now, keep_releases=0, keep_days=7)
    assert kept.pruned == ()
    old = {f"r{n}": now - 30 * DAY for n in range(1, 6)}
    plan = plan_retention(releases, live="r2", last_live=old, now=now, keep_releases=0, keep_days=7)
    assert set(plan.retained) == {"r5", "r4", "r3", "r2"} and plan.pruned == ("r1",)


def test_in_place_releases_are_never_part_of_the_atomic_prune() -> None:
    releases = [summary(1, layout="in-place"), summary(2), summary(3)]
    plan = plan_retention(releases, live="r3", last_live={"r1": 0, "r2": 0}, now=100 * DAY, keep_releases=0, keep_days=0)
    assert plan.pruned == ("r2",) and "r1" not in plan.retained


def test_the_pointer_value_is_the_contract_json_and_k_is_bounded_to_fit() -> None:
    value = pointer_for("r9", ("assets/",), ["r9", "r8", "r7"])
    assert json.loads(render_pointer(value)) == {"v": 1, "r": "r9", "s": ["assets/"], "k": ["r8", "r7"]}
    assert render_pointer(value) == '{"v":1,"r":"r9","s":["assets/"],"k":["r8","r7"]}'
    many = pointer_for("r1000", (), [f"r{n}" for n in range(999, 0, -1)])
    assert len(render_pointer(many).encode()) <= POINTER_MAX_BYTES and many.kept[0] == "r999"
    assert 100 < len(many.kept) < 999


def test_only_shared_objects_no_retained_release_uses_are_unreferenced() -> None:
    gone = release(1, {"assets/a.js": state("assets/a.js", "a"), "assets/b.js": state("assets/b.js", "b"), "i.html": state("i.html", "i")})
    kept = release(2, {"assets/b.js": state("assets/b.js", "b")})
    assert sorted(unreferenced_shared([gone], [kept], prefix="")) == ["assets/a.js"]
