"""The npm_build hook's body (the CFNgin entry point and the CLI) and the CLI's summary of its result.

Thin orchestration, in this order: validate the app → observe (source hash, site manifest) → skip when
the bucket already holds this build → build → observe (the build's files, the bucket) → plan → act
(unless ``dry_run``) → result. Decisions are made in :mod:`.plan`, npm is run by :mod:`.npm`, S3 is
written by :mod:`.s3_site`; the result is built in one place, :func:`build_result`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runway_ext import __version__
from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, hook

from .args import NpmBuildArgs, NpmBuildResult
from .build_output import ignored_output_folders, resolve_output_dir, scan_build
from .npm import copy_env_file, read_package, run_build
from .plan import (
    LocalFile,
    RemoteObject,
    SiteManifest,
    SyncPlan,
    SyncPlanError,
    keys_to_inspect,
    manifest_after_sync,
    plan_sync,
    settings_hash,
    with_manifest_state,
)
from .s3_site import S3Site, format_bytes
from .source_hash import hash_app_sources

HOOK_NAME = "npm_build"
"""The hook's name: its hook_data key (``runway_ext.npm_build``) and CLI command (``runway-ext npm-build``)."""


def render_result(result: dict[str, Any]) -> str:
    """The CLI's summary of a result."""
    where = f"s3://{result['bucket_name']}/{result['prefix']}"
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
    summary="Build an npm app and sync it to S3 (exact, incremental, skipped when unchanged).",
    render=render_result,
)
def build_and_sync_app(args: NpmBuildArgs, ctx: HookContext) -> NpmBuildResult:
    """Build the app at ``app_path`` and sync its output to ``bucket_name``."""
    started = time.monotonic()
    region = ctx.region(args.region)
    package = prepare_app(args, ctx)

    site, manifest, source_hash = _observe_sources_and_site(args, ctx, region)
    settings = settings_hash(prefix=args.prefix, rules=args.rules(), delete=args.delete, version=__version__)
    if manifest is not None and (manifest.source_hash, manifest.settings_hash) == (source_hash, settings) and not args.force:
        ctx.log.info(
            "s3://%s/%s already holds the build of these sources (%s): build and sync skipped (force: true to redo)",
            args.bucket_name,
            args.prefix,
            source_hash[:16],
        )
        return build_result(args, region=region, source_hash=source_hash, started=started, skipped_objects=len(manifest.objects))

    if args.build:
        run_build(args.app_path, package, timeout=args.build_timeout, log=ctx.log)
    output_dir = resolve_output_dir(args.app_path, args.output_dir, package)
    local, remote = _observe_build_and_bucket(site, output_dir, manifest, args.prefix, ctx)
    plan = _plan(args, local, remote, ctx)

    if args.dry_run:
        ctx.log.info("dry run: nothing was written to s3://%s", args.bucket_name)
    else:
        etags = site.apply(plan, local, output_dir)
        objects = manifest_after_sync(plan, local, remote, etags, prefix=args.prefix)
        site.write_manifest(SiteManifest(source_hash, settings, objects), written_by=f"runway_ext {__version__} {HOOK_NAME}")
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
    return build_result(args, region=region, source_hash=source_hash, started=started, plan=plan, output_dir=output_dir)


def prepare_app(args: NpmBuildArgs, ctx: HookContext) -> dict[str, Any]:
    """Check the app folder and read its package.json; when building, copy the environment's env file first.

    Without ``build`` the folder must exist but package.json is optional (``{}`` when absent).
    """
    if not args.build:
        return read_package(args.app_path, required=False)
    package = read_package(args.app_path)
    copy_env_file(args.app_path, args.environment, required=args.require_env_file, log=ctx.log)
    return package


def _observe_sources_and_site(args: NpmBuildArgs, ctx: HookContext, region: str) -> tuple[S3Site, SiteManifest | None, str]:
    """Hash the app's sources while the bucket's site manifest is read."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-ext-hash") as hasher:
        hashing = hasher.submit(hash_app_sources, args.app_path, ignored_output_folders(args.output_dir))
        site = S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=region)
        manifest = site.read_manifest()
        source_hash, file_count = hashing.result()
    ctx.log.info("source hash %s (%d files)", source_hash[:16], file_count)
    return site, manifest, source_hash


def _observe_build_and_bucket(
    site: S3Site, output_dir: Path, manifest: SiteManifest | None, prefix: str, ctx: HookContext
) -> tuple[dict[str, LocalFile], dict[str, RemoteObject]]:
    """The build's files (hashed while the bucket is listed) and the bucket's objects, completed by the manifest or a HEAD."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-ext-list") as lister:
        listing = lister.submit(site.list_objects)
        local = scan_build(output_dir)
        if not local:
            listing.cancel()
            raise HookError(f"output_dir: {output_dir} is empty; refusing to sync an empty site")
        ctx.log.info("%d files in %s", len(local), output_dir)
        remote = with_manifest_state(listing.result(), manifest)
    remote.update(site.inspect(keys_to_inspect(local, remote, prefix=prefix)))
    return local, remote


def _plan(args: NpmBuildArgs, local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject], ctx: HookContext) -> SyncPlan:
    """Plan the sync and log it (every action on a dry run); a refused delete is an error."""
    try:
        plan = plan_sync(local, remote, prefix=args.prefix, rules=args.rules(), delete=args.delete, max_delete=args.max_delete)
    except SyncPlanError as error:
        raise HookError(f"output_dir: {error}") from None
    _log_plan(plan, ctx, every_action=args.dry_run)
    if plan.delete_refusal:
        raise HookError(f"max_delete: {plan.delete_refusal}")
    return plan


def _log_plan(plan: SyncPlan, ctx: HookContext, *, every_action: bool) -> None:
    ctx.log.info(
        "plan: %d to upload (%s), %d metadata updates, %d to delete, %d unchanged%s",
        len(plan.uploads),
        format_bytes(plan.bytes_to_upload),
        len(plan.metadata_updates),
        len(plan.deletes),
        len(plan.unchanged),
        f", {len(plan.extra_remote)} objects not in the build kept (delete is off)" if plan.extra_remote and not plan.deletes else "",
    )
    log = ctx.log.info if every_action else ctx.log.debug
    for upload in plan.uploads:
        log("  upload %s (%s, %s)", upload.key, upload.reason, format_bytes(upload.size))
    for update in plan.metadata_updates:
        log("  headers %s -> %s; %s", update.key, update.headers.content_type, update.headers.cache_control)
    for key in plan.deletes:
        log("  delete %s", key)


def build_result(
    args: NpmBuildArgs,
    *,
    region: str,
    source_hash: str,
    started: float,
    plan: SyncPlan | None = None,
    output_dir: Path | None = None,
    skipped_objects: int = 0,
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
        seconds=round(time.monotonic() - started, 3),
    )


COMMAND = build_and_sync_app
