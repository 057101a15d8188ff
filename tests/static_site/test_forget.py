"""The pure plan of ``site forget``, and what a rollback does with a record's forgotten paths."""

from __future__ import annotations

import pytest

from runway_ext.hooks.site.plan import plan_rollback
from runway_ext.static_site.forget import ForgetError, forgotten, plan_forget
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release, ReleaseSummary, parse_release, render_release

SECRET, HOME, OTHER = "5" * 64, "a" * 64, "b" * 64


def state(sha: str, version: str | None = None) -> ObjectState:
    return ObjectState(sha, 1, "0" * 32, "text/html", "no-cache", version)


def release(seq: int, objects: dict[str, ObjectState]) -> Release:
    return Release(ReleaseSummary(f"r{seq}", seq, "t", "s", "x", "me", "deploy", "copies", len(objects), None), objects)


def test_plan_purges_the_paths_contents_and_marks_every_record_holding_them() -> None:
    r1 = release(1, {"config.json": state(SECRET, "v1"), "index.html": state(HOME)})
    r2 = release(2, {"old-name.json": state(SECRET), "index.html": state(HOME)})
    r3 = release(3, {"index.html": state(OTHER)})
    plan = plan_forget(["config.json"], [r1, r2, r3], r3)
    assert plan.purged == {SECRET} and plan.kept == {}
    assert plan.marks == {"r1": {"config.json"}, "r2": {"old-name.json"}}  # the same bytes elsewhere are gone too
    assert plan.versions == (("config.json", "v1"),)


def test_content_the_live_release_serves_elsewhere_is_kept() -> None:
    r1 = release(1, {"config.json": state(SECRET)})
    r2 = release(2, {"public.json": state(SECRET)})
    plan = plan_forget(["config.json"], [r1, r2], r2)
    assert plan.purged == frozenset() and plan.kept == {SECRET: ("public.json",)}
    assert plan.marks == {"r1": {"config.json"}}


def test_refusals() -> None:
    r1 = release(1, {"config.json": state(SECRET)})
    with pytest.raises(ForgetError, match="still served by the live release r1"):
        plan_forget(["config.json"], [r1], r1)
    with pytest.raises(ForgetError, match="named by no kept release record"):
        plan_forget(["nope.json"], [r1], release(2, {}))


def test_a_forgotten_record_round_trips_and_a_rerun_still_knows_the_content() -> None:
    r1 = forgotten(release(1, {"config.json": state(SECRET), "index.html": state(HOME)}), {"config.json"})
    assert dict(r1.forgotten) == {"config.json": SECRET} and set(r1.objects) == {"index.html"}
    assert parse_release(render_release(r1), "r1") == r1
    assert plan_forget(["config.json"], [r1], release(2, {})).purged == {SECRET}


def test_a_rollback_leaves_forgotten_paths_as_they_are() -> None:
    target = forgotten(release(1, {"config.json": state(SECRET), "index.html": state(HOME)}), {"config.json"})
    plan = plan_rollback(target, {"config.json": state(OTHER), "index.html": state(OTHER), "x.html": state(OTHER)}, live=None)
    assert plan.restores == ("index.html",) and plan.deletes == ("x.html",)


def atomic(seq: int, objects: dict[str, ObjectState], shared: tuple[str, ...] = ("assets/",)) -> Release:
    summary = ReleaseSummary(f"r{seq}", seq, "t", "s", "x", "me", "deploy", "atomic", len(objects), None, layout="atomic", shared=shared)
    return Release(summary, objects)


def test_atomic_plan_names_every_release_object_of_the_marked_entries_and_the_plain_key() -> None:
    r1 = atomic(1, {"site/config.json": state(SECRET), "site/assets/k.js": state(SECRET), "site/index.html": state(HOME)})
    r2 = atomic(2, {"site/index.html": state(OTHER), "site/assets/ok.js": state(HOME)})
    plan = plan_forget(["site/config.json"], [r1, r2], r2, prefix="site/")
    assert plan.marks == {"r1": {"site/config.json", "site/assets/k.js"}}  # the same bytes under a shared path go too
    assert plan.objects == (
        "site/.runway-ext-releases/r1/config.json",
        "site/.runway-ext-releases/shared/assets/k.js",
        "site/config.json",  # the plain key: an error page's copy or the root fallback, not what the pointer serves
    )


def test_atomic_plan_never_names_an_object_a_served_release_maps_to_and_a_rerun_still_names_the_rest() -> None:
    r1 = atomic(1, {"config.json": state(SECRET), "assets/k.js": state(SECRET)})
    r2 = atomic(2, {"index.html": state(HOME), "assets/k.js": state(OTHER)})  # a shared key the live release uses (by hand)
    plan = plan_forget(["config.json"], [r1, r2], r2)
    assert ".runway-ext-releases/shared/assets/k.js" not in plan.objects
    assert ".runway-ext-releases/r1/config.json" in plan.objects
    rerun = plan_forget(["config.json"], [forgotten(r1, plan.marks["r1"]), r2], r2)  # killed after the records were rewritten
    assert rerun.marks == {} and rerun.objects == plan.objects


def test_previews_are_served_like_the_live_release() -> None:
    r1 = atomic(1, {"config.json": state(SECRET)})
    r2 = atomic(2, {"index.html": state(HOME)})
    r3 = atomic(3, {"copy.json": state(SECRET)})
    with pytest.raises(ForgetError, match="still served by preview pr-1 \\(release r1\\): delete the preview"):
        plan_forget(["config.json"], [r1, r2, r3], r2, previews={"pr-1": r1})
    plan = plan_forget(["config.json"], [r1, r2, r3], r2, previews={"pr-3": r3})
    assert plan.kept == {SECRET: ("copy.json",)} and plan.purged == frozenset()
    assert plan.marks == {"r1": {"config.json"}} and ".runway-ext-releases/r3/copy.json" not in plan.objects


def test_an_atomic_record_reads_with_or_without_forgotten_paths() -> None:
    plain = atomic(1, {"index.html": state(HOME)})
    assert b"forgotten" not in render_release(plain) and parse_release(render_release(plain), "r1") == plain  # as older versions wrote it
    marked = forgotten(atomic(1, {"config.json": state(SECRET), "index.html": state(HOME)}), {"config.json"})
    assert parse_release(render_release(marked), "r1") == marked and dict(marked.forgotten) == {"config.json": SECRET}
