"""The sync planner (pure): content comparison, metadata updates, deletes and their cap, the site manifest."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_ext.static_site.headers import IMMUTABLE, NO_CACHE, CacheRule, headers_for
from runway_ext.static_site.inplace import (
    COPY_LIMIT,
    LocalFile,
    MetadataUpdate,
    SkewWindow,
    SyncPlanError,
    Upload,
    keys_to_inspect,
    manifest_after_sync,
    plan_sync,
)
from runway_ext.static_site.layout import MANIFEST_NAME, key_problem, manifest_key, normalize_prefix
from runway_ext.static_site.manifest import SiteManifest, parse_manifest, render_manifest, settings_hash, with_manifest_state
from runway_ext.static_site.objects import ObjectState, RemoteObject, strip_etag
from runway_ext.static_site.published import Published, PublishedKey


def local_file(path: str, content: bytes) -> LocalFile:
    return LocalFile(path, len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content, usedforsecurity=False).hexdigest())


def synced(file: LocalFile, key: str | None = None, *, rules: tuple[CacheRule, ...] = ()) -> RemoteObject:
    """The object a previous sync of ``file`` left (state known, headers as the rules say)."""
    headers = headers_for(file.path, rules)
    return RemoteObject(
        key or file.path,
        file.size,
        file.md5,
        sha256=file.sha256,
        content_type=headers.content_type,
        cache_control=headers.cache_control,
        headers_known=True,
    )


def listed(file: LocalFile, key: str | None = None, *, etag: str | None = None) -> RemoteObject:
    """An object as a bare listing shows it: key, size, ETag — nothing known about headers."""
    return RemoteObject(key or file.path, file.size, etag if etag is not None else file.md5)


INDEX = local_file("index.html", b"<h1>home</h1>")
APP_JS = local_file("_next/static/chunks/app-0123456789abcdef.js", b"console.log(1)")
LOGO = local_file("images/logo.svg", b"<svg/>")


def test_new_files_are_uploaded_with_headers_from_the_rules() -> None:
    plan = plan_sync({f.path: f for f in (INDEX, APP_JS)}, {})
    assert [(u.key, u.reason) for u in plan.uploads] == [(APP_JS.path, "new"), (INDEX.path, "new")]
    by_key = {u.key: u.headers for u in plan.uploads}
    assert by_key[INDEX.path].cache_control == NO_CACHE
    assert by_key[INDEX.path].content_type == "text/html; charset=utf-8"
    assert by_key[APP_JS.path].cache_control == IMMUTABLE
    assert plan.bytes_to_upload == INDEX.size + APP_JS.size


def test_identical_content_and_headers_are_unchanged() -> None:
    plan = plan_sync({INDEX.path: INDEX}, {INDEX.path: synced(INDEX)})
    assert plan.unchanged == (INDEX.path,)
    assert plan.is_noop
    assert plan.changed_paths == []


def test_changed_bytes_of_the_same_size_are_uploaded() -> None:
    changed = local_file("index.html", b"<h1>HOME</h1>")
    assert changed.size == INDEX.size
    plan = plan_sync({changed.path: changed}, {INDEX.path: synced(INDEX)})
    assert [(u.key, u.reason) for u in plan.uploads] == [("index.html", "changed")]


def test_a_size_difference_needs_no_inspection() -> None:
    bigger = local_file("index.html", b"<h1>home page</h1>")
    remote = {INDEX.path: listed(INDEX)}
    assert keys_to_inspect({bigger.path: bigger}, remote) == []
    assert plan_sync({bigger.path: bigger}, remote).uploads[0].reason == "changed"


def test_a_plain_etag_that_differs_from_the_md5_needs_no_inspection() -> None:
    other = local_file("index.html", b"<h1>HOME</h1>")
    remote = {INDEX.path: listed(INDEX)}
    assert keys_to_inspect({other.path: other}, remote) == []
    assert plan_sync({other.path: other}, remote).uploads[0].reason == "changed"


def test_unknown_headers_or_multipart_etags_are_inspected_before_planning() -> None:
    multipart = local_file("big.bin", b"x" * 100)
    remote = {
        INDEX.path: listed(INDEX),
        multipart.path: listed(multipart, etag="0123456789abcdef0123456789abcdef-3"),
    }
    local = {INDEX.path: INDEX, multipart.path: multipart}
    assert keys_to_inspect(local, remote) == ["big.bin", "index.html"]
    uninspected = plan_sync(local, remote)
    assert {u.reason for u in uninspected.uploads} == {"unverified"}
    inspected = {key: synced(local[key]) for key in remote}
    inspected["big.bin"] = RemoteObject(
        "big.bin",
        multipart.size,
        "0123456789abcdef0123456789abcdef-3",
        multipart.sha256,
        "application/octet-stream",
        headers_for("big.bin").cache_control,
        headers_known=True,
    )
    assert plan_sync(local, inspected).unchanged == ("big.bin", "index.html")


def test_multipart_etags_never_decide_equality_the_sha256_does() -> None:
    file = local_file("big.bin", b"y" * 64)
    remote = synced(file)
    remote = RemoteObject(
        file.path, file.size, "ffffffffffffffffffffffffffffffff-9", file.sha256, remote.content_type, remote.cache_control, True
    )
    assert plan_sync({file.path: file}, {file.path: remote}).unchanged == (file.path,)


def test_same_bytes_with_other_headers_get_a_metadata_update() -> None:
    rules = (CacheRule("*.svg", "public, max-age=60"),)
    plan = plan_sync({LOGO.path: LOGO}, {LOGO.path: synced(LOGO)}, rules=rules)
    assert plan.uploads == ()
    assert [(m.key, m.headers.cache_control) for m in plan.metadata_updates] == [(LOGO.path, "public, max-age=60")]
    assert plan.changed_paths == ["/images/logo.svg"]


def test_a_content_type_rule_overrides_the_extension() -> None:
    page = local_file("about", b"<h1>about</h1>")
    rules = (CacheRule("about", NO_CACHE, content_type="text/html; charset=utf-8"),)
    plan = plan_sync({page.path: page}, {}, rules=rules)
    assert plan.uploads[0].headers.content_type == "text/html; charset=utf-8"


def test_objects_too_large_to_copy_are_reuploaded_for_new_headers() -> None:
    huge = LocalFile("video.mp4", COPY_LIMIT + 1, "a" * 64, "b" * 32)
    remote = synced(huge)
    rules = (CacheRule("*.mp4", "public, max-age=5"),)
    plan = plan_sync({huge.path: huge}, {huge.path: remote}, rules=rules)
    assert [u.key for u in plan.uploads] == ["video.mp4"] and plan.metadata_updates == ()


def recorded_state(found: RemoteObject) -> ObjectState:
    """The state a release recorded for an object as it is listed now."""
    content_type = found.content_type or headers_for(found.key, ()).content_type
    return ObjectState(found.sha256 or "0" * 64, found.size, found.etag, content_type, found.cache_control or NO_CACHE)


def published(
    remote: dict[str, RemoteObject], keys: Any = None, *, left_seq: int | None = None, left_time: str | None = None, latest_seq: int = 1
) -> Published:
    """Records saying the site published ``keys`` (default: every remote key), all out of the build since ``left_seq``
    (None: in the newest release's build), the newest release being ``latest_seq``."""
    chosen = remote if keys is None else keys
    return Published(
        {key: PublishedKey(recorded_state(remote[key]), left_seq, left_time) for key in chosen}, latest_seq=latest_seq, latest_objects={}
    )


NOW = 1_800_000_000.0
DAY = 86400.0


def days_ago(days: float) -> str:
    return datetime.fromtimestamp(NOW - days * DAY, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_extra_objects_are_kept_unless_delete_is_on() -> None:
    remote = {INDEX.path: synced(INDEX), "old.html": listed(local_file("old.html", b"old"))}
    kept = plan_sync({INDEX.path: INDEX}, remote, published=published(remote))
    assert kept.deletes == () and kept.extra_remote == ("old.html",)
    assert kept.retained is not None and list(kept.retained) == ["old.html"]  # still tracked: a later delete: true removes it
    removed = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=published(remote))
    assert removed.deletes == ("old.html",)
    assert removed.changed_paths == ["/old.html"]
    assert removed.delete_etags == {"old.html": remote["old.html"].etag}


def test_deletes_above_the_cap_are_refused_and_none_planned() -> None:
    remote = {f"old/{n}.html": listed(local_file(f"old/{n}.html", b"x")) for n in range(5)}
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, max_delete=4, published=published(remote))
    assert plan.deletes == ()
    assert plan.delete_refusal is not None and "5 objects" in plan.delete_refusal and "max_delete (4)" in plan.delete_refusal
    assert len(plan_sync({INDEX.path: INDEX}, remote, delete=True, max_delete=5, published=published(remote)).deletes) == 5


