"""The ``site`` commands: ``releases`` (table), ``diff`` (two releases), ``rollback``, ``forget``, ``previews``,
``promote``, ``preview-delete`` (each also a CFNgin hook).

``runway-ext site releases|diff|rollback|forget``; in config.yml ``path: runway_ext.hooks.site.rollback_hook`` (or ``forget_hook``). The S3 and
CloudFront work happens in :mod:`.rollback` and :mod:`runway_ext.static_site` (boto3 is imported by the first
AWS call, so ``--help`` imports no AWS library).
"""

from __future__ import annotations

from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, HookGroup, hook
from runway_ext.hooks.site.args import (
    DiffArgs,
    DiffResult,
    ForgetArgs,
    ForgetResult,
    ReleaseRow,
    ReleasesArgs,
    ReleasesResult,
    RollbackArgs,
    RollbackResult,
)
from runway_ext.hooks.site.plan import find_release
from runway_ext.hooks.site.previews import (
    PreviewDeleteArgs,
    PreviewDeleteResult,
    PreviewsArgs,
    PreviewsResult,
    PromoteArgs,
    PromoteResult,
    render_preview_delete,
    render_previews,
    render_promote,
)
from runway_ext.static_site.records import ReleaseError, changed_paths, diff_objects
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore
from runway_ext.static_site.switches import JournalFile


def _store(args: ReleasesArgs | DiffArgs, ctx: HookContext) -> ReleaseStore:
    region = ctx.region(args.region)
    return ReleaseStore(S3Site(ctx.session(region), args.bucket_name, args.prefix, log=ctx.log, workers=16, region=region))


def render_releases(result: dict[str, Any]) -> str:
    """A table: id, time, source hash, files changed vs the previous release, who (``*``: the release the site serves)."""
    rows = result["releases"]
    if not rows:
        return f"s3://{result['bucket_name']}/{result['prefix']}: no releases recorded yet"
    table = [("", "RELEASE", "TIME", "SOURCE", "FILES", "CHANGED", "DEPLOYED BY")]
    for row in reversed(rows):
        who = row["deployed_by"] + (f" (rollback to {row['restored_from']})" if row.get("restored_from") else "")
        changed = "-" if row["changed"] is None else str(row["changed"])
        table.append(("*" if row["current"] else "", row["id"], row["time"], row["source_hash"][:12], str(row["files"]), changed, who))
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1] for line in table
    ).rstrip()


@hook(
    "site_releases", ReleasesArgs, summary="List a site's recorded releases (newest first; --json for all fields).", render=render_releases
)
def releases_hook(args: ReleasesArgs, ctx: HookContext) -> ReleasesResult:
    """The site's releases."""
    store = _store(args, ctx)
    index = store.read_index()
    latest = index.latest.id if index.latest else None
    if any(summary.layout == "atomic" for summary in index.releases):
        history = JournalFile(store.site).journal.history
        latest = history[-1].release if history else latest  # the release the site's last switch made live
    rows = [
        ReleaseRow(
            id=s.id,
            time=s.time,
            source_hash=s.source_hash,
            files=s.files,
            changed=s.changed,
            deployed_by=s.deployed_by,
            kind=s.kind,
            restored_from=s.restored_from,
            retention=s.retention,
            current=s.id == latest,
        )
        for s in index.releases
    ]
    return ReleasesResult(bucket_name=args.bucket_name, prefix=args.prefix, releases=rows)


def render_diff(result: dict[str, Any]) -> str:
    """One line per differing path, marked A (added), D (removed), M (bytes changed), H (headers only)."""
    marks = {"added": "A", "removed": "D", "changed": "M", "headers": "H"}
    lines = [f"{mark} /{key}" for kind, mark in marks.items() for key in result[kind]]
    head = f"{result['release_a']} -> {result['release_b']}: {len(lines)} path(s) differ"
    return "\n".join([head, *sorted(lines, key=lambda line: line[2:])])


@hook(
    "site_diff", DiffArgs, summary="The paths that differ between two releases.", positional=("release_a", "release_b"), render=render_diff
)
def diff_hook(args: DiffArgs, ctx: HookContext) -> DiffResult:
    """Compare two releases of the site."""
    store = _store(args, ctx)
    index = store.read_index()
    try:
        a = store.read_release(find_release(index, args.release_a).id)
        b = store.read_release(find_release(index, args.release_b).id)
    except ReleaseError as error:
        raise HookError(str(error)) from None
    entries = diff_objects(a.objects, b.objects)
    result = DiffResult(bucket_name=args.bucket_name, prefix=args.prefix, release_a=a.id, release_b=b.id)
    for entry in entries:
        getattr(result, entry.kind).append(entry.key[len(args.prefix) :])
    result.changed_paths = changed_paths(entry.key for entry in entries)
    return result


