"""Record a release: the call a sync makes, under its lock, once every object is written (and before it unlocks).

:func:`record_release` is what a deploy calls; :func:`new_release` builds the
record (also for a rollback). A release that leaves the site as the newest release already left it is not
recorded again (a repair of a drifted bucket is no new release).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from runway_ext.static_site.manifest import SiteManifest
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.published import PublishedKey
from runway_ext.static_site.records import (
    Kind,
    Release,
    ReleaseIndex,
    ReleaseSummary,
    Retired,
    deployed_by,
    diff_objects,
    objects_digest,
    release_id,
    with_known_versions,
)
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore


def new_release(
    store: ReleaseStore,
    index: ReleaseIndex,
    objects: Mapping[str, ObjectState],
    *,
    source_hash: str,
    settings_hash: str,
    delete: bool,
    kind: Kind,
    restored_from: str | None = None,
    previous: Release | None = None,
    retired: Mapping[str, PublishedKey] | None = None,
) -> Release:
    """The next release of ``index`` for ``objects`` (``previous``: the newest release, to count the changed keys).

    In a versioned bucket each key gets a version id holding its bytes: for a deploy, the one ``previous`` recorded
    for the same key and ETag, else the current one (a HEAD), so a rollback to it needs no version listing. A
    rollback passes the ids it knows itself (keys it wrote have none: they get the current one).

    ``retired``: the published keys the deploy kept out of its build (:mod:`.published`); a key that left the
    build with this release is recorded as leaving at it. None: the release does not track them.
    """
    retention = store.retention()
    if retention == "versions":
        objects = store.fill_versions(objects if kind == "rollback" else with_known_versions(objects, previous))
    seq = index.next_seq
    summary = ReleaseSummary(
        id=release_id(seq),
        seq=seq,
        time=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source_hash=source_hash,
        settings_hash=settings_hash,
        deployed_by=deployed_by(),
        kind=kind,
        retention=retention,
        files=len(objects),
        changed=None if previous is None else len(diff_objects(previous.objects, objects)),
        delete=delete,
        restored_from=restored_from,
    )
    kept = None
    if retired is not None:
        kept = {
            key: Retired(item.state, item.left_seq or summary.seq, item.left_time or summary.time)
            for key, item in retired.items()
            if key not in objects
        }
    return Release(summary, dict(objects), retired=kept)


def save_release(
    store: ReleaseStore, release: Release, *, keep: int, guard: Callable[[], None], kept: Sequence[Release | None] = ()
) -> list[str]:
    """Keep copies when the bucket is unversioned, then append the release; returns the releases dropped.

    ``kept``: releases still in the index (their copies are known to be kept).
    """
    if release.summary.retention == "copies":
        retained = {s.sha256 for r in kept if r is not None and r.summary.retention == "copies" for s in r.objects.values()}
        store.keep_copies(release.objects, guard, retained=retained)
    dropped = store.append(release, keep=keep, guard=guard)
    store.log.info(
        "recorded release %s of %s (%d files, %s)",
        release.id,
        store.where,
        release.summary.files,
        "restorable from object versions" if release.summary.retention == "versions" else "restorable from retained copies",
    )
    return dropped


def record_release(
    site: S3Site,
    deployed: SiteManifest,
    entries: Mapping[str, ObjectState],
    *,
    expected: Sequence[str],
    delete: bool,
    keep: int,
    guard: Callable[[], None],
    retired: Mapping[str, PublishedKey] | None = None,
) -> str | None:
    """Record what a sync left at ``site``: its manifest entries for the ``expected`` keys (and the ``retired`` ones, see :func:`new_release`).

    ``deployed`` carries the build's ``source_hash`` and ``settings_hash``. Keys the entries lack (an ETag
    not read back) get a HEAD. Returns the new release id, or None when ``keep`` is 0 or nothing changed
    since the newest release.
    """
    if keep <= 0:
        return None
    store = ReleaseStore(site)
    objects = {key: entries[key] for key in expected if key in entries}
    missing = [key for key in expected if key not in entries]
    for key, state in site.run_parallel(missing, lambda key: (key, site.head_state(key)), what="inspect", describe=str):
        objects[key] = state
    index = store.read_index()
    previous = store.read_release_or_none(index.latest.id) if index.latest is not None else None
    if previous is not None and objects_digest(previous.objects) == objects_digest(objects):
        site.log.info("the site is as release %s left it: no new release", previous.id)
        return None
    release = new_release(
        store,
        index,
        objects,
        source_hash=deployed.source_hash,
        settings_hash=deployed.settings_hash,
        delete=delete,
        kind="deploy",
        previous=previous,
        retired=retired,
    )
    save_release(store, release, keep=keep, guard=guard, kept=[previous])
    return release.id