def test_the_fraction_guard_counts_only_what_would_be_deleted() -> None:
    remote = {f"p{n}.html": listed(local_file(f"p{n}.html", b"x")) for n in range(12)}
    local = {f"p{n}.html": local_file(f"p{n}.html", b"x") for n in range(5)}
    plan = plan_sync(local, remote, delete=True, max_delete_fraction=0.5, published=published(remote))
    assert plan.deletes == () and plan.delete_refusal is not None and "7 of the site's 12" in plan.delete_refusal
    some = plan_sync(local, remote, delete=True, max_delete_fraction=0.5, published=published(remote, ["p5.html", "p6.html"]))
    assert some.deletes == ("p5.html", "p6.html") and some.delete_refusal is None


def test_the_manifest_and_keys_outside_the_prefix_are_never_deleted() -> None:
    prefix = "site/"
    remote = {
        manifest_key(prefix): listed(local_file(manifest_key(prefix), b"{}")),
        "other/index.html": listed(INDEX, "other/index.html"),
        "site/gone.html": listed(local_file("site/gone.html", b"x")),
    }
    plan = plan_sync({INDEX.path: INDEX}, remote, prefix=prefix, delete=True, published=published(remote))
    assert plan.deletes == ("site/gone.html",)


# -- removal: what this site published only --------------------------------------------------------------
def test_pages_that_left_the_build_go_with_the_deploy_that_dropped_them() -> None:
    gone = [local_file(path, b"<p>old</p>") for path in ("legal/old-prices.html", "blog/draft.html", "blog/index.htm")]
    remote = {INDEX.path: synced(INDEX), **{file.path: synced(file) for file in gone}}
    window = SkewWindow(keep_releases=10, keep_days=7, now=NOW)
    before = plan_sync({INDEX.path: INDEX}, remote, delete=False, published=published(remote), window=window)
    assert before.deletes == ()  # delete off: every page stays
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=published(remote), window=window)
    assert plan.deletes == ("blog/draft.html", "blog/index.htm", "legal/old-prices.html")
    assert plan.changed_paths == ["/blog/draft.html", "/blog/index.htm", "/legal/old-prices.html"]
    assert plan.delete_etags == {file.path: file.md5 for file in gone}
    assert plan.retained == {}


