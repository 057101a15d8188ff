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
