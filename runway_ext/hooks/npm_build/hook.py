"""The npm_build hook's body (the CFNgin entry point and the CLI) and the CLI's summary of its result.

Thin orchestration, in this order: validate the app and find its output folder → observe (source hash;
the site manifest and one listing of the bucket) → skip when the bucket *provably* holds the build of
these sources (every object the manifest lists is vouched for by the listing) → build → observe (the
build's files; a HEAD of each object nothing vouches for) → plan → act under the site lock
(:mod:`runway_ext.static_site.lock`), unless ``dry_run`` → result. The site model (plan, manifest, lock,
S3, releases) is :mod:`runway_ext.static_site`; npm is run by :mod:`.npm`; the result is built in one
place, :func:`build_result`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from runway_ext import __version__
from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, hook
from runway_ext.hooks.npm_build.args import NpmBuildArgs, NpmBuildResult
from runway_ext.hooks.npm_build.build_output import expected_output_dir, ignored_output_folders, resolve_output_dir, scan_build
from runway_ext.hooks.npm_build.local_cache import DigestCache
from runway_ext.hooks.npm_build.npm import copy_env_file, read_package, run_build
from runway_ext.hooks.npm_build.source_hash import build_environment_digest, combine, hash_app_sources
from runway_ext.static_site.atomic import AtomicPlanError
from runway_ext.static_site.atomic_deploy import AtomicSettings, deploy_release, plan_next, read_site, release_problems
from runway_ext.static_site.inplace import (
    LocalFile,
    SkewWindow,
    SyncPlan,
    SyncPlanError,
    entries_before_sync,
    keys_to_inspect,
    manifest_after_sync,
    missing_pages_problem,
    pending_writes,
    plan_sync,
)
from runway_ext.static_site.layout import key_problem, site_keys
from runway_ext.static_site.lock import check_lock, holding, new_lock, wait_for_other_runs
from runway_ext.static_site.manifest import SiteManifest, drift, settings_hash, with_manifest_state
from runway_ext.static_site.objects import ObjectState, RemoteObject
from runway_ext.static_site.pointer import KvsPointerStore
from runway_ext.static_site.previews import PreviewPointerStore, deploy_preview, preview_releases, preview_url
from runway_ext.static_site.published import Published
from runway_ext.static_site.record import record_release
from runway_ext.static_site.s3 import S3Site, format_bytes
from runway_ext.static_site.served import wait_until_served
from runway_ext.static_site.store import ReleaseStore

HOOK_NAME = "npm_build"
"""The hook's name: its hook_data key (``runway_ext.npm_build``) and CLI command (``runway-ext npm-build``)."""


def render_result(result: dict[str, Any]) -> str:
    """The CLI's summary of a result."""
    where = f"s3://{result['bucket_name']}/{result['prefix']}"
    if result.get("preview") and not result.get("dry_run"):
        url = f" at {result['preview_url']}" if result.get("preview_url") else ""
        return (
            f"preview {result['preview']} of {where} serves release {result['release']}{url}: uploaded {result['uploaded']} "
            f"({format_bytes(result['bytes_uploaded'])}), copied {result['copied']}, unchanged {result['unchanged']}; the live site was not touched"
        )
    if result.get("layout") == "atomic" and not result.get("dry_run"):
        if result.get("skipped"):
            return f"{where} already serves release {result.get('release')}, the build of these sources: nothing to do"
        lines = [
            f"released {where} as {result['release']}: uploaded {result['uploaded']} ({format_bytes(result['bytes_uploaded'])}), "
            f"copied {result['copied']}, unchanged {result['unchanged']}"
        ]
        if result.get("switch_seconds") is not None:
            lines.append(f"switched to {result['release']} in {result['switch_seconds']:.2f} s")
        if result.get("served_seconds") is not None:
            lines.append(f"served at {result['site_url']} after {result['served_seconds']:.2f} s")
        if result.get("pruned"):
            lines.append(
                f"pruned {', '.join(result['pruned'])}"
                + (f"; {len(result['drift'])} changed object(s) kept (drift)" if result.get("drift") else "")
            )
        return "\n".join(lines)
    if result.get("skipped"):
        return f"skipped: {where} already holds the build of source hash {result['source_hash'][:16]}"
    verb = "would sync" if result.get("dry_run") else "synced"
    lines = [
        f"{verb} {where}: {result['uploaded']} uploaded ({format_bytes(result['bytes_uploaded'])}), "
        f"{result['metadata_updated']} metadata updated, {result['deleted']} deleted, {result['unchanged']} unchanged "
        f"in {result['seconds']:.1f}s"
    ]
    lines.extend(f"  {path}" for path in result.get("changed_paths", []))
    return "\n".join(lines)