def test_an_extensionless_object_recorded_as_html_is_a_page() -> None:
    about = local_file("about", b"<p>about</p>")
    found = RemoteObject("about", about.size, about.md5, about.sha256, "text/html; charset=utf-8", NO_CACHE, True)
    remote = {INDEX.path: synced(INDEX), "about": found}
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=published(remote), window=SkewWindow(10, 7, NOW))
    assert plan.deletes == ("about",)


def test_other_files_stay_until_out_of_the_build_more_than_keep_releases_releases_and_keep_days_days() -> None:
    chunk = local_file("assets/chunk-1.js", b"old chunk")
    remote = {INDEX.path: synced(INDEX), chunk.path: synced(chunk)}
    window = SkewWindow(keep_releases=2, keep_days=7, now=NOW)

    def plan(left_seq: int | None, days: float, latest_seq: int) -> Any:
        records = published(remote, [chunk.path], left_seq=left_seq, left_time=days_ago(days), latest_seq=latest_seq)
        return plan_sync({INDEX.path: INDEX}, remote, delete=True, published=records, window=window)

    leaving_now = plan(None, 0, latest_seq=5)
    assert leaving_now.deletes == () and leaving_now.retained is not None and list(leaving_now.retained) == [chunk.path]
    # Out since r4 (r4, r5 and the release this deploy records: 3 > 2), but only 6 days: kept.
    assert plan(4, 6, latest_seq=5).deletes == ()
    # 30 days, but out for r5 and this deploy's release only (2, not more than 2): kept.
    assert plan(5, 30, latest_seq=5).deletes == ()
    both = plan(4, 7.5, latest_seq=5)
    assert both.deletes == (chunk.path,) and both.retained == {}
    assert both.changed_paths == ["/" + chunk.path]
    # No window with keep_releases 0: the file goes with the deploy that dropped it.
    no_window = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=published(remote, [chunk.path]), window=SkewWindow(0, 7, NOW))
    assert no_window.deletes == (chunk.path,)


