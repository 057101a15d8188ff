"""Build a static web app with npm and sync it to S3: exact, incremental, skipped when nothing changed.

config.yml (post_deploy, so ``${output …}`` resolves)::

    post_deploy:
      - path: runway_ext.hooks.npm_build.build_and_sync_app
        args:
          bucket_name: ${output site.BucketName}
          app_path: ./app
          environment: ${environment}
          delete: true

Steps: copy ``.env.<environment>`` to ``.env.local``; hash the app's sources; if the bucket's site
manifest says this hash (with the same settings) is already deployed, stop there. Otherwise install
(``npm ci`` with a lockfile, ``npm install`` without) when ``node_modules`` is missing, ``npm run build``,
and sync the output folder to the bucket by content (see :mod:`runway_ext.site_sync`). The result lands
in hook_data as ``runway_ext.npm_build`` — ``changed_paths`` is what the CloudFront invalidation hook
takes. CLI::

    python -m runway_ext.hooks.npm_build --bucket-name my-bucket --app-path ./app --environment prod
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import __version__
from ..core.args import EnvironmentName, HookArgs
from ..core.errors import HookError
from ..core.files import atomic_write
from ..core.hook import HookContext, hook, run_module
from ..core.log import has_url_credentials, is_secret_name, register_secret
from ..core.process import find_executable, run_process
from ..site_deploy import S3Site, format_bytes, scan_build
from ..site_headers import CacheRule, CacheRuleError, compile_glob
from ..site_sync import (
    SiteManifest,
    SyncPlan,
    SyncPlanError,
    keys_to_inspect,
    manifest_after_sync,
    normalize_prefix,
    plan_sync,
    settings_hash,
    with_manifest_state,
)
from ..source_hash import OUTPUT_FOLDER_CANDIDATES, hash_app_sources

_BUCKET_NAME = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
NEXT_CONFIGS = ("next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")
ENV_LOCAL = ".env.local"
NPM_ENVIRONMENT_DEFAULTS = {
    "NEXT_TELEMETRY_DISABLED": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}
"""Set for npm unless the environment already sets them: no telemetry, update checks or audit calls."""


class CacheRuleArg(BaseModel):
    """A cache rule from config.yml: files matching ``pattern`` get ``cache_control`` (and ``content_type``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    pattern: str
    """Glob over the site path: ``*.html`` (any depth), ``_next/static/**``, ``*.[hash].js``, ``{a,b}``."""

    cache_control: str = Field(min_length=1)
    """The Cache-Control header, e.g. ``public, max-age=31536000, immutable``."""

    content_type: str | None = None
    """Override the Content-Type guessed from the extension (e.g. for extensionless pages)."""

    @field_validator("pattern")
    @classmethod
    def _valid_glob(cls, pattern: str) -> str:
        try:
            compile_glob(pattern)
        except CacheRuleError as error:
            raise ValueError(str(error)) from None
        return pattern

    def to_rule(self) -> CacheRule:
        """The planner's rule."""
        return CacheRule(self.pattern, self.cache_control, self.content_type)


class NpmBuildArgs(HookArgs):
    """Arguments of the npm build + S3 sync hook."""

    bucket_name: str
    """The S3 bucket to sync the build output to (e.g. ``${output site.BucketName}``)."""

    app_path: Path = Path("./app")
    """Folder of the app (holds package.json), relative to the working directory."""

    environment: EnvironmentName = "dev"
    """Deploy environment: ``.env.<environment>`` in the app is copied to ``.env.local`` before building."""

    output_dir: Path | None = None
    """Build output folder, relative to app_path; default: ``out`` for Next.js, else whichever of out/build/dist the build wrote."""

    build: bool = True
    """Run npm install (when node_modules is missing) and ``npm run build``; false syncs the output folder as it is."""

    force: bool = False
    """Build and compare every object even when the bucket already holds a build of these sources."""

    delete: bool = False
    """Delete objects under the prefix that the build no longer has."""

    max_delete: int = Field(default=256, ge=0)
    """Refuse the whole sync (nothing changed) if it would delete more objects than this."""

    dry_run: bool = False
    """Build and plan, log every planned change, but write nothing to the bucket."""

    cache_rules: list[CacheRuleArg] = []  # noqa: RUF012 - pydantic copies defaults; the CLI help cannot show a default_factory
    """Cache-Control rules tried before the defaults, first match wins: a list of {pattern, cache_control, content_type}."""

    prefix: str = ""
    """Key prefix in the bucket to sync under (e.g. ``site/``); objects outside it are never touched."""

    require_env_file: bool = False
    """Fail when ``.env.<environment>`` is missing (default: log a notice and build without it)."""

    build_timeout: float = Field(default=900, gt=0)
    """Seconds each npm step (install, build) may take before it is stopped."""

    workers: int = Field(default=16, ge=1, le=128)
    """How many S3 requests run in parallel."""

    region: str | None = None
    """AWS region of the bucket (default: the session's region)."""

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, name: str) -> str:
        if not _BUCKET_NAME.match(name) or ".." in name:
            raise ValueError(f"{name!r} is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
        return name

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return normalize_prefix(prefix)


class NpmBuildResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.npm_build``; with dry_run the counts are what it would do)."""

    bucket_name: str
    prefix: str
    environment: str
    source_hash: str
    skipped: bool
    built: bool
    dry_run: bool
    output_dir: str | None = None
    uploaded: int = 0
    metadata_updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    bytes_uploaded: int = 0
    changed_paths: list[str] = Field(default_factory=list)
    seconds: float = 0.0


# -- the app -------------------------------------------------------------------------------------
def read_package(app_path: Path) -> dict[str, Any]:
    """The app's package.json, checked for what the build needs."""
    if not app_path.is_dir():
        raise HookError(f"app_path: {app_path} is not a folder")
    package_file = app_path / "package.json"
    try:
        package = json.loads(package_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HookError(f"app_path: no package.json in {app_path}") from None
    except (ValueError, OSError) as error:
        raise HookError(f"app_path: cannot read {package_file}: {error}") from None
    if not isinstance(package, dict):
        raise HookError(f"app_path: {package_file} is not a JSON object")
    return package


def declared_dependencies(package: dict[str, Any]) -> list[str]:
    """Names of every dependency package.json declares (all kinds)."""
    names: list[str] = []
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        value = package.get(section)
        if isinstance(value, dict):
            names.extend(value)
    return names


def is_nextjs(app_path: Path, package: dict[str, Any]) -> bool:
    """Whether the app is a Next.js app (its static export lands in ``out/``)."""
    return "next" in declared_dependencies(package) or any((app_path / name).exists() for name in NEXT_CONFIGS)


def copy_env_file(app_path: Path, environment: str, *, required: bool, ctx: HookContext) -> bool:
    """Copy ``.env.<environment>`` to ``.env.local`` (atomic, 0600); a missing file is a notice or, if required, an error."""
    source = app_path / f".env.{environment}"
    target = app_path / ENV_LOCAL
    if not source.is_file():
        if required:
            raise HookError(f"environment: {source} does not exist (require_env_file is set)")
        note = f"; the existing {ENV_LOCAL} is left as it is" if target.exists() else ""
        ctx.log.warning("no %s in %s: building without an environment file%s", source.name, app_path, note)
        return False
    _register_env_secrets(source)
    content = source.read_bytes()
    if target.is_file() and not target.is_symlink() and target.read_bytes() == content:
        ctx.log.info("%s already matches %s", ENV_LOCAL, source.name)
        return True
    atomic_write(target, content, mode=0o600)
    ctx.log.info("copied %s to %s", source.name, ENV_LOCAL)
    return True


def _register_env_secrets(env_file: Path) -> None:
    """Mask the env file's secret-looking values in every log line (npm's output included)."""
    for name, value in dotenv_values(env_file).items():
        if value and (is_secret_name(name) or has_url_credentials(value)):
            register_secret(value)


def npm_environment() -> dict[str, str]:
    """The environment npm runs with: ours, plus quiet defaults."""
    env = dict(os.environ)
    for name, value in NPM_ENVIRONMENT_DEFAULTS.items():
        env.setdefault(name, value)
    return env


def run_build(app_path: Path, package: dict[str, Any], args: NpmBuildArgs, ctx: HookContext) -> None:
    """Install dependencies if ``node_modules`` is missing, then ``npm run build``."""
    scripts = package.get("scripts")
    if not isinstance(scripts, dict) or "build" not in scripts:
        raise HookError(f"app_path: {app_path / 'package.json'} has no \"build\" script")
    npm = find_executable("npm", install_hint="install Node.js (it ships npm): https://nodejs.org/")
    env = npm_environment()
    if not (app_path / "node_modules").is_dir():
        if not declared_dependencies(package):
            ctx.log.info("package.json declares no dependencies: nothing to install")
        else:
            lockfile = next((name for name in LOCKFILES if (app_path / name).is_file()), None)
            command = ["ci"] if lockfile else ["install"]
            ctx.log.info("node_modules is missing: npm %s%s", command[0], f" (from {lockfile})" if lockfile else "")
            run_process(
                [npm, *command, "--no-audit", "--no-fund"],
                what=f"npm {command[0]}",
                timeout=args.build_timeout,
                cwd=app_path,
                env=env,
                logger=ctx.log,
            )
    ctx.log.info("npm run build in %s", app_path)
    run_process([npm, "run", "build"], what="npm run build", timeout=args.build_timeout, cwd=app_path, env=env, logger=ctx.log)


def resolve_output_dir(app_path: Path, explicit: Path | None, package: dict[str, Any]) -> Path:
    """The folder to sync: ``output_dir`` if given, ``out/`` for Next.js, else the newest of out/build/dist."""
    if explicit is not None:
        folder = explicit if explicit.is_absolute() else app_path / explicit
        if not folder.is_dir():
            raise HookError(f"output_dir: {folder} does not exist (did the build write it?)")
        return folder
    if is_nextjs(app_path, package):
        folder = app_path / "out"
        if not folder.is_dir():
            raise HookError(f"output_dir: {folder} does not exist; a Next.js app needs output: 'export' in next.config")
        return folder
    found = [app_path / name for name in OUTPUT_FOLDER_CANDIDATES if (app_path / name).is_dir()]
    if not found:
        raise HookError(f"output_dir: none of {', '.join(OUTPUT_FOLDER_CANDIDATES)} exists in {app_path}; set output_dir")
    return max(found, key=lambda folder: folder.stat().st_mtime)


def ignored_output_folders(explicit: Path | None) -> list[str]:
    """Folders (relative to the app) left out of the source hash: the output folder, or every usual one."""
    if explicit is None:
        return list(OUTPUT_FOLDER_CANDIDATES)
    return [] if explicit.is_absolute() else [explicit.as_posix()]


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


# -- the hook ------------------------------------------------------------------------------------
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


@hook(
    "npm_build",
    NpmBuildArgs,
    summary="Build an npm app and sync it to S3 (exact, incremental, skipped when unchanged).",
    render=render_result,
)
def build_and_sync_app(args: NpmBuildArgs, ctx: HookContext) -> NpmBuildResult:
    """Build the app at ``app_path`` and sync its output to ``bucket_name``."""
    started = time.monotonic()
    app_path = args.app_path
    if args.build:
        package = read_package(app_path)
        copy_env_file(app_path, args.environment, required=args.require_env_file, ctx=ctx)
    elif not app_path.is_dir():
        raise HookError(f"app_path: {app_path} is not a folder")
    else:
        package = read_package(app_path) if (app_path / "package.json").is_file() else {}

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-ext-hash") as hasher:
        hashing = hasher.submit(hash_app_sources, app_path, ignored_output_folders(args.output_dir))
        site = S3Site(ctx.session(args.region), args.bucket_name, args.prefix, log=ctx.log, workers=args.workers, region=args.region)
        manifest = site.read_manifest()
        source_hash, file_count = hashing.result()
    rules = [rule.to_rule() for rule in args.cache_rules]
    settings = settings_hash(prefix=args.prefix, rules=rules, delete=args.delete, version=__version__)
    ctx.log.info("source hash %s (%d files)", source_hash[:16], file_count)
    base = {
        "bucket_name": args.bucket_name,
        "prefix": args.prefix,
        "environment": args.environment,
        "source_hash": source_hash,
        "dry_run": args.dry_run,
    }
    if manifest is not None and (manifest.source_hash, manifest.settings_hash) == (source_hash, settings) and not args.force:
        ctx.log.info(
            "s3://%s/%s already holds the build of these sources (%s): build and sync skipped (force: true to redo)",
            args.bucket_name,
            args.prefix,
            source_hash[:16],
        )
        return NpmBuildResult(**base, skipped=True, built=False, unchanged=len(manifest.objects), seconds=_since(started))

    if args.build:
        run_build(app_path, package, args, ctx)
    output_dir = resolve_output_dir(app_path, args.output_dir, package)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-ext-list") as lister:
        listing = lister.submit(site.list_objects)  # the bucket is listed while the build is hashed
        local = scan_build(output_dir)
        if not local:
            listing.cancel()
            raise HookError(f"output_dir: {output_dir} is empty; refusing to sync an empty site")
        ctx.log.info("%d files in %s", len(local), output_dir)
        remote = with_manifest_state(listing.result(), manifest)
    remote.update(site.inspect(keys_to_inspect(local, remote, prefix=args.prefix)))
    try:
        plan = plan_sync(local, remote, prefix=args.prefix, rules=rules, delete=args.delete, max_delete=args.max_delete)
    except SyncPlanError as error:
        raise HookError(f"output_dir: {error}") from None
    _log_plan(plan, ctx, every_action=args.dry_run)
    if plan.delete_refusal:
        raise HookError(f"max_delete: {plan.delete_refusal}")

    if not args.dry_run:
        etags = site.apply(plan, local, output_dir)
        objects = manifest_after_sync(plan, local, remote, etags, prefix=args.prefix)
        site.write_manifest(SiteManifest(source_hash, settings, objects), written_by=f"runway_ext {__version__} npm_build")
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
    else:
        ctx.log.info("dry run: nothing was written to s3://%s", args.bucket_name)
    return NpmBuildResult(
        **base,
        skipped=False,
        built=args.build,
        output_dir=str(output_dir),
        uploaded=len(plan.uploads),
        metadata_updated=len(plan.metadata_updates),
        deleted=len(plan.deletes),
        unchanged=len(plan.unchanged),
        bytes_uploaded=plan.bytes_to_upload,
        changed_paths=plan.changed_paths,
        seconds=_since(started),
    )


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)



COMMAND = build_and_sync_app

if __name__ == "__main__":
    run_module(COMMAND)
