"""Deploy, switch and prune an atomic site: the I/O that carries out :mod:`.atomic`'s decisions.

A deploy, in this order (nothing a viewer can reach changes before step 5):

1. read the site manifest (lock check), the release index and the switch journal; read the pointer and refuse one
   this tool did not write (unless ``take_over``) or one naming a release without a record;
2. the build equals the newest atomic release: nothing to write (switch to it if it is not live: the rerun of a
   run killed before its switch); else plan release ``r<next>``;
3. under the site lock: upload the new bytes (CRC64NVME checked and stored by S3), copy the unchanged per-release
   objects from an earlier release's folder (conditional on the recorded ETag, checked by S3's checksum);
4. record the release; add the pointer value about to be written to the journal;
5. ONE compare-and-swap of the pointer (fails in one line if anyone changed it since step 1), read back, timed;
6. copy the live release's error pages to the plain keys CloudFront fetches them from; journal the switch;
7. prune (:func:`.atomic.plan_retention`): conditional deletes, drift reported, never deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runway_ext.core.errors import HookError
from runway_ext.static_site.atomic import (
    AtomicCopy,
    AtomicUpload,
    ReleasePlan,
    RetentionPlan,
    plan_release,
    plan_retention,
    pointer_for,
    render_pointer,
    unreferenced_shared,
)
from runway_ext.static_site.headers import CacheRule
from runway_ext.static_site.inplace import LocalFile
from runway_ext.static_site.layout import SHARED_FOLDER, atomic_key, release_folder
from runway_ext.static_site.lock import check_lock, holding, new_lock, run_waiting_for_others
from runway_ext.static_site.manifest import SiteManifest
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.pointer import PointerStore, PointerValue, describe, timed_swap
from runway_ext.static_site.records import Release, ReleaseIndex, ReleaseSummary, deployed_by, diff_objects, objects_digest, release_id
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore
from runway_ext.static_site.switches import JournalFile, Switch, last_live_times
from runway_ext.static_site.window import record_time

KEEP_ALL = 1_000_000
"""The index keeps every atomic release; the prune rule, not a count, drops them."""


@dataclass
class AtomicOutcome:
    """What an atomic deploy did."""

    release: str
    uploaded: int = 0
    copied: int = 0
    unchanged: int = 0
    bytes_uploaded: int = 0
    changed_paths: list[str] = field(default_factory=list)
    switched: bool = False
    switch_seconds: float = 0.0
    nothing_to_do: bool = False
    pruned: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AtomicSettings:
    """The deploy's settings that shape the atomic release."""

    shared: tuple[str, ...]
    rules: Sequence[CacheRule]
    keep_releases: int
    keep_days: float
    lock_timeout: float
    take_over: bool = False
    force: bool = False
    error_pages: tuple[str, ...] = ("404.html",)
    workers: int = 16
    pinned: Callable[[], Sequence[str]] | None = None
    """Releases other pointers name (the previews'), read when pruning: never pruned."""
    lock_wait: float = 0.0
    """Seconds a deploy waits for a run of another kind holding the site (a preview's, for a live deploy; see
    :func:`~.lock.waits_for`) before refusing."""


@dataclass
class SiteState:
    """An atomic site as read before a deploy or rollback."""

    index: ReleaseIndex
    journal: JournalFile
    raw: str | None
    pointer: PointerValue | None
    records: dict[str, Release]
    """The atomic releases' records by id."""
    manifest: SiteManifest | None

    @property
    def newest(self) -> Release | None:
        """The newest atomic release recorded."""
        atomic = [summary for summary in self.index.releases if summary.layout == "atomic"]
        return self.records.get(atomic[-1].id) if atomic else None

    @property
    def live(self) -> Release | None:
        """The release the pointer names (None: no pointer)."""
        return self.records.get(self.pointer.release) if self.pointer is not None else None


def read_site(site: S3Site, pointer: PointerStore, *, take_over: bool, log: logging.Logger, dry_run: bool = False) -> SiteState:
    """Step 1: the manifest (lock checked), index, journal, pointer and the atomic releases' records; refusals in one line."""
    manifest = site.read_manifest()
    check_lock(site, manifest, dry_run=dry_run, log=log)
    store = ReleaseStore(site)
    index = store.read_index()
    journal = JournalFile(site)
    raw, value = pointer.read()
    ids = [summary.id for summary in index.releases if summary.layout == "atomic"]
    records = dict(zip(ids, site.run_parallel(ids, store.read_release, what="read release", describe=str), strict=True))
    state = SiteState(index, journal, raw, value, records, manifest)
    if raw is not None and raw not in journal.journal.written and not take_over:
        raise HookError(
            f"key_value_store_arn: the pointer {pointer.key!r} holds {describe(raw)}, which this site's deploys never wrote "
            "(it was changed behind their back); nothing was changed (take_over: true / --take-over replaces it)"
        )
    if value is not None and value.release not in records:
        raise HookError(
            f"key_value_store_arn: the pointer {pointer.key!r} names release {value.release}, which has no record in {site.where}; "
            "nothing was changed"
        )
    return state