def test_a_deploy_that_records_no_release_does_not_count_one() -> None:
    """r4 and r5 are out of the build; a deploy whose build is r5's records nothing, so the count stays 2."""
    chunk = local_file("assets/chunk-1.js", b"old chunk")
    remote = {INDEX.path: synced(INDEX), chunk.path: synced(chunk)}
    r5 = {INDEX.path: recorded_state(remote[INDEX.path])}
    records = Published({chunk.path: PublishedKey(recorded_state(remote[chunk.path]), 4, days_ago(30))}, latest_seq=5, latest_objects=r5)
    window = SkewWindow(keep_releases=2, keep_days=7, now=NOW)
    assert plan_sync({INDEX.path: INDEX}, remote, delete=True, published=records, window=window).deletes == ()
    changed_home = local_file("index.html", b"<h1>home v2</h1>")
    assert plan_sync({INDEX.path: changed_home}, remote, delete=True, published=records, window=window).deletes == (chunk.path,)


def test_a_build_that_only_drops_a_file_writes_nothing_but_still_records_a_release() -> None:
    chunk = local_file("assets/chunk-1.js", b"old chunk")
    remote = {INDEX.path: synced(INDEX), chunk.path: synced(chunk)}
    newest = {key: recorded_state(found) for key, found in remote.items()}
    records = Published({key: PublishedKey(state) for key, state in newest.items()}, latest_seq=3, latest_objects=newest)
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=records, window=SkewWindow(10, 7, NOW))
    assert plan.is_noop and plan.dropped == (chunk.path,)
    assert plan.retained is not None and plan.retained[chunk.path].left_seq is None


def test_objects_no_release_recorded_are_foreign_and_never_deleted() -> None:
    old = local_file("old.html", b"old")
    upload = local_file("downloads/report.pdf", b"%PDF")
    remote = {
        INDEX.path: synced(INDEX),
        old.path: synced(old),
        upload.path: listed(upload),
        "handmade.html": listed(INDEX, "handmade.html"),
    }
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=published(remote, [INDEX.path, old.path]), window=SkewWindow(0))
    assert plan.deletes == (old.path,)
    assert plan.foreign == ("downloads/report.pdf", "handmade.html")
    assert plan.retained == {}
    assert plan_sync({INDEX.path: INDEX}, remote, delete=True).deletes == ()  # no records: nothing is the site's


def test_a_published_object_changed_behind_our_back_is_kept_and_reported() -> None:
    old = local_file("old.html", b"old")
    chunk = local_file("assets/chunk.js", b"chunk")
    remote = {INDEX.path: synced(INDEX), old.path: synced(old), chunk.path: synced(chunk)}
    records = published(remote)
    overwritten = local_file("old.html", b"someone else's")
    now_listed = {**remote, old.path: listed(overwritten), chunk.path: listed(chunk, etag="f" * 32)}
    plan = plan_sync({INDEX.path: INDEX}, now_listed, delete=True, published=records, window=SkewWindow(0))
    assert plan.deletes == ()
    assert plan.drifted == ("assets/chunk.js", "old.html")
    assert plan.retained == {}  # left to whoever changed them: the next record no longer claims them


