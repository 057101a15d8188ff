"""Carry out a rollback: observe the site, choose and check the target, restore it under the site lock, record, invalidate.

In this order, so that nothing is written unless all of it can be:

1. read the site manifest and check the lock (a live deploy or rollback: refuse); list the prefix once;
   HEAD the target's keys the manifest does not vouch for;
2. read the release index, choose the target, read it and the newest release; plan (:func:`.plan.plan_rollback`);
3. find where every restored key's bytes come from (an object version, or a retained copy): one missing
   refuses the whole rollback in one line, before any write;
4. take the site lock (the sync's :class:`SiteLease`, same manifest protocol), copy in the waves of an in-place
   write (keys that are gone, then overwritten files, then overwritten pages: :func:`~runway_ext.static_site.inplace.in_waves`),
   then delete, then record the rollback as a release and write the ``complete`` manifest of the target's build;
5. invalidate exactly the paths that differ (the CloudFront invalidation hook's planner and API calls).

A rollback killed half-way leaves the lock; the next run finds it stale, compares again and ends exact.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from runway_ext import __version__
from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext
from runway_ext.hooks.site.args import RollbackArgs, RollbackResult
from runway_ext.hooks.site.plan import RollbackPlan, choose_target, plan_rollback
from runway_ext.static_site.atomic import DEFAULT_KEEP_DAYS
from runway_ext.static_site.atomic_deploy import AtomicOutcome, AtomicSettings, finish_switch, read_site, switch_to
from runway_ext.static_site.containment import ContainmentError, check_record_keys, neighbours
from runway_ext.static_site.inplace import in_waves
from runway_ext.static_site.layout import atomic_key, site_keys
from runway_ext.static_site.lock import check_lock, holding, new_lock
from runway_ext.static_site.manifest import SiteManifest, with_manifest_state
from runway_ext.static_site.objects import ObjectState, RemoteObject
from runway_ext.static_site.pointer import KvsPointerStore, PointerStore
from runway_ext.static_site.proof import prove_sources
from runway_ext.static_site.record import new_release, save_release
from runway_ext.static_site.records import (
    Release,
    ReleaseError,
    ReleaseIndex,
    changed_paths,
    diff_objects,
    objects_digest,
    with_known_versions,
)
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore

WRITTEN_BY = f"runway_ext {__version__} site rollback"


def observe(
    site: S3Site, ctx: HookContext, *, dry_run: bool, break_lock: str | None = None
) -> tuple[SiteManifest | None, list[RemoteObject]]:
    """The site manifest (lock checked) and the listing of the prefix."""
    manifest = site.read_manifest()
    check_lock(site, manifest, dry_run=dry_run, log=ctx.log, break_lock=break_lock)
    return manifest, site.list_objects()


def current_state(
    site: S3Site, manifest: SiteManifest | None, listing: list[RemoteObject], target: Release
) -> tuple[dict[str, ObjectState | None], dict[str, RemoteObject]]:
    """The site's keys (state folder left out) with their known state, and the remote objects by key."""
    remote = with_manifest_state(listing, manifest, site.manifest_time)
    keys = site_keys(remote, site.prefix)
    unknown = [key for key in keys if key in target.objects and not remote[key].headers_known]
    remote.update(site.inspect(unknown))
    state: dict[str, ObjectState | None] = {}
    for key in keys:
        item = remote[key]
        known = item.headers_known and item.sha256 and item.content_type is not None and item.cache_control is not None
        state[key] = ObjectState(str(item.sha256), item.size, item.etag, str(item.content_type), str(item.cache_control)) if known else None
    return state, remote


def rollback(args: RollbackArgs, ctx: HookContext) -> RollbackResult:
    """Restore the site to a release (see the module docstring)."""
    started = time.monotonic()
    region = ctx.region(args.region)
    site = S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=region)
    store = ReleaseStore(site)
    if args.key_value_store_arn is not None or any(summary.layout == "atomic" for summary in store.read_index().releases):
        return rollback_atomic(args, ctx, site, region, started)
    return rollback_in_place(args, ctx, site, region, started)