@hook(
    HOOK_NAME,
    NpmBuildArgs,
    summary="Build an npm app and sync it to S3 (exact, incremental, skipped when the bucket provably holds the build).",
    render=render_result,
)
def build_and_sync_app(args: NpmBuildArgs, ctx: HookContext) -> NpmBuildResult:
    """Build the app at ``app_path`` and sync its output to ``bucket_name``."""
    started = time.monotonic()
    region = ctx.region(args.region)
    if args.preview is not None and args.key_value_store_arn is None:
        raise HookError("preview: a preview is an atomic release: set key_value_store_arn too; nothing was changed")
    package = prepare_app(args, ctx, region)
    if args.key_value_store_arn is not None:
        return _deploy_atomic(args, ctx, region, package, started)
    ignored = _hash_ignored(args, package)

    # Without a build the output folder is final now: it is scanned while the bucket is listed.
    output_dir = None if args.build else resolve_output_dir(args.app_path, args.output_dir, package)
    scan = None if output_dir is None else partial(_scan, args, output_dir, ctx)
    site, manifest, listing, source_hash, local = _observe_sources_and_site(args, ctx, region, ignored, scan)
    if not args.dry_run:
        refuse_in_place_on_atomic(site)
    settings = settings_hash(prefix=args.prefix, rules=args.rules(), delete=args.delete, version=__version__)
    remote = with_manifest_state(listing, manifest, site.manifest_time)
    if source_hash is not None and _proven_deployed(args, ctx, manifest, remote, source_hash, settings):
        assert manifest is not None
        return build_result(args, region=region, source_hash=source_hash, started=started, skipped_objects=len(manifest.objects))

    if output_dir is None or local is None:
        run_build(args.app_path, package, timeout=args.build_timeout, log=ctx.log)
        output_dir = resolve_output_dir(args.app_path, args.output_dir, package)
        local = _scan(args, output_dir, ctx)
    if source_hash is None:
        source_hash = combine((path, file.sha256) for path, file in local.items())
    remote.update(site.inspect(keys_to_inspect(local, remote, prefix=args.prefix)))
    plan = _plan(args, local, remote, ctx, published=_published(args, site, manifest, local, remote))

    release = None
    if args.dry_run:
        ctx.log.info("dry run: nothing was written to s3://%s", args.bucket_name)
    else:
        release = _sync(args, site, plan, local, remote, output_dir, manifest, SiteManifest(source_hash, settings))
        ctx.log.info(
            "synced s3://%s/%s: %d uploaded (%s), %d metadata updated, %d deleted, %d unchanged",
            args.bucket_name,
            args.prefix,
            len(plan.uploads),
            format_bytes(plan.bytes_to_upload),
            len(plan.metadata_updates),
            len(plan.deletes),
            len(plan.unchanged),
        )
    return build_result(args, region=region, source_hash=source_hash, started=started, plan=plan, output_dir=output_dir, release=release)


def refuse_in_place_on_atomic(site: S3Site) -> None:
    """Refuse an in-place deploy of a site whose records say it is atomic: viewers get the release its pointer names."""
    atomic = [summary.id for summary in ReleaseStore(site).read_index().releases if summary.layout == "atomic"]
    if atomic:
        raise HookError(
            f"key_value_store_arn: {site.where} is deployed as atomic releases (since {atomic[0]}); an in-place deploy would not be "
            "served: set key_value_store_arn; nothing was changed"
        )