def test_records_that_could_not_be_read_delete_nothing_and_track_nothing() -> None:
    remote = {INDEX.path: synced(INDEX), "old.html": listed(local_file("old.html", b"old"))}
    plan = plan_sync({INDEX.path: INDEX}, remote, delete=True, published=Published({}, tracked=False), window=SkewWindow(0))
    assert plan.deletes == () and plan.retained is None


def test_prefix_goes_on_keys_while_rules_see_the_site_path() -> None:
    plan = plan_sync({APP_JS.path: APP_JS}, {}, prefix="site/")
    assert plan.uploads[0].key == "site/" + APP_JS.path
    assert plan.uploads[0].headers.cache_control == IMMUTABLE
    assert plan.changed_paths == ["/site/" + APP_JS.path]


def test_changed_paths_are_keys_with_a_leading_slash_not_encoded() -> None:
    page = local_file("café/a b.html", b"x")
    assert plan_sync({page.path: page}, {}).changed_paths == ["/café/a b.html"]


# -- the order of the writes ---------------------------------------------------------------------
def kinds_and_keys(plan: Any) -> list[tuple[str, list[str]]]:
    return [(wave.kind, [t.key for t in wave.transfers] or list(wave.deletes)) for wave in plan.waves]


def test_the_writes_go_new_keys_then_overwritten_files_then_pages_then_deletes() -> None:
    rules = (CacheRule("*.svg", "public, max-age=60"), CacheRule("about.html", "public, max-age=5"))
    old_main, new_main = local_file("main.js", b"import './c1.js'"), local_file("main.js", b"import './c2.js'")
    old_index, new_index = local_file("index.html", b"<script src=/main.js>1"), local_file("index.html", b"<script src=/main.js>2")
    about = local_file("about.html", b"<h1>about</h1>")
    data = local_file("data.json", b"[1]")
    local = {f.path: f for f in (new_main, new_index, about, LOGO, data)}
    local.update({f.path: f for f in (local_file("c2.js", b"chunk 2"), local_file("blog/new.html", b"<h1>new</h1>"))})
    remote = {
        old_main.path: synced(old_main),
        old_index.path: synced(old_index),
        about.path: synced(about),  # same bytes, other headers: a metadata update of a page
        LOGO.path: synced(LOGO),  # same bytes, other headers: a metadata update of a file
        data.path: listed(data, etag="0" * 32 + "-2"),  # content unknown: uploaded again, an overwrite
    }
    plan = dataclasses.replace(plan_sync(local, remote, rules=rules), deletes=("c1.js",))  # which keys go is not the order's matter
    assert {u.key: u.reason for u in plan.uploads}["data.json"] == "unverified"
    assert [m.key for m in plan.metadata_updates] == ["about.html", LOGO.path]
    assert kinds_and_keys(plan) == [
        ("new keys", ["blog/new.html", "c2.js"]),
        ("overwritten files", ["data.json", LOGO.path, "main.js"]),
        ("overwritten pages", ["about.html", "index.html"]),
        ("deletes", ["c1.js"]),
    ]


def test_empty_waves_are_left_out() -> None:
    assert plan_sync({INDEX.path: INDEX}, {INDEX.path: synced(INDEX)}).waves == ()
    changed = local_file("index.html", b"<h1>HOME</h1>")
    assert kinds_and_keys(plan_sync({changed.path: changed}, {INDEX.path: synced(INDEX)})) == [("overwritten pages", ["index.html"])]
    assert kinds_and_keys(plan_sync({APP_JS.path: APP_JS}, {})) == [("new keys", [APP_JS.path])]
    only_deletes = dataclasses.replace(plan_sync({APP_JS.path: APP_JS}, {APP_JS.path: synced(APP_JS)}), deletes=("old.css",))
    assert kinds_and_keys(only_deletes) == [("deletes", ["old.css"])]


