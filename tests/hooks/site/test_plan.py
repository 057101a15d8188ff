"""The pure release decisions: target choice, diff, rollback plan, retention, records round trip, who deployed."""

from __future__ import annotations

import pytest

from runway_ext.hooks.site.plan import choose_target, plan_rollback
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import (
    Release,
    ReleaseError,
    ReleaseIndex,
    ReleaseSummary,
    append_release,
    deployed_by,
    diff_objects,
    parse_index,
    parse_release,
    render_index,
    render_release,
    unreferenced_contents,
)


def state(sha: str, cache: str = "no-cache") -> ObjectState:
    return ObjectState(sha, 1, f"etag-{sha}", "text/html", cache)


def summary(seq: int, *, delete: bool = True, retention: str = "copies") -> ReleaseSummary:
    return ReleaseSummary(f"r{seq}", seq, "2026-01-01T00:00:00Z", "src", "set", "me@host", "deploy", retention, 1, None, delete)  # type: ignore[arg-type]


def index(*seqs: int) -> ReleaseIndex:
    return ReleaseIndex(tuple(summary(seq) for seq in seqs), max(seqs, default=0) + 1)


def test_target_by_id_or_steps_and_one_line_refusals() -> None:
    kept = index(3, 4, 5)
    assert choose_target(kept, to="r4", steps=None).id == "r4"
    assert choose_target(kept, to=None, steps=None).id == "r4"
    assert choose_target(kept, to=None, steps=2).id == "r3"
    with pytest.raises(ReleaseError, match=r"release r1 is no longer retained \(only the last 3 are kept: r3..r5\)"):
        choose_target(kept, to="r1", steps=None)
    with pytest.raises(ReleaseError, match="release r9 does not exist"):
        choose_target(kept, to="r9", steps=None)
    with pytest.raises(ReleaseError, match="cannot go back 3 release"):
        choose_target(kept, to=None, steps=3)


def test_diff_kinds() -> None:
    before = {"a": state("1"), "b": state("2"), "c": state("3"), "d": None}
    after = {"a": state("1"), "b": state("9"), "c": state("3", "max-age=1"), "d": state("4"), "e": state("5")}
    assert [(e.key, e.kind) for e in diff_objects(before, after)] == [("b", "changed"), ("c", "headers"), ("d", "changed"), ("e", "added")]
    assert [(e.key, e.kind) for e in diff_objects(after, {"a": state("1")})][-1] == ("e", "removed")


def test_rollback_plan_restores_reheaders_and_deletes() -> None:
    target = Release(summary(1), {"a": state("1"), "b": state("2"), "c": state("3")})
    current = {"a": state("1"), "b": state("2", "max-age=9"), "c": None, "x": state("8"), "foreign": state("7")}
    plan = plan_rollback(target, current, live=None)
    assert (plan.restores, plan.reheaders, plan.unchanged, plan.deletes) == (("c",), ("b",), ("a",), ("foreign", "x"))
    # a release that did not own the prefix (delete off): only what the live release wrote goes
    keeper = Release(summary(1, delete=False), target.objects)
    live = Release(summary(2), {"x": state("8")})
    assert plan_rollback(keeper, current, live=live).deletes == ("x",)


def test_retention_drops_the_oldest_and_only_unshared_contents() -> None:
    updated, dropped = append_release(index(*range(1, 11)), summary(11), keep=10)
    assert [s.id for s in dropped] == ["r1"] and [s.id for s in updated.releases] == [f"r{n}" for n in range(2, 12)]
    assert updated.next_seq == 12
    old = Release(summary(1), {"a": state("shared"), "b": state("only-old")})
    new = Release(summary(2), {"a": state("shared")})
    versioned = Release(summary(3, retention="versions"), {"b": state("only-old")})
    assert unreferenced_contents([old], [new, versioned]) == {"only-old"}


def test_records_round_trip_and_unreadable_records_are_one_line() -> None:
    release = Release(summary(4), {"caf\u00e9/index.html": state("1" * 64)})
    assert parse_release(render_release(release), "r4") == release
    assert parse_index(render_index(index(1, 2))) == index(1, 2)
    with pytest.raises(ReleaseError, match="release r4: its record is not JSON"):
        parse_release(b"{not json", "r4")


def test_who_deployed_reads_named_ci_variables_and_never_secrets() -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "42", "GITHUB_SHA": "a" * 40, "GITHUB_TOKEN": "ghp_x"}
    assert deployed_by(env) == "github-actions octocat run 42 commit aaaaaaaaaaaa"
    assert deployed_by({"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "https://u:pw@host/"}) == "gitlab-ci"
    assert deployed_by({}, user="ana", host="box") == "ana@box"