def _deploy_atomic(args: NpmBuildArgs, ctx: HookContext, region: str, package: dict[str, Any], started: float) -> NpmBuildResult:
    """The atomic layout: build, then write release r<N> beside the live one and switch the pointer (:mod:`runway_ext.static_site.atomic_deploy`)."""
    assert args.key_value_store_arn is not None
    settings = settings_hash(prefix=args.prefix, rules=args.rules(), delete=True, version=__version__, shared=args.shared_prefixes)
    session = ctx.session(region)
    site = S3Site(session, args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=region)
    pointer = KvsPointerStore(session, args.key_value_store_arn, args.prefix)
    options = AtomicSettings(
        shared=tuple(args.shared_prefixes),
        rules=args.rules(),
        keep_releases=args.keep_releases,
        keep_days=args.keep_days,
        lock_timeout=args.lock_timeout,
        take_over=args.take_over,
        force=args.force,
        error_pages=tuple(args.error_pages),
        workers=args.workers,
        pinned=partial(preview_releases, pointer),
        lock_wait=args.lock_wait,
    )
    if args.preview is not None and not args.dry_run:
        return _deploy_preview(args, ctx, region, package, started, site, pointer, options, settings)
    source_hash = _source_hash(args, _hash_ignored(args, package))[0] if args.build else None
    if not args.dry_run:
        wait_for_other_runs(site, purpose="deploy", timeout=args.lock_wait, log=ctx.log)
    state = read_site(site, pointer, take_over=args.take_over, log=ctx.log, dry_run=args.dry_run)
    live = state.live
    if (
        source_hash is not None
        and not args.force
        and live is not None
        and (live.summary.source_hash, live.summary.settings_hash) == (source_hash, settings)
        and not release_problems(site, live)
    ):
        ctx.log.info("%s serves release %s, the build of these sources, all objects verified: build and sync skipped", site.where, live.id)
        return build_result(
            args, region=region, source_hash=source_hash, started=started, skipped_objects=len(live.objects), release=live.id
        )
    if args.build:
        run_build(args.app_path, package, timeout=args.build_timeout, log=ctx.log)
    output_dir = resolve_output_dir(args.app_path, args.output_dir, package)
    local = _scan(args, output_dir, ctx)
    if source_hash is None:
        source_hash = combine((path, file.sha256) for path, file in local.items())
    try:
        if args.dry_run:
            plan = plan_next(state, local, prefix=args.prefix, settings=options)
            ctx.log.info(
                "dry run: release %s would upload %d (%s), copy %d, leave %d shared unchanged; nothing was written to %s",
                plan.rid,
                len(plan.uploads),
                format_bytes(plan.bytes_to_upload),
                len(plan.copies),
                len(plan.unchanged),
                site.where,
            )
            result = build_result(args, region=region, source_hash=source_hash, started=started, plan=SyncPlan(), output_dir=output_dir)
            return result.model_copy(
                update={
                    "uploaded": len(plan.uploads),
                    "copied": len(plan.copies),
                    "unchanged": len(plan.unchanged),
                    "bytes_uploaded": plan.bytes_to_upload,
                    "release": plan.rid,
                }
            )
        outcome = deploy_release(
            site,
            pointer,
            local,
            output_dir,
            source_hash=source_hash,
            settings_hash=settings,
            settings=options,
            written_by=f"runway_ext {__version__} {HOOK_NAME}",
            log=ctx.log,
            state=state,
        )
    except AtomicPlanError as error:
        raise HookError(f"shared_prefixes: {error}" if "shared" in str(error) else f"output_dir: {error}") from None
    return NpmBuildResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        environment=args.environment,
        region=region,
        source_hash=source_hash,
        skipped=outcome.nothing_to_do,
        built=args.build,
        dry_run=False,
        output_dir=str(output_dir),
        uploaded=outcome.uploaded,
        unchanged=outcome.unchanged,
        bytes_uploaded=outcome.bytes_uploaded,
        changed_paths=outcome.changed_paths,
        layout="atomic",
        release=outcome.release,
        copied=outcome.copied,
        switch_seconds=outcome.switch_seconds if outcome.switched else None,
        site_url=args.site_url,
        served_seconds=_time_to_served(args, ctx, region, outcome.release) if outcome.switched else None,
        pruned=outcome.pruned,
        drift=outcome.drift,
        seconds=round(time.monotonic() - started, 3),
    )


