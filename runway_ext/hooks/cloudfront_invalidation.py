"""Invalidate paths of a CloudFront distribution: normalised, compacted, retried, optionally awaited.

config.yml (after a deploy, fed the paths a site sync changed)::

    post_deploy:
      - path: runway_ext.hooks.cloudfront_invalidation.cfngin_hook
        args:
          distribution_id: ${output ${namespace}-cdn.DistributionId}
          paths_from_hook_data: runway_ext.npm_build.changed_paths
          wait: true

CLI::

    python -m runway_ext.hooks.cloudfront_invalidation E1234567890ABC --paths /index.html '/assets/*' --wait --timeout 600 --verbose

The paths are planned by :mod:`runway_ext.invalidation_paths` (leading ``/``, encoding,
``…/index.html`` also as ``…/``, compaction to ``max_paths``). The ``CallerReference`` is a hash of
the distribution, the sorted paths and a run token, so a retried request never creates a second
invalidation. ``TooManyInvalidationsInProgress`` and throttling are retried with backoff, and
waiting polls ``GetInvalidation`` (status compared case-insensitively); both end at ``timeout``.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from ..core.args import HookArgs
from ..core.aws import error_code, error_message
from ..core.errors import HookError
from ..core.hook import HookContext, hook, run_module
from ..core.waiting import retry, wait_until
from ..invalidation_paths import (
    DEFAULT_MAX_PATHS,
    MAX_FILE_PATHS,
    InvalidationPlan,
    InvalidPath,
    normalize_path,
    plan_invalidation,
)

DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,64}$")
RETRYABLE_CODES = frozenset(
    {
        "TooManyInvalidationsInProgress",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalError",
    }
)
POLL_INTERVAL = 5.0
"""Seconds between two ``GetInvalidation`` calls while waiting."""

_STATUS_SPELLING = {"completed": "Completed", "inprogress": "InProgress"}


class CloudFrontInvalidationArgs(HookArgs):
    """Arguments of the CloudFront invalidation hook."""

    distribution_id: str
    """Id of the CloudFront distribution (e.g. E1234567890ABC), typically ${output <stack>.DistributionId}."""

    paths: list[str] = ["/*"]
    """Paths to invalidate: '/about/index.html', 'about/index.html', '/assets/*' ('*' only at the end). Not URL-encoded; the hook encodes what CloudFront needs."""

    wait: bool = False
    """Wait until CloudFront reports the invalidation Completed."""

    timeout: int = Field(default=900, ge=1)
    """Seconds for the whole hook: retrying a busy or throttled API and waiting for completion."""

    max_paths: int = Field(default=DEFAULT_MAX_PATHS, ge=1, le=MAX_FILE_PATHS)
    """Most paths sent in one invalidation; longer lists are compacted to 'dir/*' wildcards, else '/*'. Each path is billed after the first 1,000 a month."""

    paths_from_hook_data: str | None = None
    """Dotted hook_data key holding a list of changed paths (e.g. runway_ext.npm_build.changed_paths: object keys with a leading '/', not encoded). An empty list skips the invalidation. Replaces paths."""

    run_token: str | None = None
    """Part of the CallerReference: give the same token (e.g. a CI run id) to make a re-run of the same deploy reuse its invalidation instead of creating another. Default: a new token per hook run."""

    dry_run: bool = False
    """Plan only: log the paths that would be invalidated and call no AWS API."""

    @field_validator("distribution_id")
    @classmethod
    def _distribution_id_shape(cls, value: str) -> str:
        value = value.strip()
        if not DISTRIBUTION_ID.match(value):
            raise ValueError(f"{value!r} is not a CloudFront distribution id (upper-case letters and digits, e.g. E1234567890ABC)")
        return value

    @field_validator("paths")
    @classmethod
    def _paths_are_valid(cls, paths: list[str]) -> list[str]:
        if not paths:
            raise ValueError("at least one path is required (use paths_from_hook_data for a list that may be empty)")
        for path in paths:
            try:
                normalize_path(path)
            except InvalidPath as error:
                raise ValueError(str(error)) from None
        return paths

    @field_validator("paths_from_hook_data")
    @classmethod
    def _dotted_key(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(not part for part in value.strip().split("."))):
            raise ValueError(f"{value!r} is not a dotted hook_data key such as runway_ext.npm_build.changed_paths")
        return value.strip() if value is not None else None

    @model_validator(mode="before")
    @classmethod
    def _one_source_of_paths(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("paths_from_hook_data") is not None and "paths" in data:
            raise ValueError("give either paths or paths_from_hook_data, not both")
        return data


class InvalidationResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.cloudfront_invalidation`` and the CLI's ``--json``)."""

    distribution_id: str
    invalidation_id: str | None = None
    """Id of the invalidation created (None when skipped or a dry run)."""
    paths: list[str]
    """The paths sent to CloudFront (after normalising and compaction)."""
    status: str
    """``InProgress`` or ``Completed`` (AWS spelling), ``skipped`` or ``dry-run``."""
    skipped: bool = False
    """True when there was nothing to invalidate (an empty changed-path list)."""
    dry_run: bool = False
    requested_paths: int = 0
    """How many paths were asked for, before normalising and compaction."""
    compacted: bool = False
    """Whether the requested paths were compacted into wildcards."""
    caller_reference: str | None = None