def rollback_in_place(args: RollbackArgs, ctx: HookContext, site: S3Site, region: str, started: float) -> RollbackResult:
    """The in-place rollback (module docstring)."""
    store = ReleaseStore(site)
    manifest, listing = observe(site, ctx, dry_run=args.dry_run, break_lock=args.break_lock)
    index = store.read_index()
    try:
        chosen = choose_target(index, to=args.to, steps=args.steps)
    except ReleaseError as error:
        raise HookError(f"{'to' if args.to else 'steps'}: {error}" if not str(error).startswith("steps:") else str(error)) from None
    target = store.read_release(chosen.id)
    latest = index.latest
    live = store.read_release_or_none(latest.id) if latest is not None else None
    _refuse_neighbours(ctx, site, listing, target)
    current, remote = current_state(site, manifest, listing, target)
    plan = plan_rollback(target, current, live=live)
    left_out = forgotten_paths(ctx, site, target)
    _log_plan(ctx, store, target, live, plan)
    try:
        sources = store.sources(plan.restores, target)
        proven = prove_sources(site, sources, target)
    except ReleaseError as error:
        raise HookError(f"{'to' if args.to else 'steps'}: {error}") from None

    differing = _differing(plan, live, target)
    result = RollbackResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        region=region,
        target=target.id,
        previous=latest.id if latest else None,
        dry_run=args.dry_run,
        restored=len(plan.restores),
        headers_fixed=len(plan.reheaders),
        deleted=len(plan.deletes),
        unchanged=len(plan.unchanged),
        changed_paths=changed_paths(plan.changed_keys),
        left_out=left_out,
    )
    if args.dry_run:
        result.invalidation_paths = _invalidation_paths(args, ctx, differing)
        ctx.log.info("dry run: nothing was written to %s", store.where)
    elif plan.is_noop and live is not None and objects_digest(live.objects) == objects_digest(target.objects):
        ctx.log.info("%s already holds release %s (as %s): nothing to do", store.where, target.id, live.id)
    else:
        result.release = _restore(args, site, store, index, target, live, plan, sources, proven, current, remote, manifest)
        if args.distribution_id and differing:
            result.invalidation_id, result.invalidation_paths = _invalidate(args, ctx, differing)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def rollback_atomic(args: RollbackArgs, ctx: HookContext, site: S3Site, region: str, started: float) -> RollbackResult:
    """An atomic site: verify the target's objects (S3's checksums, parallel HEADs), then ONE pointer write.

    No object is copied and nothing needs invalidating (each release has its own cache keys). A target recorded
    before the site became atomic is restored the in-place way, then the pointer is removed (the edge serves the
    root again), and the result says so.
    """
    if args.key_value_store_arn is None:
        raise HookError(f"key_value_store_arn: {site.where} is deployed as atomic releases; give the key value store its pointer is in")
    if args.distribution_id is not None:
        require_router_reads(ctx.client("cloudfront"), args.distribution_id, args.key_value_store_arn)
    pointer = KvsPointerStore(ctx.session(region), args.key_value_store_arn, args.prefix)
    state = read_site(site, pointer, take_over=args.take_over, log=ctx.log, dry_run=args.dry_run)
    live = state.pointer.release if state.pointer is not None else None
    try:
        chosen = choose_target(state.index, to=args.to, steps=args.steps, current=live)
    except ReleaseError as error:
        raise HookError(f"{'to' if args.to else 'steps'}: {error}" if not str(error).startswith("steps:") else str(error)) from None
    result = RollbackResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        region=region,
        target=chosen.id,
        previous=live,
        dry_run=args.dry_run,
        layout="atomic",
    )
    if chosen.layout != "atomic":
        return _back_to_in_place(args, ctx, site, region, started, pointer, state.raw, chosen.id)
    target = state.records[chosen.id]
    result.left_out = forgotten_paths(ctx, site, target)
    if not args.no_verify:
        checked = time.monotonic()
        problems = verify_release(site, target)
        result.verify_seconds = round(time.monotonic() - checked, 3)
        if problems:
            raise HookError(
                f"{'to' if args.to else 'steps'}: release {target.id} is no longer intact ({len(problems)} object(s), e.g. {problems[0]}); "
                "nothing was changed"
            )
        result.verified = len(target.objects)
        ctx.log.info("verified the %d objects of %s by S3's checksums in %.2f s", result.verified, target.id, result.verify_seconds)
    result.unchanged = len(target.objects)
    if args.dry_run:
        ctx.log.info("dry run: the pointer of %s was not changed", site.where)
    elif live == target.id:
        settings = AtomicSettings(
            shared=target.summary.shared,
            rules=(),
            keep_releases=args.keep_releases,
            keep_days=DEFAULT_KEEP_DAYS,
            lock_timeout=args.lock_timeout,
        )
        finish_switch(site, state, target, settings=settings, written_by=WRITTEN_BY, log=ctx.log)
        ctx.log.info("%s already serves release %s: nothing to do", site.where, target.id)
    else:
        settings = AtomicSettings(
            shared=target.summary.shared,
            rules=(),
            keep_releases=args.keep_releases,
            keep_days=DEFAULT_KEEP_DAYS,
            lock_timeout=args.lock_timeout,
        )
        outcome = AtomicOutcome(target.id)
        marker = SiteManifest(
            target.summary.source_hash,
            target.summary.settings_hash,
            {},
            state="syncing",
            lock=new_lock(ttl=args.lock_timeout, what="rollback"),
        )
        with holding(site, marker, written_by=WRITTEN_BY, ttl=args.lock_timeout) as lease:
            switch_to(site, pointer, state, target, kind="rollback", settings=settings, guard=lease.check, log=ctx.log, outcome=outcome)
            lease.finish(SiteManifest(target.summary.source_hash, target.summary.settings_hash, {}))
        result.release = target.id
        result.switch_seconds = outcome.switch_seconds
        current = state.records.get(live) if live is not None else None
        result.changed_paths = changed_paths(entry.key for entry in diff_objects(current.objects if current else {}, target.objects))
    result.seconds = round(time.monotonic() - started, 3)
    return result


