"""The bodies of the ``site previews|promote|preview-delete`` commands and hooks (args, result, body, summary of each).

``runway-ext site previews`` lists an atomic site's previews (name, release, when, by whom, URL);
``runway-ext site promote NAME`` moves the live pointer to the release preview NAME serves (no upload, no copy,
nothing to invalidate); ``runway-ext site preview-delete NAME`` deletes the preview's key (its release is then
prunable by the usual rule). In config.yml: ``runway_ext.hooks.site.previews_hook``, ``promote_hook``,
``preview_delete_hook`` (their faces are in :mod:`.hook`). The work is :mod:`runway_ext.static_site.previews`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from runway_ext import __version__
from runway_ext.core.hook import HookContext
from runway_ext.hooks.site.args import SiteArgs, SiteResult, _release_id
from runway_ext.static_site.atomic import DEFAULT_KEEP_DAYS
from runway_ext.static_site.atomic_deploy import AtomicSettings
from runway_ext.static_site.pointer import KeyValueStoreArn
from runway_ext.static_site.records import DEFAULT_KEEP
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore


class PreviewArgs(SiteArgs):
    """Where an atomic site and its pointers are."""

    key_value_store_arn: KeyValueStoreArn
    """The KeyValueStore holding the site's pointers (as given to npm_build)."""

    preview_domain: str | None = None
    """The domain previews are served under (the CDN's ``PreviewDomain``), so results name each preview's URL."""


def _name(value: str) -> str:
    from runway_ext.static_site.kvs import preview_name_problem

    problem = preview_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class PreviewsArgs(PreviewArgs):
    """Arguments of ``site previews``."""


class PromoteArgs(PreviewArgs):
    """Arguments of ``site promote``."""

    name: str
    """The preview to promote (its name, as ``site previews`` lists it)."""

    release: str | None = None
    """The release ``site previews`` listed for it (``r7``): refused, nothing switched, when the preview now serves another."""

    no_verify: bool = False
    """Switch without first checking (parallel HEADs, S3's CRC64NVME) that the release's objects are still the recorded bytes."""

    lock_timeout: float = Field(default=900, ge=10)
    """Seconds after which the site lock of a run that stopped renewing it may be taken over."""

    workers: int = Field(default=16, ge=1, le=128)
    """How many S3 requests run in parallel."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("release")
    @classmethod
    def _release(cls, value: str | None) -> str | None:
        return None if value is None else _release_id(value)


class PreviewDeleteArgs(PreviewArgs):
    """Arguments of ``site preview-delete``."""

    name: str
    """The preview to delete."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value)


class PreviewRow(BaseModel):
    """One preview in ``site previews``."""

    name: str
    release: str | None
    """The release its key names (None: a value the edge ignores)."""
    time: str | None = None
    deployed_by: str | None = None
    url: str | None = None
    pruned: bool = False
    """The release has no record any more (promote would be refused)."""


class PreviewsResult(SiteResult):
    """The site's previews, by name (hook_data ``runway_ext.site_previews``)."""

    previews: list[PreviewRow] = Field(default_factory=list)


class PromoteResult(SiteResult):
    """What a promote did (hook_data ``runway_ext.site_promote``)."""

    name: str
    release: str
    """The release now live."""
    previous: str | None = None
    switched: bool = False
    switch_seconds: float | None = None
    uploaded: int = 0
    """Always 0: the live site gets the very objects the preview served."""
    copied: int = 0
    """Always 0 (release objects; the error pages are copied to their plain keys as at every switch)."""
    invalidations: int = 0
    """Always 0: each release has its own cache keys."""
    verified: int = 0
    preview_url: str | None = None


class PreviewDeleteResult(SiteResult):
    """What a preview-delete did (hook_data ``runway_ext.site_preview_delete``)."""

    name: str
    deleted: bool
    release: str | None = None
    """The release the key named (prunable from now on by the usual rule)."""


def _site(args: PreviewArgs, ctx: HookContext, workers: int = 16) -> tuple[S3Site, Any]:
    from runway_ext.static_site.pointer import KvsPointerStore

    region = ctx.region(args.region)
    session = ctx.session(region)
    site = S3Site(session, args.bucket_name, args.prefix, log=ctx.log, workers=workers, region=region)
    return site, KvsPointerStore(session, args.key_value_store_arn, args.prefix)