def caller_reference(distribution_id: str, paths: tuple[str, ...] | list[str], run_token: str) -> str:
    """A CallerReference that is the same for the same distribution, paths and run token."""
    digest = hashlib.sha256("\n".join([distribution_id, run_token, *sorted(paths)]).encode("utf-8")).hexdigest()
    return f"runway-ext-{digest[:40]}"


def canonical_status(status: str) -> str:
    """``COMPLETED``/``completed`` → ``Completed``; unknown spellings are kept as given."""
    return _STATUS_SPELLING.get(status.replace("_", "").replace(" ", "").lower(), status)


def read_hook_data_paths(hook_data: Mapping[str, Any], dotted_key: str) -> list[str]:
    """The list of paths stored at ``dotted_key`` in ``hook_data`` (a clear error if absent or not a list of strings)."""
    node: Any = hook_data
    walked: list[str] = []
    for part in dotted_key.split("."):
        if isinstance(node, BaseModel):
            node = node.model_dump()
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(walked) or "hook_data"
            known = sorted(node) if isinstance(node, Mapping) else []
            hint = f" (it has: {', '.join(map(str, known))})" if known else ""
            raise HookError(f"paths_from_hook_data: no {part!r} in {where}{hint}; did the hook that sets {dotted_key} run before this one?")
        node = node[part]
        walked.append(part)
    if isinstance(node, (str, bytes)) or not isinstance(node, (list, tuple)):
        raise HookError(f"paths_from_hook_data: {dotted_key} is a {type(node).__name__}, not a list of paths")
    bad = [item for item in node if not isinstance(item, str) or not item]
    if bad:
        raise HookError(f"paths_from_hook_data: {dotted_key} holds {bad[0]!r}, not a path")
    return list(node)


def _plan(args: CloudFrontInvalidationArgs, ctx: HookContext) -> InvalidationPlan | None:
    """The invalidation to send, or ``None`` when the changed-path list is empty."""
    if args.paths_from_hook_data is None:
        return plan_invalidation(args.paths, max_paths=args.max_paths)
    if not ctx.in_runway:
        raise HookError("paths_from_hook_data: only available inside a Runway deploy (the CLI has no hook_data); use --paths")
    changed = read_hook_data_paths(ctx.hook_data(), args.paths_from_hook_data)
    if not changed:
        return None
    try:
        return plan_invalidation(changed_keys=changed, max_paths=args.max_paths)
    except InvalidPath as error:
        raise HookError(f"paths_from_hook_data: {error}") from None


def _fail_for(error: Exception, distribution_id: str) -> HookError | None:
    """A one-line HookError for AWS errors the user can act on (``None`` for anything else)."""
    code = error_code(error)
    if code == "NoSuchDistribution":
        return HookError(f"distribution_id: no CloudFront distribution {distribution_id} in this account")
    if code in ("AccessDenied", "AccessDeniedException"):
        return HookError(f"not allowed to invalidate {distribution_id}: {error_message(error)}")
    if code in ("InvalidArgument", "InvalidRelativePath", "BatchTooLarge"):
        return HookError(f"CloudFront refused the invalidation of {distribution_id}: {error_message(error)}")
    if code:
        return HookError(f"invalidating {distribution_id} failed: {error_message(error)}")
    return None