def deploy_release(
    site: S3Site,
    pointer: PointerStore,
    local: Mapping[str, LocalFile],
    output_dir: Path,
    *,
    source_hash: str,
    settings_hash: str,
    settings: AtomicSettings,
    written_by: str,
    log: logging.Logger,
    state: SiteState | None = None,
) -> AtomicOutcome:
    """Steps 1 to 7 of the module docstring; returns what was done.

    A preview's run holding the site is waited for (``settings.lock_wait``), then the site is read again.
    """
    return run_waiting_for_others(
        site,
        purpose="deploy",
        timeout=settings.lock_wait,
        log=log,
        read=lambda: read_site(site, pointer, take_over=settings.take_over, log=log),
        attempt=lambda read: _deploy_release_once(
            site,
            pointer,
            local,
            output_dir,
            read,
            source_hash=source_hash,
            settings_hash=settings_hash,
            settings=settings,
            written_by=written_by,
            log=log,
        ),
        state=state,
    )


def _deploy_release_once(
    site: S3Site,
    pointer: PointerStore,
    local: Mapping[str, LocalFile],
    output_dir: Path,
    state: SiteState,
    *,
    source_hash: str,
    settings_hash: str,
    settings: AtomicSettings,
    written_by: str,
    log: logging.Logger,
) -> AtomicOutcome:
    store = ReleaseStore(site)
    newest = state.newest
    plan = plan_next(state, local, prefix=site.prefix, settings=settings)
    rid = plan.rid
    reuse = newest if newest is not None and not settings.force and _same_build(plan, newest, local, site.prefix, settings.shared) else None
    if reuse is not None and (state.pointer is None or state.pointer.release != reuse.id):
        problems = release_problems(site, reuse)
        if problems:
            log.warning("release %s holds this build but is no longer intact (%s): writing a new release", reuse.id, problems[0])
            reuse = None
    if reuse is not None and state.pointer is not None and state.pointer.release == reuse.id:
        finish_switch(site, state, reuse, settings=settings, written_by=written_by, log=log)
        log.info("%s already serves release %s, the build of these sources: nothing to do", site.where, reuse.id)
        return AtomicOutcome(reuse.id, unchanged=len(reuse.objects), nothing_to_do=True)

    marker = SiteManifest(
        source_hash, settings_hash, {}, state="syncing", lock=new_lock(ttl=settings.lock_timeout, purpose="deploy"), vouched_at=None
    )
    with holding(site, marker, written_by=written_by, ttl=settings.lock_timeout) as lease:
        if reuse is not None:
            log.info(
                "%s: release %s holds this build but is not live (a run stopped before its switch): switching to it", site.where, reuse.id
            )
            release = reuse
            outcome = AtomicOutcome(reuse.id, unchanged=len(reuse.objects))
        else:
            objects = _write(site, plan, local, output_dir, lease.check, workers=settings.workers, log=log)
            previous = state.live or newest
            summary = ReleaseSummary(
                id=rid,
                seq=state.index.next_seq,
                time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                source_hash=source_hash,
                settings_hash=settings_hash,
                deployed_by=deployed_by(),
                kind="deploy",
                retention="atomic",
                files=len(objects),
                changed=None if previous is None else len(diff_objects(previous.objects, objects)),
                delete=True,
                layout="atomic",
                shared=settings.shared,
            )
            release = Release(summary, objects)
            store.append(release, keep=KEEP_ALL, guard=lease.check)
            state.records[rid] = release
            state.index = ReleaseIndex((*state.index.releases, summary), summary.seq + 1)
            changed = diff_objects(previous.objects if previous is not None else {}, objects)
            outcome = AtomicOutcome(
                rid,
                uploaded=len(plan.uploads),
                copied=len(plan.copies),
                unchanged=len(plan.unchanged),
                bytes_uploaded=plan.bytes_to_upload,
                changed_paths=sorted("/" + entry.key for entry in changed),
            )
            log.info(
                "recorded release %s of %s: uploaded %d, copied %d, unchanged %d",
                rid,
                site.where,
                outcome.uploaded,
                outcome.copied,
                outcome.unchanged,
            )
        switch_to(site, pointer, state, release, kind="deploy", settings=settings, guard=lease.check, log=log, outcome=outcome)
        outcome.pruned, outcome.drift = prune(site, state, settings=settings, guard=lease.check, log=log)
        lease.finish(SiteManifest(release.summary.source_hash, release.summary.settings_hash, {}))
    return outcome


