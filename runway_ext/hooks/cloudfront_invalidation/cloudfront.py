"""Talking to CloudFront: create one invalidation (retried while CloudFront is busy) and await it, both bounded.

Both calls end by the hook's :class:`~runway_ext.core.waiting.Deadline`. Retries resend the same
request (same ``CallerReference``), so CloudFront never makes a second invalidation. An AWS error
the user can act on becomes a one-line :class:`HookError` naming the distribution.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from runway_ext.core.aws import error_code, error_message
from runway_ext.core.errors import HookError
from runway_ext.core.waiting import Deadline, retry, wait_until
from runway_ext.hooks.cloudfront_invalidation.plan import canonical_status

RETRYABLE_CODES = frozenset({"TooManyInvalidationsInProgress"})
"""CloudFront's own "busy, try again later", which botocore treats as final. Throttling and 5xx answers are
not listed: every client's standard retry mode (:func:`~runway_ext.core.aws.client_config`) already retries
those inside each call, and a second loop around it would only multiply the attempts."""

POLL_INTERVAL = 5.0
"""Seconds between two ``GetInvalidation`` calls while waiting, after :data:`FIRST_POLLS`."""
FIRST_POLLS = (1.0, 1.0, 2.0, 3.0)
"""The first waits: a small invalidation often completes in seconds, so it is noticed without a 5 s lag."""


def is_retryable(error: Exception) -> bool:
    """Whether CloudFront was busy with other invalidations (worth asking again; see :data:`RETRYABLE_CODES`)."""
    return error_code(error) in RETRYABLE_CODES


def failure_for(error: Exception, distribution_id: str) -> HookError | None:
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


def create_invalidation(client: Any, distribution_id: str, paths: list[str], reference: str, deadline: Deadline) -> dict[str, Any]:
    """CreateInvalidation, retried while CloudFront is busy until the deadline (botocore retries throttling); returns the Invalidation."""

    def create() -> dict[str, Any]:
        return client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
        )["Invalidation"]

    remaining = deadline.remaining(f"invalidating {distribution_id}")
    try:
        return retry(create, should_retry=is_retryable, timeout=remaining, what=f"invalidating {distribution_id}")
    except HookError as error:  # retries spent: name the last AWS error in one line
        cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
        raise HookError(f"gave up invalidating {distribution_id} (timeout {deadline.seconds:g}s): {error_message(cause)}") from None
    except Exception as error:
        failure = failure_for(error, distribution_id)
        if failure is None:
            raise
        raise failure from None


def await_completion(client: Any, distribution_id: str, invalidation_id: str, deadline: Deadline, log: logging.Logger) -> str:
    """Poll GetInvalidation until Completed (any letter case); at the deadline a HookError saying it goes on."""
    last = {"status": "InProgress"}
    failures: list[HookError] = []

    def completed() -> bool:
        try:
            status = client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)["Invalidation"]["Status"]
        except Exception as error:
            if is_retryable(error):
                return False
            failure = failure_for(error, distribution_id)
            if failure is None:
                raise
            failures.append(failure)
            raise failure from None
        last["status"] = canonical_status(status)
        log.debug("invalidation %s: %s", invalidation_id, last["status"])
        return last["status"] == "Completed"

    try:
        # asked at least once, even when the budget is already spent
        first_polls = iter(FIRST_POLLS)
        wait_until(
            completed,
            timeout=max(deadline.left(), 0.0),
            what=f"invalidation {invalidation_id}",
            interval=POLL_INTERVAL,
            sleep=lambda seconds: time.sleep(min(seconds, next(first_polls, seconds))),
        )
    except HookError:
        if failures:  # CloudFront refused, not the clock
            raise
        raise HookError(
            f"invalidation {invalidation_id} on {distribution_id} still {last['status']} when the {deadline.seconds:g}s timeout ran out "
            "(it goes on in CloudFront; raise timeout or set wait: false)"
        ) from None
    return "Completed"