def _time_to_served(args: NpmBuildArgs, ctx: HookContext, region: str, release: str | None) -> float | None:
    """Poll ``site_url`` until it answers with ``release`` (:mod:`runway_ext.static_site.served`); None when not measured."""
    if args.site_url is None or release is None:
        return None
    from runway_ext.local.site_urls import served_url_finder

    finder, why_not = served_url_finder(args.site_url, os.environ, lambda: ctx.session(region).client("cloudfront"))
    if finder is None:
        ctx.log.info("%s", why_not)
        return None
    served = wait_until_served(finder, release, timeout=args.served_timeout)
    if served.seconds is None:
        seen = f"still {served.last_seen}" if served.last_seen else "no release header"
        ctx.log.warning(
            "site_url: %s did not answer with release %s within %gs (%s); the switch stands",
            args.site_url,
            release,
            args.served_timeout,
            seen,
        )
        return None
    ctx.log.info("%s served release %s %.2f s after the switch", args.site_url, release, served.seconds)
    return served.seconds


def _deploy_preview(
    args: NpmBuildArgs,
    ctx: HookContext,
    region: str,
    package: dict[str, Any],
    started: float,
    site: S3Site,
    live: KvsPointerStore,
    options: AtomicSettings,
    settings: str,
) -> NpmBuildResult:
    """Build, record the build as a release and point the preview's key at it (:func:`runway_ext.static_site.previews.deploy_preview`)."""
    assert args.preview is not None and args.key_value_store_arn is not None
    preview = PreviewPointerStore(ctx.session(region), args.key_value_store_arn, args.prefix, args.preview)
    if args.build:
        run_build(args.app_path, package, timeout=args.build_timeout, log=ctx.log)
    output_dir = resolve_output_dir(args.app_path, args.output_dir, package)
    local = _scan(args, output_dir, ctx)
    source_hash = combine((path, file.sha256) for path, file in local.items())
    try:
        outcome = deploy_preview(
            site,
            live,
            preview,
            local,
            output_dir,
            source_hash=source_hash,
            settings_hash=settings,
            settings=options,
            written_by=f"runway_ext {__version__} {HOOK_NAME} preview",
            log=ctx.log,
        )
    except AtomicPlanError as error:
        raise HookError(f"shared_prefixes: {error}" if "shared" in str(error) else f"output_dir: {error}") from None
    return NpmBuildResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        environment=args.environment,
        region=region,
        source_hash=source_hash,
        skipped=False,
        built=args.build,
        dry_run=False,
        output_dir=str(output_dir),
        uploaded=outcome.uploaded,
        unchanged=outcome.unchanged,
        bytes_uploaded=outcome.bytes_uploaded,
        layout="atomic",
        release=outcome.release,
        copied=outcome.copied,
        switch_seconds=outcome.switch_seconds,
        preview=args.preview,
        preview_url=preview_url(args.preview, args.preview_domain),
        seconds=round(time.monotonic() - started, 3),
    )


def prepare_app(args: NpmBuildArgs, ctx: HookContext, region: str) -> dict[str, Any]:
    """Check the app folder and read its package.json; when building, copy the environment's env file first.

    Without ``build`` the folder must exist but package.json is optional (``{}`` when absent). Before
    anything in the app folder is written, the bucket is proven to exist and be usable (one HeadBucket):
    a deploy to a missing bucket leaves the app folder as it was.
    """
    if not args.build:
        return read_package(args.app_path, required=False)
    package = read_package(args.app_path)
    S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=1, region=region).check_bucket()
    copy_env_file(args.app_path, args.environment, required=args.require_env_file, log=ctx.log)
    return package