def plan_next(state: SiteState, local: Mapping[str, LocalFile], *, prefix: str, settings: AtomicSettings) -> ReleasePlan:
    """The plan of the next release (copy sources: the live release first, then the newest, then older ones)."""
    candidates = [state.live, state.newest, *reversed(list(state.records.values()))]
    earlier = list({release.id: release for release in candidates if release is not None}.values())
    rid = release_id(state.index.next_seq)
    return plan_release(local, prefix=prefix, rid=rid, shared=settings.shared, rules=settings.rules, earlier=earlier)


def _same_build(plan: ReleasePlan, newest: Release, local: Mapping[str, LocalFile], prefix: str, shared: Sequence[str]) -> bool:
    """Whether release ``newest`` holds exactly this build (same paths, bytes and headers, same shared prefixes)."""
    if tuple(newest.summary.shared) != tuple(shared) or set(newest.objects) != {prefix + path for path in local}:
        return False
    if plan.uploads:
        return False
    return objects_digest({key: state for key, state in plan.known.items()}) == objects_digest(dict(newest.objects))


def _write(
    site: S3Site,
    plan: ReleasePlan,
    local: Mapping[str, LocalFile],
    output_dir: Path,
    guard: Callable[[], None],
    *,
    workers: int,
    log: logging.Logger,
) -> dict[str, ObjectState]:
    """Upload and copy as planned (nothing live changes); returns every site key's recorded state."""
    objects: dict[str, ObjectState] = {site.prefix + path: plan.known[site.prefix + path] for path in plan.unchanged}

    def upload(item: AtomicUpload) -> tuple[str, ObjectState]:
        guard()
        file = local[item.path]
        wanted = ObjectState(file.sha256, file.size, "", item.headers.content_type, item.headers.cache_control)
        return site.prefix + item.path, site.put_release_object(item.key, output_dir / item.path, wanted, if_absent=item.shared)

    def copy(item: AtomicCopy) -> tuple[str, ObjectState]:
        guard()
        return site.prefix + item.path, site.copy_release_object(item.source_key, item.key, item.source)

    log.info(
        "release %s: uploading %d objects (%d bytes), copying %d, %d shared unchanged",
        plan.rid,
        len(plan.uploads),
        plan.bytes_to_upload,
        len(plan.copies),
        len(plan.unchanged),
    )
    objects.update(site.run_parallel(plan.uploads, upload, what="upload", describe=lambda item: item.key))
    objects.update(site.run_parallel(plan.copies, copy, what="copy", describe=lambda item: item.key))
    return objects


def switch_to(
    site: S3Site,
    pointer: PointerStore,
    state: SiteState,
    release: Release,
    *,
    kind: str,
    settings: AtomicSettings,
    guard: Callable[[], None],
    log: logging.Logger,
    outcome: AtomicOutcome,
) -> None:
    """Journal the value, swap the pointer (timed, read back), copy the error pages, journal the switch."""
    retention = _retention(state, live=release.id, settings=settings)
    # a pinned request maps paths with the live release's shared prefixes: only releases with the same ones are reachable
    reachable = [rid for rid in retention.retained if rid in state.records and state.records[rid].summary.shared == release.summary.shared]
    value = pointer_for(release.id, release.summary.shared, reachable)
    raw = render_pointer(value)
    guard()
    state.journal.save(state.journal.journal.intending(raw))
    guard()
    timing = timed_swap(pointer, value, state.raw)
    if timing.read_back is None or timing.read_back.release != release.id:
        raise HookError(
            f"key_value_store_arn: the pointer {pointer.key!r} was written but reads back as {timing.read_back}; check the store"
        )
    state.raw, state.pointer = raw, value
    outcome.switched, outcome.switch_seconds = True, round(timing.seconds, 3)
    log.info("switched %s to %s in %.2f s", site.where, release.id, timing.seconds)
    copy_error_pages(site, release, settings.error_pages, log=log)
    who = deployed_by()
    state.journal.save(state.journal.journal.switched(Switch(release=release.id, at=time.time(), by=who[:200], kind=kind)))  # type: ignore[arg-type]


def stale_error_pages(site: S3Site, release: Release, pages: Sequence[str]) -> list[str]:
    """The error pages of ``release`` whose plain key does not hold its bytes (by S3's checksum)."""
    wanted = [page for page in pages if site.prefix + page in release.objects]
    found = site.run_parallel(wanted, lambda page: (page, site.checksum_of(site.prefix + page)), what="inspect", describe=str)
    return [page for page, checksum in found if checksum != release.objects[site.prefix + page].checksum]