def forgotten_paths(ctx: HookContext, site: S3Site, target: Release) -> list[str]:
    """The paths ``target``'s record marks forgotten (``site forget``), logged as left out: a rollback restores the
    rest. In place they are neither restored nor deleted; on an atomic site the edge maps them to objects that are
    gone, so the distribution answers 404."""
    left_out = sorted(key[len(site.prefix) :] for key in target.forgotten)
    if left_out:
        ctx.log.warning(
            "release %s: %d forgotten path(s) left out (their bytes were purged): %s", target.id, len(left_out), ", ".join(left_out)
        )
    return left_out


def verify_release(site: S3Site, release: Release) -> list[str]:
    """The objects of an atomic release whose S3-stored CRC64NVME is not the recorded one (or that are gone), by parallel HEADs."""

    def check(item: tuple[str, ObjectState]) -> str | None:
        key = atomic_key(site.prefix, release.id, item[0][len(site.prefix) :], release.summary.shared)
        found = site.checksum_of(key)
        if found is None:
            return f"{key}: missing"
        if found != item[1].checksum:
            return f"{key}: other bytes than recorded"
        return None

    return sorted(
        problem
        for problem in site.run_parallel(sorted(release.objects.items()), check, what="verify", describe=lambda item: item[0])
        if problem
    )


def _back_to_in_place(
    args: RollbackArgs, ctx: HookContext, site: S3Site, region: str, started: float, pointer: PointerStore, raw: str | None, target: str
) -> RollbackResult:
    """Restore a release recorded before the site became atomic the in-place way, then remove the pointer."""
    result = rollback_in_place(args.model_copy(update={"to": target, "steps": None}), ctx, site, region, started)
    note = f"{target} was recorded before {site.where} became atomic: restored the in-place way (at the site's own keys)"
    if not args.dry_run and raw is not None:
        pointer.remove(raw)
        note += "; the release pointer was removed, so the CDN serves those keys again"
    ctx.log.info("%s", note)
    result.note = note
    return result


