"""Carry out ``site forget``: under the site lock, mark the paths forgotten in every kept record, purge their bytes, invalidate.

The decisions and the purgers are :mod:`runway_ext.static_site.forget`'s; this is the order of I/O:

1. read the site manifest and check the lock (a live deploy or rollback: refuse); read the index and every kept
   record (with its ETag); on an atomic site read the live pointer and the previews' keys; plan — a refusal here
   writes nothing;
2. take the site lock (the sync's protocol, conditional on the manifest read in 1: a deploy, rollback or forget
   that ran meanwhile makes this one stop), delete what the skew window still kept of the paths (in place),
   rewrite the records concerned (``If-Match``), run every purger,
   write back the manifest as it was (vouching no later than it did), then invalidate the paths.

Invalidated: the forgotten paths as viewers ask for them and, on an atomic site, every deleted release object's
path. The edge's viewer-request function rewrites a URI to its release's object before the cache is looked up, so
an answer from an atomic release is cached under that object's path (``/.runway-ext-releases/r3/config.json``);
the viewer path is cached only by the root fallback (before the first switch, or a pointer the edge cannot read).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from runway_ext import __version__
from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext
from runway_ext.hooks.site.args import ForgetArgs, ForgetResult
from runway_ext.static_site.containment import ContainmentError, check_record_keys
from runway_ext.static_site.forget import PURGERS, ForgetError, delete_retired, plan_forget, rewrite_records
from runway_ext.static_site.layout import release_key
from runway_ext.static_site.lock import check_lock, holding, new_lock
from runway_ext.static_site.manifest import SiteManifest
from runway_ext.static_site.pointer import KvsPointerStore, describe
from runway_ext.static_site.records import Release, ReleaseError, ReleaseIndex, parse_release
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore

WRITTEN_BY = f"runway_ext {__version__} site forget"


def read_records(site: S3Site, store: ReleaseStore, ids: list[str]) -> dict[str, tuple[Release, str]]:
    """Every kept record with the ETag read (one line naming a missing or unreadable one: nothing is written then)."""
    records: dict[str, tuple[Release, str]] = {}
    for rid in ids:
        found = site.get(release_key(site.prefix, rid))
        if found is None:
            raise HookError(f"release {rid}: its record is missing from {site.where}; nothing was changed")
        try:
            release = parse_release(found[0], rid)
            check_record_keys([*release.objects, *release.forgotten], site.prefix, what=f"release {rid}: its record")
        except (ReleaseError, ContainmentError) as error:
            raise HookError(f"{error}; nothing was changed") from None
        records[rid] = (release, found[1])
    return records


def forget(args: ForgetArgs, ctx: HookContext) -> ForgetResult:
    """Forget ``args.paths`` (see the module docstring)."""
    region = ctx.region(args.region)
    site = S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=region)
    store = ReleaseStore(site)
    manifest = site.read_manifest()
    check_lock(site, manifest, dry_run=False, log=ctx.log, break_lock=args.break_lock)
    index = store.read_index()
    records = read_records(site, store, [summary.id for summary in index.releases])
    live, previews = served_releases(args, ctx, region, index, {rid: release for rid, (release, _) in records.items()})
    keys = [args.prefix + path for path in args.paths]
    try:
        plan = plan_forget(keys, [release for release, _ in records.values()], live, previews=previews, prefix=args.prefix)
    except ForgetError as error:
        raise HookError(f"paths: {error}") from None
    for sha, users in plan.kept.items():
        ctx.log.warning("content %s is still served at %s: kept", sha[:16], ", ".join(users))

    complete = manifest is not None and manifest.state == "complete"
    marker = SiteManifest(
        manifest.source_hash if manifest else "",
        manifest.settings_hash if manifest else "",
        manifest.objects if manifest is not None and complete else {},
        state="syncing",
        lock=new_lock(ttl=args.lock_timeout, what="forget"),
        vouched_at=(manifest.vouched_at or site.manifest_time) if manifest is not None and complete else None,
    )
    purged: list[str] = []
    with holding(site, marker, written_by=WRITTEN_BY, ttl=args.lock_timeout) as lease:
        purged.extend(delete_retired(site, plan, lease.check))
        rewritten = rewrite_records(site, plan, records, lease.check)
        for purger in PURGERS:
            purged.extend(purger(site, plan, lease.check))
        after = replace(marker, state="complete", lock=None) if complete else replace(marker, lock=None)
        lease.finish(after)
    for item in purged:
        ctx.log.info("purged %s", item)
    ctx.log.info(
        "forgot %d path(s) of %s: %d release record(s) rewritten, %d retained object(s) purged",
        len(plan.keys),
        site.where,
        len(rewritten),
        len(purged),
    )
    result = ForgetResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        forgotten=list(args.paths),
        purged=purged,
        kept={sha: [key[len(args.prefix) :] for key in users] for sha, users in plan.kept.items()},
        records=rewritten,
    )
    if args.distribution_id:
        result.invalidation_id, result.invalidation_paths = _invalidate(args, ctx, sorted({*plan.keys, *plan.objects}))
    return result


def served_releases(
    args: ForgetArgs, ctx: HookContext, region: str, index: ReleaseIndex, records: dict[str, Release]
) -> tuple[Release | None, dict[str, Release]]:
    """The live release and each preview's (name → release): the newest release in place; on an atomic site the
    release the live pointer names (the newest one before a first switch) and those the preview keys name."""
    latest = records[index.latest.id] if index.latest is not None else None
    if not any(summary.layout == "atomic" for summary in index.releases):
        return latest, {}
    where = f"s3://{args.bucket_name}/{args.prefix}"
    if args.key_value_store_arn is None:
        raise HookError(f"key_value_store_arn: {where} is deployed as atomic releases; give the key value store its pointer is in")
    from runway_ext.static_site.previews import list_previews

    pointer = KvsPointerStore(ctx.session(region), args.key_value_store_arn, args.prefix)
    raw, value = pointer.read()
    if raw is not None and value is None:
        raise HookError(
            f"key_value_store_arn: the pointer {pointer.key!r} holds {describe(raw)}, which the edge cannot read (it serves the root); "
            "deploy or roll back first; nothing was changed"
        )
    live = latest
    if value is not None:
        if value.release not in records:
            raise HookError(
                f"key_value_store_arn: the pointer {pointer.key!r} names release {value.release}, which has no record in {where}; "
                "nothing was changed"
            )
        live = records[value.release]
    previews = {
        entry.name: records[entry.release]
        for entry in list_previews(pointer.client, pointer.arn, args.prefix, index)
        if entry.release is not None and entry.release in records
    }
    return live, previews


def _invalidate(args: ForgetArgs, ctx: HookContext, keys: list[str]) -> tuple[str | None, list[str]]:
    """One invalidation of the forgotten paths (as the distribution serves them)."""
    from runway_ext.core.waiting import Deadline
    from runway_ext.hooks.cloudfront_invalidation.cloudfront import create_invalidation
    from runway_ext.hooks.cloudfront_invalidation.plan import caller_reference, plan_invalidation
    from runway_ext.hooks.site.rollback import origin_path_of, viewer_keys

    assert args.distribution_id is not None
    client = ctx.client("cloudfront")
    served = viewer_keys(keys, origin_path_of(client, args.distribution_id, args.bucket_name))
    if not served:
        return None, []
    paths = list(plan_invalidation(changed_keys=served, max_paths=100).paths)
    reference = caller_reference(args.distribution_id, paths, uuid.uuid4().hex)
    invalidation = create_invalidation(client, args.distribution_id, paths, reference, Deadline(900))
    ctx.log.info("invalidation %s created on %s: %d path(s)", invalidation["Id"], args.distribution_id, len(paths))
    return str(invalidation["Id"]), paths