def copy_error_pages(site: S3Site, release: Release, pages: Sequence[str], *, log: logging.Logger) -> None:
    """Copy the live release's error/fallback pages to the plain keys CloudFront fetches them from (no function runs there)."""
    for page in pages:
        state = release.objects.get(site.prefix + page)
        if state is None:
            continue
        source = atomic_key(site.prefix, release.id, page, release.summary.shared)
        site.copy_release_object(source, site.prefix + page, state, headers=True)
        log.info("copied %s of %s to %s%s", page, release.id, site.prefix, page)


def finish_switch(
    site: S3Site, state: SiteState, release: Release, *, settings: AtomicSettings, written_by: str, log: logging.Logger
) -> None:
    """After a run stopped between its pointer write and the end of its switch: error pages and journal brought up to date."""
    stale = stale_error_pages(site, release, settings.error_pages)
    history = state.journal.journal.history
    if not stale and history and history[-1].release == release.id:
        return
    marker = SiteManifest(
        release.summary.source_hash, release.summary.settings_hash, {}, state="syncing", lock=new_lock(ttl=settings.lock_timeout)
    )
    with holding(site, marker, written_by=written_by, ttl=settings.lock_timeout) as lease:
        log.info("%s: finishing the switch to %s (a run stopped right after its pointer write)", site.where, release.id)
        copy_error_pages(site, release, stale, log=log)
        if not history or history[-1].release != release.id:
            state.journal.save(
                state.journal.journal.switched(Switch(release=release.id, at=time.time(), by=deployed_by()[:200], kind="deploy"))
            )
        lease.finish(SiteManifest(release.summary.source_hash, release.summary.settings_hash, {}))


def _retention(state: SiteState, *, live: str, settings: AtomicSettings, pinned: Sequence[str] = ()) -> RetentionPlan:
    records = {rid: record_time(release.summary.time) for rid, release in state.records.items()}
    now = time.time()
    return plan_retention(
        state.index.releases,
        live=live,
        pinned=pinned,
        last_live=last_live_times(state.journal.journal, records, now),
        now=now,
        keep_releases=settings.keep_releases,
        keep_days=settings.keep_days,
    )


def prune(
    site: S3Site, state: SiteState, *, settings: AtomicSettings, guard: Callable[[], None], log: logging.Logger
) -> tuple[list[str], list[str]]:
    """Drop the releases the rule lets go: their own objects and the shared ones no retained release uses, each
    deleted only while it has the recorded ETag (else reported as drift and kept); then their records."""
    if state.pointer is None:
        return [], []
    pinned = settings.pinned() if settings.pinned is not None else ()
    retention = _retention(state, live=state.pointer.release, settings=settings, pinned=pinned)
    pruned = [state.records[rid] for rid in retention.pruned if rid in state.records]
    if not pruned:
        return [], []
    retained = [state.records[rid] for rid in retention.retained if rid in state.records]
    deletions: list[tuple[str, ObjectState]] = []
    for release in pruned:
        for key, object_state in release.objects.items():
            path = key[len(site.prefix) :]
            target = atomic_key(site.prefix, release.id, path, release.summary.shared)
            if target.startswith(release_folder(site.prefix, release.id)):
                deletions.append((target, object_state))
    for key, object_state in unreferenced_shared(pruned, retained, prefix=site.prefix).items():
        deletions.append((f"{site.prefix}{SHARED_FOLDER}{key[len(site.prefix) :]}", object_state))

    def delete(item: tuple[str, ObjectState]) -> tuple[str, bool]:
        guard()
        return item[0], site.delete_if(item[0], item[1].etag)

    results = site.run_parallel(deletions, delete, what="delete", describe=lambda item: item[0])
    drift = sorted(key for key, deleted in results if not deleted)
    for key in drift:
        log.warning("%s changed since its release was recorded: kept (drift), not deleted", key)
    store = ReleaseStore(site)
    store.forget_releases([release.id for release in pruned], guard=guard)
    log.info(
        "pruned release(s) %s of %s (%d objects deleted, %d kept as drift)",
        ", ".join(r.id for r in pruned),
        site.where,
        len(results) - len(drift),
        len(drift),
    )
    return [release.id for release in pruned], drift


def release_problems(site: S3Site, release: Release) -> list[str]:
    """Why the bucket does not hold release ``release``'s objects as recorded (empty: it does), by listing its folder
    and the shared folder once (ETag and size against the record)."""
    listed: dict[str, tuple[str, int]] = {}
    for folder in (release_folder(site.prefix, release.id), site.prefix + SHARED_FOLDER):
        for key, etag, size in site.list_folder(folder):
            listed[key] = (etag, size)
    problems: list[str] = []
    for key, state in sorted(release.objects.items()):
        where = atomic_key(site.prefix, release.id, key[len(site.prefix) :], release.summary.shared)
        found = listed.get(where)
        if found is None:
            problems.append(f"{where}: missing")
        elif found != (state.etag, state.size):
            problems.append(f"{where}: changed since release {release.id} was recorded")
    return problems