def _hash_ignored(args: NpmBuildArgs, package: dict[str, Any]) -> list[str]:
    """The output folder, left out of the source hash: ``output_dir``, the build tool's folder, else the folder this
    app's build wrote last time on this machine (so the previous build's output never counts as a source)."""
    expected = expected_output_dir(args.app_path, package) if args.output_dir is None else None
    remembered = DigestCache.for_app(args.app_path).remembered_output if args.output_dir is None and expected is None else ""
    return ignored_output_folders(args.output_dir, expected, remembered)


def _source_hash(args: NpmBuildArgs, ignored: list[str]) -> tuple[str, int]:
    sources, count = hash_app_sources(args.app_path, ignored)
    environment = build_environment_digest(os.environ, args.build_env)
    return combine([("sources", sources), ("environment", environment)]), count


def _observe_sources_and_site(
    args: NpmBuildArgs,
    ctx: HookContext,
    region: str,
    ignored: list[str],
    scan: Callable[[], dict[str, LocalFile]] | None = None,
) -> tuple[S3Site, SiteManifest | None, list[RemoteObject], str | None, dict[str, LocalFile] | None]:
    """Hash the app's sources (when building) while the site manifest is read and the bucket listed once.

    The listing starts once the manifest has been read (never before: see
    :meth:`~runway_ext.static_site.s3.S3Site.fetch_manifest`; its keys also decide how the listing is split) and runs
    while the lock is checked and ``scan`` (the build's files, when there is no build to wait for)
    runs. A site another live deploy is writing is refused here (a dry run only warns).
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="runway-ext-observe") as workers:
        hashing = workers.submit(_source_hash, args, ignored) if args.build else None
        site = S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=region)
        manifest = site.manifest_from(site.fetch_manifest())
        listing_future = workers.submit(site.list_objects)
        try:
            local = _check_lock_and_scan(args, ctx, site, manifest, scan)
        except BaseException:
            site.stop_listing.set()
            raise
        listing = listing_future.result()
        source_hash = None
        if hashing is not None:
            source_hash, file_count = hashing.result()
            ctx.log.info("source hash %s (%d files)", source_hash[:16], file_count)
    return site, manifest, listing, source_hash, local


def _check_lock_and_scan(
    args: NpmBuildArgs, ctx: HookContext, site: S3Site, manifest: SiteManifest | None, scan: Callable[[], dict[str, LocalFile]] | None
) -> dict[str, LocalFile] | None:
    """Refuse a site held by a live deploy; then ``scan``, if given."""
    check_lock(site, manifest, dry_run=args.dry_run, log=ctx.log, break_lock=args.break_lock)
    return None if scan is None else scan()


def _proven_deployed(
    args: NpmBuildArgs,
    ctx: HookContext,
    manifest: SiteManifest | None,
    remote: Mapping[str, RemoteObject],
    source_hash: str,
    settings: str,
) -> bool:
    """Whether build and sync may be skipped: the bucket holds, object for object, the build of these sources."""
    if args.force or manifest is None or manifest.state != "complete":
        return False
    if (manifest.source_hash, manifest.settings_hash) != (source_hash, settings):
        return False
    # Keys the build lacks are no drift: those the site published and may delete go with the next deploy that
    # changes something (the skew window), the others are never deleted.
    problems = drift(manifest, remote, prefix=args.prefix, delete=False)
    if problems:
        ctx.log.warning(
            "s3://%s/%s no longer holds the deployed build (%d objects differ, e.g. %s): building and repairing",
            args.bucket_name,
            args.prefix,
            len(problems),
            problems[0],
        )
        return False
    ctx.log.info(
        "s3://%s/%s already holds the build of these sources (%s), all %d objects verified: build and sync skipped (force: true to redo)",
        args.bucket_name,
        args.prefix,
        source_hash[:16],
        len(manifest.objects),
    )
    return True


def _scan(args: NpmBuildArgs, output_dir: Path, ctx: HookContext) -> dict[str, LocalFile]:
    """The build's files with their digests (unchanged files from the local digest cache); refuses bad names."""
    cache = DigestCache.for_app(args.app_path, output_dir, log=ctx.log)
    local = scan_build(output_dir, follow_links=args.follow_links, cache=cache)
    if not local:
        raise HookError(f"output_dir: {output_dir} is empty; refusing to sync an empty site")
    for path in sorted(local):
        problem = key_problem(path, args.prefix)
        if problem:
            raise HookError(f"output_dir: {problem}")
    cache.save(os.path.relpath(output_dir.resolve(), args.app_path.resolve()))
    ctx.log.info("%d files in %s (%d unchanged since the last scan)", len(local), output_dir, cache.hits)
    return local