def _refuse_neighbours(ctx: HookContext, site: S3Site, listing: list[RemoteObject], target: Release) -> None:
    """Name each neighbour site below the prefix (left alone); refuse a target that names a key of one."""
    inner = neighbours((item.key for item in listing), site.prefix)
    for neighbour in inner:
        ctx.log.info("%s holds another site (its own .runway-ext/): left alone, never deleted nor overwritten", neighbour)
    try:
        check_record_keys([*target.objects, *target.forgotten], site.prefix, what=f"release {target.id}: its record", inner=inner)
    except ContainmentError as error:
        raise HookError(str(error)) from None


def _log_plan(ctx: HookContext, store: ReleaseStore, target: Release, live: Release | None, plan: RollbackPlan) -> None:
    ctx.log.info(
        "rolling %s back from %s to %s: %d to restore, %d header fixes, %d to delete, %d unchanged",
        store.where,
        live.id if live else "an unrecorded state",
        target.id,
        len(plan.restores),
        len(plan.reheaders),
        len(plan.deletes),
        len(plan.unchanged),
    )
    for key in plan.restores:
        ctx.log.debug("  restore %s", key)
    for key in plan.reheaders:
        ctx.log.debug("  headers %s", key)
    for key in plan.deletes:
        ctx.log.debug("  delete %s", key)


def _restore(
    args: RollbackArgs,
    site: S3Site,
    store: ReleaseStore,
    index: ReleaseIndex,
    target: Release,
    live: Release | None,
    plan: RollbackPlan,
    sources: Mapping[str, Mapping[str, str]],
    proven: Mapping[str, str],
    current: Mapping[str, ObjectState | None],
    remote: Mapping[str, RemoteObject],
    manifest: SiteManifest | None,
) -> str:
    """Write the plan under the site lock, record the rollback as a release, write the complete manifest."""
    untouched = {key: state for key in plan.unchanged if (state := current.get(key)) is not None}
    marker = SiteManifest(
        manifest.source_hash if manifest is not None else "",
        manifest.settings_hash if manifest is not None else "",
        untouched,
        state="syncing",
        lock=new_lock(ttl=args.lock_timeout, what="rollback"),
        vouched_at=site.listed_at,
    )
    with holding(site, marker, written_by=WRITTEN_BY, ttl=args.lock_timeout) as lease:
        etags = _write(store, plan, target, sources, proven, remote, lease.check)
        site.delete(list(plan.deletes), lease.check)
        objects = {
            key: ObjectState(state.sha256, state.size, etags.get(key) or remote[key].etag, state.content_type, state.cache_control)
            for key, state in target.objects.items()
        }
        unchanged = {key: objects[key] for key in plan.unchanged}
        kept = with_known_versions(unchanged, live, target)  # keys written here get their new version by a HEAD
        objects = {key: kept.get(key, state) for key, state in objects.items()}
        release = new_release(
            store,
            index,
            objects,
            source_hash=target.summary.source_hash,
            settings_hash=target.summary.settings_hash,
            delete=target.summary.delete,
            kind="rollback",
            restored_from=target.id,
            previous=live,
        )
        release = Release(release.summary, release.objects, target.forgotten)  # still forgotten in the rollback's record
        save_release(store, release, keep=args.keep_releases, guard=lease.check, kept=[live, target])
        lease.finish(SiteManifest(target.summary.source_hash, target.summary.settings_hash, objects))
    return release.id


def _write(
    store: ReleaseStore,
    plan: RollbackPlan,
    target: Release,
    sources: Mapping[str, Mapping[str, str]],
    proven: Mapping[str, str],
    remote: Mapping[str, RemoteObject],
    guard: Callable[[], None],
) -> dict[str, str]:
    """Restore (each source only while it holds the bytes proven: its ETag) and re-header, wave by wave (keys the
    site lacks, overwritten files, overwritten pages: :func:`~runway_ext.static_site.inplace.in_waves`), each wave
    complete before the next; returns the new ETag of each written key."""
    restores = set(plan.restores)

    def write(key: str) -> tuple[str, str]:
        guard()
        state = target.objects[key]
        if key in restores:
            return key, store.restore(key, sources[key], state, if_match=proven[key])
        return key, store.reheader(key, state, remote[key].etag)

    etags: dict[str, str] = {}
    for _, keys in in_waves([*plan.restores, *plan.reheaders], key=str, new=lambda key: key not in remote):
        etags.update(store.site.run_parallel(keys, write, what="restore", describe=str))
    return etags


