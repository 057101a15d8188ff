"""The switch journal (pure parts) and atomic release records: what is read back is validated, or refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.pointer import store_arn_problem
from runway_ext.static_site.records import Release, ReleaseError, ReleaseSummary, parse_release, render_release
from runway_ext.static_site.switches import MAX_WRITTEN, Switch, SwitchJournal


def test_the_journal_remembers_a_bounded_list_of_written_values_without_repeats() -> None:
    journal = SwitchJournal()
    for n in range(MAX_WRITTEN + 5):
        journal = journal.intending(f"v{n}")
    journal = journal.intending(f"v{MAX_WRITTEN + 4}")
    assert len(journal.written) == MAX_WRITTEN and journal.written[-1] == f"v{MAX_WRITTEN + 4}" and "v0" not in journal.written


def test_last_live_is_when_the_next_switch_happened_and_now_for_the_live_one() -> None:
    journal = SwitchJournal()
    for release, at in [("r1", 10.0), ("r2", 20.0), ("r1", 30.0), ("r3", 40.0)]:
        journal = journal.switched(Switch(release=release, at=at, by="me", kind="deploy"))
    assert journal.last_live(now=99.0) == {"r1": 40.0, "r2": 30.0, "r3": 99.0}
    assert SwitchJournal().last_live(now=1.0) == {}


def test_a_journal_with_unknown_fields_or_bad_ids_is_refused() -> None:
    with pytest.raises(ValidationError):
        SwitchJournal.model_validate_json('{"format":1,"written":[],"history":[{"release":"latest","at":1,"by":"x","kind":"deploy"}]}')
    with pytest.raises(ValidationError):
        SwitchJournal.model_validate_json('{"format":1,"extra":true}')


def summary(**changes: object) -> ReleaseSummary:
    fields: dict[str, object] = dict(
        id="r3", seq=3, time="2026-12-01T00:00:00Z", source_hash="s", settings_hash="h", deployed_by="me", kind="deploy",
        retention="atomic", files=1, changed=None, layout="atomic", shared=("assets/",),
    )
    fields.update(changes)
    return ReleaseSummary(**fields)  # type: ignore[arg-type]


def test_an_atomic_record_round_trips_with_its_checksums_and_an_in_place_reader_cannot_mistake_it() -> None:
    release = Release(summary(), {"index.html": ObjectState("a" * 64, 3, "etag", "text/html", "no-cache", checksum="AAAAAAAAAAA=")})
    data = render_release(release)
    assert b'"format":2' in data
    assert parse_release(data, "r3") == release
    with pytest.raises(ReleaseError):
        parse_release(data, "r4")  # a record under another id's key is not that release
    with pytest.raises(ReleaseError):
        parse_release(data.replace(b'"format":2', b'"format":1'), "r3")


def test_store_arns_are_checked_before_anything_is_sent() -> None:
    assert store_arn_problem("arn:aws:cloudfront::123456789012:key-value-store/a1b2c3d4-0000-1111-2222-333344445555") is None
    for bad in ["", "arn:aws:s3:::bucket", "arn:aws:cloudfront::12345:key-value-store/x", "arn:aws:cloudfront::123456789012:key-value-store/"]:
        assert store_arn_problem(bad)


def test_trimming_the_index_to_keep_releases_never_drops_an_atomic_release() -> None:
    from runway_ext.static_site.records import ReleaseIndex, append_release

    releases = (summary(id="r1", seq=1), summary(id="r2", seq=2, layout="in-place", retention="copies", shared=()))
    index, dropped = append_release(ReleaseIndex(releases, 3), summary(id="r3", seq=3, layout="in-place", retention="copies", shared=()), keep=1)
    assert [release.id for release in dropped] == ["r2"]
    assert [release.id for release in index.releases] == ["r1", "r3"]