def _published(
    args: NpmBuildArgs, site: S3Site, manifest: SiteManifest | None, local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject]
) -> Published:
    """What the site's records say it published (:mod:`runway_ext.static_site.published`); the records are read
    only when the bucket holds site keys the build lacks (else there is nothing to decide)."""
    if all(key[len(args.prefix) :] in local for key in site_keys(remote, args.prefix)):
        return Published({})
    return ReleaseStore(site).published({**manifest.objects, **manifest.pending} if manifest is not None else None)


def _plan(
    args: NpmBuildArgs,
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    ctx: HookContext,
    *,
    published: Published | None = None,
) -> SyncPlan:
    """Plan the sync and log it (every action on a dry run); a refused delete or a page-less build is an error."""
    try:
        plan = plan_sync(
            local,
            remote,
            prefix=args.prefix,
            rules=args.rules(),
            delete=args.delete,
            max_delete=args.max_delete,
            max_delete_fraction=args.max_delete_fraction,
            published=published,
            window=SkewWindow(args.keep_releases, args.keep_days, time.time()),
        )
    except SyncPlanError as error:
        raise HookError(f"output_dir: {error}") from None
    _log_plan(plan, ctx, every_action=args.dry_run, delete=args.delete)
    if plan.delete_refusal:
        field = "max_delete_fraction" if "max_delete_fraction" in plan.delete_refusal else "max_delete"
        raise HookError(f"{field}: {plan.delete_refusal}")
    if not args.allow_no_pages:
        problem = missing_pages_problem(local, remote, prefix=args.prefix)
        if problem:
            raise HookError(f"allow_no_pages: {problem}")
    return plan


def _sync(
    args: NpmBuildArgs,
    site: S3Site,
    plan: SyncPlan,
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    output_dir: Path,
    previous: SiteManifest | None,
    deployed: SiteManifest,
) -> str | None:
    """Carry out ``plan`` under the manifest protocol and record the complete manifest; returns the release recorded (or None).

    Nothing to write and nothing left the newest release's build: the manifest is (conditionally) brought up to
    date, if it differs. Otherwise the
    lock is taken first (a ``syncing`` manifest vouching only for the untouched keys), held while the
    objects are written, and replaced by the complete manifest; a failure releases it.
    """
    written_by = f"runway_ext {__version__} {HOOK_NAME}"
    if plan.is_noop and not plan.dropped:
        objects = manifest_after_sync(plan, local, remote, {}, prefix=args.prefix)
        site.write_manifest(
            SiteManifest(deployed.source_hash, deployed.settings_hash, objects, pending=_unrecorded(plan, previous)), written_by=written_by
        )
        return None
    marker = SiteManifest(
        previous.source_hash if previous is not None else "",
        previous.settings_hash if previous is not None else "",
        entries_before_sync(plan, remote),
        state="syncing",
        lock=new_lock(ttl=args.lock_timeout),
        vouched_at=site.listed_at,
        pending={**(previous.pending if previous is not None else {}), **pending_writes(plan, local)},
    )
    with holding(site, marker, written_by=written_by, ttl=args.lock_timeout) as lease:
        etags = site.apply(plan, local, output_dir, guard=lease.check)
        objects = manifest_after_sync(plan, local, remote, etags, prefix=args.prefix)
        release = record_release(
            site,
            deployed,
            objects,
            expected=[args.prefix + path for path in local],
            delete=False,  # the sync deletes only what the site published: its release does not own the whole prefix
            keep=args.keep_releases,
            guard=lease.check,
            retired=plan.retained,
        )
        lease.finish(SiteManifest(deployed.source_hash, deployed.settings_hash, objects, pending=_unrecorded(plan, previous)))
    return release