def render_rollback(result: dict[str, Any]) -> str:
    """The CLI's summary of a rollback."""
    where = f"s3://{result['bucket_name']}/{result['prefix']}"
    if result.get("layout") == "atomic":
        lines = []
        if result.get("verify_seconds") is not None:
            lines.append(f"verified {result['verified']} objects of {result['target']} by S3 checksums in {result['verify_seconds']:.2f} s")
        if result.get("dry_run"):
            lines.append(f"would switch {where} from {result['previous']} to {result['target']}")
        elif result.get("release") is None:
            lines.append(f"{where} already serves release {result['target']}: nothing to do")
        else:
            lines.append(
                f"switched {where} from {result['previous']} to {result['target']} in {result['switch_seconds']:.2f} s (no object copied, nothing to invalidate)"
            )
        if result.get("left_out"):
            lines.append(f"left out (forgotten, answered 404): {', '.join(result['left_out'])}")
        return "\n".join(lines)
    if result.get("dry_run"):
        head = f"would roll {where} back to {result['target']}"
    elif result.get("release") is None:
        return f"{where} already holds release {result['target']}: nothing to do"
    else:
        head = f"rolled {where} back from {result['previous']} to {result['target']} (recorded as {result['release']})"
    lines = [
        f"{head}: {result['restored']} restored, {result['headers_fixed']} headers fixed, {result['deleted']} deleted, "
        f"{result['unchanged']} unchanged in {result['seconds']:.1f}s"
    ]
    lines.extend(f"  {path}" for path in result["changed_paths"])
    if result.get("note"):
        lines.append(result["note"])
    if result.get("left_out"):
        lines.append(f"left out (forgotten): {', '.join(result['left_out'])}")
    if result.get("invalidation_id"):
        lines.append(f"invalidation {result['invalidation_id']}: {len(result['invalidation_paths'])} path(s)")
    return "\n".join(lines)


@hook(
    "site_rollback",
    RollbackArgs,
    summary="Restore a site to an earlier release (no rebuild), then invalidate exactly the paths that differ.",
    render=render_rollback,
)
def rollback_hook(args: RollbackArgs, ctx: HookContext) -> RollbackResult:
    """Roll the site back to ``to`` (or ``steps`` releases back, default 1)."""
    from runway_ext.hooks.site.rollback import rollback

    return rollback(args, ctx)


def render_forget(result: dict[str, Any]) -> str:
    """What was forgotten, purged and kept."""
    where = f"s3://{result['bucket_name']}/{result['prefix']}"
    lines = [f"forgot {', '.join(result['forgotten'])} in {where}: {len(result['purged'])} retained object(s) purged"]
    lines.extend(f"  purged {item}" for item in result["purged"])
    lines.extend(f"  kept {sha[:16]} (still served at {', '.join(paths)})" for sha, paths in result["kept"].items())
    if result["records"]:
        lines.append(f"records rewritten: {', '.join(result['records'])}")
    if result.get("invalidation_id"):
        lines.append(f"invalidation {result['invalidation_id']}: {len(result['invalidation_paths'])} path(s)")
    return "\n".join(lines)


@hook(
    "site_forget",
    ForgetArgs,
    summary="Purge every retained byte of site paths published by mistake and mark them forgotten in every release.",
    positional=("paths",),
    render=render_forget,
)
def forget_hook(args: ForgetArgs, ctx: HookContext) -> ForgetResult:
    """Forget ``paths``: no release can publish their bytes again."""
    from runway_ext.hooks.site.forget import forget

    return forget(args, ctx)


@hook("site_previews", PreviewsArgs, summary="List an atomic site's previews (name, release, when, by whom, URL).", render=render_previews)
def previews_hook(args: PreviewsArgs, ctx: HookContext) -> PreviewsResult:
    """The site's previews."""
    from runway_ext.hooks.site.previews import list_site_previews

    return list_site_previews(args, ctx)


@hook(
    "site_promote",
    PromoteArgs,
    summary="Make the release a preview serves live (one pointer write: the bytes reviewed, nothing uploaded or invalidated).",
    positional=("name",),
    render=render_promote,
)
def promote_hook(args: PromoteArgs, ctx: HookContext) -> PromoteResult:
    """Promote preview ``name``."""
    from runway_ext.hooks.site.previews import promote

    return promote(args, ctx)


@hook(
    "site_preview_delete",
    PreviewDeleteArgs,
    summary="Delete a preview's pointer key (its release becomes prunable by the usual rule).",
    positional=("name",),
    render=render_preview_delete,
)
def preview_delete_hook(args: PreviewDeleteArgs, ctx: HookContext) -> PreviewDeleteResult:
    """Delete preview ``name``."""
    from runway_ext.hooks.site.previews import delete

    return delete(args, ctx)


COMMAND = HookGroup(
    "site",
    {
        "releases": releases_hook,
        "diff": diff_hook,
        "rollback": rollback_hook,
        "forget": forget_hook,
        "previews": previews_hook,
        "promote": promote_hook,
        "preview-delete": preview_delete_hook,
    },
    summary="A static site's releases: list, compare, roll back, forget paths published by mistake; its previews: list, promote, delete.",
)