Refs = dict[str, tuple[str, ...]]
"""A build as the viewer model sees it: each key and the keys its file references."""


def missing_reference(live: Refs, entries: set[str]) -> str | None:
    """A reference that answers 404 for a viewer who opens any of ``entries`` and loads everything from there, recursively.

    ``live`` holds, per key in the bucket, what its current bytes reference.
    """
    seen, queue = set(entries), list(entries)
    while queue:
        for reference in live[queue.pop()]:
            if reference not in live:
                return reference
            if reference not in seen:
                seen.add(reference)
                queue.append(reference)
    return None


def local_build(build: Refs, label: str) -> dict[str, LocalFile]:
    """The files of ``build``: a file's bytes are its references, plus ``label`` when it changes in this build."""
    return {key: local_file(key, f"{refs} {label}".encode()) for key, refs in build.items()}


def test_the_viewer_model_catches_a_stable_name_written_before_its_new_chunk() -> None:
    old: Refs = {"index.html": ("main.js",), "main.js": ("c1.js",), "c1.js": ()}
    new: Refs = {"index.html": ("main.js",), "main.js": ("c2.js",), "c2.js": ()}
    # one unordered wave of files: main.js's new bytes live before c2.js exists
    live = {**old, "main.js": new["main.js"]}
    assert missing_reference(live, set(old)) == "c2.js"
    assert missing_reference({**live, "c2.js": ()}, set(old)) is None


KEYS = ["index.html", "a/index.html", "b.html", "main.js", "style.css", "c1.js", "c2.js", "img.svg", "sitemap.xml"]


@st.composite
def two_builds(draw: st.DrawFn) -> tuple[Refs, Refs, set[str]]:
    """An old and a new build: any keys (one page at least), each file referencing any keys of its own build."""

    def build() -> Refs:
        keys = draw(st.sets(st.sampled_from(KEYS), min_size=1).map(lambda chosen: sorted({"index.html", *chosen})))
        return {key: tuple(draw(st.sets(st.sampled_from(keys)).map(sorted))) for key in keys}

    old, new = build(), build()
    unchanged = {key for key in old.keys() & new.keys() if old[key] == new[key] and draw(st.booleans())}
    return old, new, unchanged


@settings(max_examples=400, deadline=None)
@given(builds=two_builds(), data=st.data())
def test_no_view_misses_a_file_at_any_point_of_a_sync_whatever_the_references(builds: tuple[Refs, Refs, set[str]], data: Any) -> None:
    old, new, unchanged = builds
    old_files = local_build(old, "old")
    new_files = {**local_build(new, "new"), **{key: old_files[key] for key in unchanged}}
    plan = plan_sync(new_files, {key: synced(file) for key, file in old_files.items()})
    plan = dataclasses.replace(plan, deletes=tuple(sorted(old.keys() - new.keys())))  # deleting all that left: the order's worst case
    live, waves = dict(old), plan.waves
    for number, wave in enumerate(waves, 1):
        if wave.kind == "deletes":
            assert number == len(waves)
            break
        # a wave's writes finish in any order: after each one, every view from any old URL is whole
        for transfer in data.draw(st.permutations(wave.transfers)):
            live[transfer.key] = new[transfer.key]
            assert missing_reference(live, set(old)) is None, (wave.kind, transfer.key, live)
    for key in plan.deletes:
        del live[key]
    assert live == new
    assert missing_reference(live, set(new)) is None
    written = [t.key for wave in waves for t in wave.transfers]
    assert sorted(written) == sorted([u.key for u in plan.uploads] + [m.key for m in plan.metadata_updates])
    order = ["new keys", "overwritten files", "overwritten pages", "deletes"]
    kinds = [wave.kind for wave in waves]
    assert kinds == sorted(kinds, key=order.index) and len(set(kinds)) == len(kinds)


