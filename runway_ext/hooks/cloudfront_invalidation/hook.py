"""The body of the ``cloudfront_invalidation`` hook (validate → plan → act → result) and the CLI's plain output.

The paths come from :mod:`.plan` (the ``paths`` argument, or a changed-path list in hook_data),
CloudFront is called through :mod:`.cloudfront`, and the whole hook shares one deadline of
``timeout`` seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

from runway_ext.core.hook import HookContext, hook
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.cloudfront_invalidation.args import CloudFrontInvalidationArgs, InvalidationResult
from runway_ext.hooks.cloudfront_invalidation.cloudfront import await_completion, create_invalidation
from runway_ext.hooks.cloudfront_invalidation.plan import atomic_release, caller_reference, canonical_status, plan_request


def _render(result: dict[str, Any]) -> str:
    """The CLI's plain output: one summary line, then the paths."""
    if result.get("skipped"):
        return f"{result['distribution_id']}: nothing to invalidate (skipped)"
    head = (
        f"{result['distribution_id']}: dry run, would invalidate"
        if result.get("dry_run")
        else f"{result['distribution_id']}: invalidation {result['invalidation_id']} {result['status']}"
    )
    lines = [f"{head} ({len(result['paths'])} paths)"]
    lines += [f"  {path}" for path in result["paths"]]
    return "\n".join(lines)


@hook(
    "cloudfront_invalidation",
    CloudFrontInvalidationArgs,
    summary="Invalidate CloudFront paths (normalised, compacted, retried; optionally wait).",
    positional=("distribution_id",),
    render=_render,
)
def cfngin_hook(args: CloudFrontInvalidationArgs, ctx: HookContext) -> InvalidationResult:
    """Create (and optionally await) one invalidation of ``args.distribution_id``."""
    deadline = Deadline(args.timeout)
    distribution = args.distribution_id
    hook_data = ctx.hook_data() if ctx.in_runway else None
    release = atomic_release(hook_data, args.paths_from_hook_data)
    if release is not None:
        ctx.log.info("atomic release %s: nothing to invalidate", release)
        return InvalidationResult(distribution_id=distribution, paths=[], status="skipped", skipped=True, release=release)
    plan = plan_request(
        paths=args.paths,
        hook_data_key=args.paths_from_hook_data,
        hook_data=hook_data,
        max_paths=args.max_paths,
    )
    paths = list(plan.paths) if plan else []
    reference: str | None = None
    invalidation_id: str | None = None
    if plan is None:
        status = "skipped"
        ctx.log.info("%s is empty: nothing changed, no invalidation of %s", args.paths_from_hook_data, distribution)
    else:
        reference = caller_reference(distribution, paths, args.run_token or uuid.uuid4().hex)
        summary = f"{len(paths)} path(s)" + (f", compacted from {plan.normalized}" if plan.compacted else "")
        for path in paths:
            ctx.log.debug("path %s", path)
        if args.dry_run:
            status = "dry-run"
            ctx.log.info("dry run: would invalidate %s on %s: %s", summary, distribution, " ".join(paths))
        else:
            client = ctx.client("cloudfront")
            invalidation = create_invalidation(client, distribution, paths, reference, deadline)
            invalidation_id = invalidation["Id"]
            status = canonical_status(invalidation.get("Status", "InProgress"))
            ctx.log.info("invalidation %s created on %s: %s (%s)", invalidation_id, distribution, summary, status)
            if args.wait and status != "Completed":
                status = await_completion(client, distribution, invalidation_id, deadline, ctx.log)
            if args.wait:
                ctx.log.info("invalidation %s completed", invalidation_id)
    return InvalidationResult(
        distribution_id=distribution,
        invalidation_id=invalidation_id,
        paths=paths,
        status=status,
        skipped=plan is None,
        dry_run=args.dry_run and plan is not None,
        requested_paths=plan.requested if plan else 0,
        compacted=plan.compacted if plan else False,
        caller_reference=reference,
    )


COMMAND = cfngin_hook
"""The ``cloudfront_invalidation`` command: the hook itself."""