def _unrecorded(plan: SyncPlan, previous: SiteManifest | None) -> dict[str, ObjectState]:
    """Objects a killed deploy wrote (its manifest's ``pending``) that this sync keeps out of its build: still named by
    the manifest, so they stay the site's even when no release records them."""
    pending = previous.pending if previous is not None else {}
    return {key: item.state for key, item in (plan.retained or {}).items() if key in pending}


def _log_plan(plan: SyncPlan, ctx: HookContext, *, every_action: bool, delete: bool = True) -> None:
    ctx.log.info(
        "plan: %d to upload (%s), %d metadata updates, %d to delete, %d unchanged%s",
        len(plan.uploads),
        format_bytes(plan.bytes_to_upload),
        len(plan.metadata_updates),
        len(plan.deletes),
        len(plan.unchanged),
        f", {len(plan.extra_remote)} objects not in the build kept (delete is off)" if plan.extra_remote and not delete else "",
    )
    if plan.foreign:
        ctx.log.info(
            "%d object(s) under the prefix were not published by this site (no recorded release wrote them): left alone, never deleted: %s",
            len(plan.foreign),
            _a_few(plan.foreign),
        )
    if plan.drifted:
        ctx.log.warning(
            "%d object(s) this site published changed after it recorded them (other ETag or size): kept, not deleted: %s",
            len(plan.drifted),
            _a_few(plan.drifted),
        )
    if plan.retained:
        ctx.log.info(
            "%d file(s) that left the build kept for the skew window (more than keep_releases releases and keep_days days): %s",
            len(plan.retained),
            _a_few(sorted(plan.retained)),
        )
    for neighbour in plan.neighbours:
        ctx.log.info("%s holds another site (its own .runway-ext/): left alone, never deleted nor overwritten", neighbour)
    log = ctx.log.info if every_action else ctx.log.debug
    for upload in plan.uploads:
        log("  upload %s (%s, %s)", upload.key, upload.reason, format_bytes(upload.size))
    for update in plan.metadata_updates:
        log("  headers %s -> %s; %s", update.key, update.headers.content_type, update.headers.cache_control)
    for key in plan.deletes:
        log("  delete %s", key)


def _a_few(keys: Sequence[str], count: int = 5) -> str:
    """The first ``count`` keys, comma-separated (``...`` when there are more)."""
    return ", ".join(keys[:count]) + (", ..." if len(keys) > count else "")


def build_result(
    args: NpmBuildArgs,
    *,
    region: str,
    source_hash: str,
    started: float,
    plan: SyncPlan | None = None,
    output_dir: Path | None = None,
    skipped_objects: int = 0,
    release: str | None = None,
) -> NpmBuildResult:
    """The hook's result. Without a ``plan`` the build and sync were skipped: ``skipped_objects`` is what the manifest holds."""
    skipped = plan is None
    done = plan if plan is not None else SyncPlan()
    return NpmBuildResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        environment=args.environment,
        region=region,
        source_hash=source_hash,
        skipped=skipped,
        built=args.build and not skipped,
        dry_run=args.dry_run,
        output_dir=None if output_dir is None else str(output_dir),
        uploaded=len(done.uploads),
        metadata_updated=len(done.metadata_updates),
        deleted=len(done.deletes),
        unchanged=skipped_objects if skipped else len(done.unchanged),
        bytes_uploaded=done.bytes_to_upload,
        changed_paths=done.changed_paths,
        layout="atomic" if args.key_value_store_arn is not None else "in-place",
        release=release,
        seconds=round(time.monotonic() - started, 3),
    )


COMMAND = build_and_sync_app