@pytest.mark.parametrize("bad", ["../escape.html", "/abs.html", "a//b.html", "./x.html", MANIFEST_NAME])
def test_paths_that_are_no_clean_keys_are_refused(bad: str) -> None:
    with pytest.raises(SyncPlanError):
        plan_sync({bad: local_file(bad, b"x")}, {})


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", ""), ("/", ""), ("site", "site/"), ("/site/", "site/"), ("a/b", "a/b/")],
)
def test_normalize_prefix(given: str, expected: str) -> None:
    assert normalize_prefix(given) == expected


@pytest.mark.parametrize("bad", ["a//b", "../x", "a/./b"])
def test_normalize_prefix_refuses_odd_segments(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid prefix"):
        normalize_prefix(bad)


def test_strip_etag_removes_quotes() -> None:
    assert strip_etag('"abc-2"') == "abc-2"


def test_manifest_state_applies_only_while_the_etag_still_matches() -> None:
    headers = headers_for(INDEX.path)
    entry = ObjectState(INDEX.sha256, INDEX.size, "etag-1", headers.content_type, headers.cache_control)
    manifest = SiteManifest("src", "cfg", {INDEX.path: entry, LOGO.path: entry})
    merged = with_manifest_state([RemoteObject(INDEX.path, INDEX.size, "etag-1"), RemoteObject(LOGO.path, INDEX.size, "etag-2")], manifest)
    assert merged[INDEX.path].headers_known and merged[INDEX.path].sha256 == INDEX.sha256
    assert not merged[LOGO.path].headers_known and merged[LOGO.path].sha256 is None
    assert with_manifest_state([RemoteObject("x", 1, "e")], None)["x"].headers_known is False


def test_manifest_round_trip_and_garbage() -> None:
    entry = ObjectState("5" * 64, 3, "e" * 32, "text/html; charset=utf-8", NO_CACHE)
    manifest = SiteManifest("source", "settings", {"café/index.html": entry})
    data = render_manifest(manifest, written_by="test")
    assert parse_manifest(data) == manifest
    assert render_manifest(manifest, written_by="test") == data
    for garbage in (b"", b"not json", b"[]", b'{"format": 99}', b'{"format": 1}', b"\xff\xfe"):
        assert parse_manifest(garbage) is None


def test_manifest_after_sync_records_every_key_with_a_known_etag() -> None:
    local = {f.path: f for f in (INDEX, LOGO, APP_JS)}
    remote = {INDEX.path: synced(INDEX)}
    plan = plan_sync(local, remote)
    objects = manifest_after_sync(plan, local, remote, {LOGO.path: "new-etag"})
    assert set(objects) == {INDEX.path, LOGO.path}
    assert objects[LOGO.path].etag == "new-etag" and objects[LOGO.path].sha256 == LOGO.sha256
    assert objects[INDEX.path].etag == INDEX.md5
    assert objects[LOGO.path].cache_control == headers_for(LOGO.path).cache_control


def test_settings_hash_follows_every_setting() -> None:
    base: dict[str, Any] = {"prefix": "", "rules": (), "delete": False, "version": "1"}
    reference = settings_hash(**base)
    assert settings_hash(**base) == reference
    for change in ({"prefix": "x/"}, {"rules": (CacheRule("*", "x"),)}, {"delete": True}, {"version": "2"}):
        assert settings_hash(**{**base, **change}) != reference


# -- properties ----------------------------------------------------------------------------------
SEGMENTS = st.sampled_from(["a", "b", "index.html", "app.js", "x.css", "_next", "static", "img.png", "data.json"])
PATHS = st.lists(SEGMENTS, min_size=1, max_size=3).map("/".join)
CONTENTS = st.binary(max_size=6)


@st.composite
def sync_states(draw: st.DrawFn) -> tuple[dict[str, LocalFile], dict[str, RemoteObject], str]:
    prefix = draw(st.sampled_from(["", "site/"]))
    local = {path: local_file(path, content) for path, content in draw(st.dictionaries(PATHS, CONTENTS, max_size=12)).items()}
    remote: dict[str, RemoteObject] = {}
    for path, content in draw(st.dictionaries(PATHS, CONTENTS, max_size=12)).items():
        file = local_file(path, content)
        key = draw(st.sampled_from([prefix + path, "elsewhere/" + path]))
        kind = draw(st.sampled_from(["synced", "listed", "multipart"]))
        if kind == "synced":
            remote[key] = synced(file, key)
        elif kind == "listed":
            remote[key] = listed(file, key)
        else:
            remote[key] = listed(file, key, etag="0" * 32 + "-2")
    if draw(st.booleans()):
        remote[manifest_key(prefix)] = RemoteObject(manifest_key(prefix), 2, "1" * 32)
    return local, remote, prefix


@settings(max_examples=400, deadline=None)
@given(state=sync_states(), delete=st.booleans(), max_delete=st.integers(min_value=0, max_value=6))
def test_plan_never_deletes_a_built_key_nor_more_than_max_delete(
    state: tuple[dict[str, LocalFile], dict[str, RemoteObject], str], delete: bool, max_delete: int
) -> None:
    local, remote, prefix = state
    records = published(remote, [key for index, key in enumerate(sorted(remote)) if index % 2 == 0])
    plan = plan_sync(local, remote, prefix=prefix, delete=delete, max_delete=max_delete, published=records, window=SkewWindow(0))
    built = {prefix + path for path in local}
    assert not set(plan.deletes) & built
    assert set(plan.deletes) <= set(records.keys)
    assert not set(plan.deletes) & set(plan.foreign)
    assert len(plan.deletes) <= max_delete
    assert set(plan.deletes) <= set(remote)
    assert manifest_key(prefix) not in plan.deletes
    assert all(key.startswith(prefix) for key in plan.deletes)
    if not delete or plan.delete_refusal:
        assert plan.deletes == ()
    decided = [u.key for u in plan.uploads] + [m.key for m in plan.metadata_updates] + list(plan.unchanged)
    assert sorted(decided) == sorted(built)


@settings(max_examples=300, deadline=None)
@given(state=sync_states(), delete=st.booleans())
def test_carrying_out_a_plan_leaves_nothing_to_do(state: tuple[dict[str, LocalFile], dict[str, RemoteObject], str], delete: bool) -> None:
    local, remote, prefix = state
    remote = {**remote, **{key: _inspect(local, remote, key, prefix) for key in keys_to_inspect(local, remote, prefix=prefix)}}
    records = published(remote)
    plan = plan_sync(local, remote, prefix=prefix, delete=delete, max_delete=100, published=records, window=SkewWindow(0))
    after = dict(remote)
    written: list[Upload | MetadataUpdate] = [*plan.uploads, *plan.metadata_updates]
    for item in written:
        file = local[item.path]
        after[item.key] = RemoteObject(
            item.key, file.size, file.md5, file.sha256, item.headers.content_type, item.headers.cache_control, True
        )
    for key in plan.deletes:
        del after[key]
    again = plan_sync(local, after, prefix=prefix, delete=delete, max_delete=100, published=records, window=SkewWindow(0))
    assert again.is_noop
    assert len(again.unchanged) == len(local)


def _inspect(local: dict[str, LocalFile], remote: dict[str, RemoteObject], key: str, prefix: str) -> RemoteObject:
    """What a HEAD returns for an object never written by this tool: headers, but no sha256 metadata."""
    found = remote[key]
    return RemoteObject(found.key, found.size, found.etag, None, "application/octet-stream", "max-age=1", True)


@given(st.lists(st.sampled_from(["a", ".", "..", "...", "b.", ".c", "/", "\x00", "\x1f", "\x7f", "\x80", "é"]), max_size=6))
def test_key_problem_refuses_exactly_unclean_segments_and_control_characters(parts: list[str]) -> None:
    """The fast checks (regular expressions) agree with the rules they stand for."""
    path = "".join(parts)
    unclean = not path or path.startswith("/") or any(segment in ("", ".", "..") for segment in path.split("/"))
    control = any(ord(char) < 0x20 or ord(char) == 0x7F for char in path)
    problem = key_problem(path)
    if control:
        assert problem is not None and "control character" in problem
    elif unclean:
        assert problem is not None and "not a clean relative path" in problem
    else:
        assert problem is None