def render_previews(result: dict[str, Any]) -> str:
    """A table: name, release, when, by whom, URL."""
    rows = result["previews"]
    if not rows:
        return f"s3://{result['bucket_name']}/{result['prefix']}: no previews"
    table = [("NAME", "RELEASE", "TIME", "DEPLOYED BY", "URL")]
    for row in rows:
        release = (row["release"] or "?") + (" (pruned)" if row["pruned"] else "")
        table.append((row["name"], release, row["time"] or "-", row["deployed_by"] or "-", row["url"] or "-"))
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1] for line in table)


def list_site_previews(args: PreviewsArgs, ctx: HookContext) -> PreviewsResult:
    """The site's previews."""
    from runway_ext.static_site.previews import list_previews, preview_url

    site, live = _site(args, ctx)
    index = ReleaseStore(site).read_index()
    rows = [
        PreviewRow(
            name=entry.name,
            release=entry.release,
            time=entry.summary.time if entry.summary else None,
            deployed_by=entry.summary.deployed_by if entry.summary else None,
            url=preview_url(entry.name, args.preview_domain),
            pruned=entry.release is not None and entry.summary is None,
        )
        for entry in list_previews(live.client, args.key_value_store_arn, args.prefix, index)
    ]
    return PreviewsResult(bucket_name=args.bucket_name, prefix=args.prefix, previews=rows)


def render_promote(result: dict[str, Any]) -> str:
    """The CLI's summary of a promote."""
    where = f"s3://{result['bucket_name']}/{result['prefix']}"
    if not result["switched"]:
        return f"{where} already serves release {result['release']} (preview {result['name']}): nothing to do"
    return (
        f"promoted preview {result['name']}: {where} switched from {result['previous']} to {result['release']} in "
        f"{result['switch_seconds']:.2f} s (0 objects uploaded or copied, 0 invalidations)"
    )


def promote(args: PromoteArgs, ctx: HookContext) -> PromoteResult:
    """Promote preview ``name``."""
    from runway_ext.hooks.site.rollback import verify_release
    from runway_ext.static_site.previews import preview_url, promote_preview

    site, live = _site(args, ctx, args.workers)
    # the releases a pinned tab may still reach after the switch: as many as a deploy with the default rule keeps
    settings = AtomicSettings(shared=(), rules=(), keep_releases=DEFAULT_KEEP, keep_days=DEFAULT_KEEP_DAYS, lock_timeout=args.lock_timeout)
    verified: list[int] = []

    def verify(release: Any) -> list[str]:
        if args.no_verify:
            return []
        verified.append(len(release.objects))
        return verify_release(site, release)

    outcome = promote_preview(
        site,
        live,
        args.name,
        expect_release=args.release,
        settings=settings,
        written_by=f"runway_ext {__version__} site promote",
        log=ctx.log,
        verify=verify,
    )
    return PromoteResult(
        bucket_name=args.bucket_name,
        prefix=args.prefix,
        name=args.name,
        release=outcome.release,
        previous=outcome.previous,
        switched=outcome.switched,
        switch_seconds=outcome.switch_seconds,
        verified=sum(verified),
        preview_url=preview_url(args.name, args.preview_domain),
    )


def render_preview_delete(result: dict[str, Any]) -> str:
    """The CLI's summary of a preview-delete."""
    if not result["deleted"]:
        return f"no preview {result['name']} of s3://{result['bucket_name']}/{result['prefix']}: nothing to do"
    return f"deleted preview {result['name']} (release {result['release']} is prunable from now on)"


def delete(args: PreviewDeleteArgs, ctx: HookContext) -> PreviewDeleteResult:
    """Delete preview ``name``."""
    from runway_ext.static_site.previews import delete_preview

    _, live = _site(args, ctx)
    deleted, release = delete_preview(live.client, args.key_value_store_arn, args.prefix, args.name)
    if not deleted:
        ctx.log.info("no preview %r: nothing to do", args.name)
    return PreviewDeleteResult(bucket_name=args.bucket_name, prefix=args.prefix, name=args.name, deleted=deleted, release=release)