def _differing(plan: RollbackPlan, live: Release | None, target: Release) -> list[str]:
    """The keys viewers may see differently: what this run changes, and what differs from the newest release
    (a rerun after a killed rollback also covers the keys the killed run already wrote)."""
    keys = set(plan.changed_keys)
    if live is not None:
        keys.update(entry.key for entry in diff_objects(live.objects, target.objects))
    return sorted(keys)


def require_router_reads(client: Any, distribution_id: str, store_arn: str) -> None:
    """Refuse (one line, before anything is written) a store the distribution's router does not read."""
    from runway_ext.hooks.cloudfront_invalidation.cloudfront import failure_for
    from runway_ext.static_site.association import store_association_problem

    try:
        problem = store_association_problem(client, distribution_id, store_arn)
    except Exception as error:
        failure = failure_for(error, distribution_id)
        if failure is None:
            raise
        raise failure from None
    if problem is not None:
        raise HookError(f"key_value_store_arn: {problem}: a pointer written there would change nothing viewers get; nothing was changed")


def origin_path_of(client: Any, distribution_id: str, bucket: str) -> str:
    """The OriginPath (``/site`` or ``""``) of the distribution's origin reading ``bucket``."""
    from runway_ext.hooks.cloudfront_invalidation.cloudfront import failure_for

    try:
        config = client.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    except Exception as error:
        failure = failure_for(error, distribution_id)
        if failure is None:
            raise
        raise failure from None
    for origin in config.get("Origins", {}).get("Items", []):
        if str(origin.get("DomainName", "")).startswith(f"{bucket}.s3"):
            return str(origin.get("OriginPath") or "").rstrip("/")
    return ""


def viewer_keys(keys: list[str], origin_path: str) -> list[str]:
    """Keys as the distribution serves them: without its OriginPath (keys outside it are not served: left out)."""
    if not origin_path:
        return keys
    folder = origin_path.lstrip("/") + "/"
    return [key[len(folder) :] for key in keys if key.startswith(folder)]


def _invalidation_paths(args: RollbackArgs, ctx: HookContext, keys: list[str]) -> list[str]:
    if not args.distribution_id or not keys:
        return []
    from runway_ext.hooks.cloudfront_invalidation.plan import plan_invalidation

    origin_path = origin_path_of(ctx.client("cloudfront"), args.distribution_id, args.bucket_name)
    served = viewer_keys(keys, origin_path)
    if not served:
        return []
    return list(plan_invalidation(changed_keys=served, max_paths=args.max_invalidation_paths).paths)


def _invalidate(args: RollbackArgs, ctx: HookContext, keys: list[str]) -> tuple[str | None, list[str]]:
    """One invalidation of exactly the paths that differ (compacted only beyond ``max_invalidation_paths``)."""
    from runway_ext.core.waiting import Deadline
    from runway_ext.hooks.cloudfront_invalidation.cloudfront import await_completion, create_invalidation
    from runway_ext.hooks.cloudfront_invalidation.plan import caller_reference

    assert args.distribution_id is not None
    deadline = Deadline(args.timeout)
    paths = _invalidation_paths(args, ctx, keys)
    if not paths:
        ctx.log.info("%s serves none of the changed keys: no invalidation", args.distribution_id)
        return None, []
    client = ctx.client("cloudfront")
    reference = caller_reference(args.distribution_id, paths, uuid.uuid4().hex)
    invalidation = create_invalidation(client, args.distribution_id, paths, reference, deadline)
    ctx.log.info("invalidation %s created on %s: %d path(s)", invalidation["Id"], args.distribution_id, len(paths))
    if args.wait:
        await_completion(client, args.distribution_id, invalidation["Id"], deadline, ctx.log)
        ctx.log.info("invalidation %s completed", invalidation["Id"])
    return str(invalidation["Id"]), paths