def _is_retryable(error: Exception) -> bool:
    return error_code(error) in RETRYABLE_CODES


def _create(client: Any, distribution_id: str, paths: list[str], reference: str, remaining: float, timeout: int) -> dict[str, Any]:
    """CreateInvalidation, retried while CloudFront is busy or throttling, for ``remaining`` seconds of the hook's ``timeout``."""

    def create() -> dict[str, Any]:
        return client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
        )["Invalidation"]

    try:
        return retry(create, should_retry=_is_retryable, timeout=remaining, what=f"invalidating {distribution_id}")
    except HookError as error:  # retries spent: name the last AWS error in one line
        cause = error.__cause__ or error
        raise HookError(f"gave up invalidating {distribution_id} (timeout {timeout}s): {error_message(cause)}") from None
    except Exception as error:
        failure = _fail_for(error, distribution_id)
        if failure is None:
            raise
        raise failure from None


def _await(client: Any, distribution_id: str, invalidation_id: str, remaining: float, timeout: int, ctx: HookContext) -> str:
    """Poll GetInvalidation until Completed (any letter case) for ``remaining`` seconds of the hook's ``timeout``."""
    last = {"status": "InProgress"}

    def completed() -> bool:
        try:
            status = client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)["Invalidation"]["Status"]
        except Exception as error:
            if _is_retryable(error):
                return False
            failure = _fail_for(error, distribution_id)
            if failure is None:
                raise
            raise failure from None
        last["status"] = canonical_status(status)
        ctx.log.debug("invalidation %s: %s", invalidation_id, last["status"])
        return last["status"] == "Completed"

    try:
        wait_until(completed, timeout=max(remaining, 0.0), what=f"invalidation {invalidation_id}", interval=POLL_INTERVAL)
    except HookError:
        raise HookError(
            f"invalidation {invalidation_id} on {distribution_id} still {last['status']} when the {timeout}s timeout ran out "
            "(it goes on in CloudFront; raise timeout or set wait: false)"
        ) from None
    return "Completed"


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
    deadline = time.monotonic() + args.timeout
    plan = _plan(args, ctx)
    if plan is None:
        ctx.log.info("%s is empty: nothing changed, no invalidation of %s", args.paths_from_hook_data, args.distribution_id)
        return InvalidationResult(distribution_id=args.distribution_id, paths=[], status="skipped", skipped=True)
    paths = list(plan.paths)
    reference = caller_reference(args.distribution_id, paths, args.run_token or uuid.uuid4().hex)
    summary = f"{len(paths)} path(s)" + (f", compacted from {plan.normalized}" if plan.compacted else "")
    for path in paths:
        ctx.log.debug("path %s", path)
    result = InvalidationResult(
        distribution_id=args.distribution_id,
        paths=paths,
        status="dry-run",
        dry_run=args.dry_run,
        requested_paths=plan.requested,
        compacted=plan.compacted,
        caller_reference=reference,
    )
    if args.dry_run:
        ctx.log.info("dry run: would invalidate %s on %s: %s", summary, args.distribution_id, " ".join(paths))
        return result
    client = ctx.client("cloudfront")
    invalidation = _create(client, args.distribution_id, paths, reference, deadline - time.monotonic(), args.timeout)
    invalidation_id = invalidation["Id"]
    status = canonical_status(invalidation.get("Status", "InProgress"))
    ctx.log.info("invalidation %s created on %s: %s (%s)", invalidation_id, args.distribution_id, summary, status)
    if args.wait and status != "Completed":
        status = _await(client, args.distribution_id, invalidation_id, deadline - time.monotonic(), args.timeout, ctx)
    if args.wait:
        ctx.log.info("invalidation %s completed", invalidation_id)
    return result.model_copy(update={"invalidation_id": invalidation_id, "status": status})


COMMAND = cfngin_hook

if __name__ == "__main__":
    run_module(COMMAND)
