"""Creating and awaiting an invalidation under faults injected into a real client talking to moto (see moto_cloudfront)."""

from __future__ import annotations

import logging
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.cloudfront_invalidation import CloudFrontInvalidationArgs, cfngin_hook
from runway_ext.hooks.cloudfront_invalidation.cloudfront import await_completion, create_invalidation, failure_for, is_retryable
from tests.hooks.cloudfront_invalidation.moto_cloudfront import aws_error, invalidations, report_in_progress

LOG = logging.getLogger("runway_ext.hooks.cloudfront_invalidation.tests")


class InjectingContext(HookContext):
    """A hook context whose boto3 session carries fault-injecting event handlers (the client stays real)."""

    def __init__(self, session: boto3.Session) -> None:
        super().__init__("cloudfront_invalidation", cfngin_hook.log)
        self._injected = session

    def session(self, region: str | None = None) -> boto3.Session:
        return self._injected


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, "CreateInvalidation")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NoSuchDistribution", "distribution_id: no CloudFront distribution E1 in this account"),
        ("AccessDenied", "not allowed to invalidate E1: AccessDenied: injected AccessDenied"),
        ("InvalidArgument", "CloudFront refused the invalidation of E1: InvalidArgument: injected InvalidArgument"),
        ("SomethingElse", "invalidating E1 failed: SomethingElse: injected SomethingElse"),
    ],
)
def test_failures_are_one_line(code: str, message: str) -> None:
    failure = failure_for(client_error(code), "E1")
    assert failure is not None and str(failure) == message


def test_what_is_retried() -> None:
    assert is_retryable(client_error("TooManyInvalidationsInProgress"))
    assert not is_retryable(client_error("Throttling"))  # botocore's own retries handle it (tests/reliability/test_aws_faults.py)
    assert not is_retryable(client_error("ServiceUnavailable"))
    assert not is_retryable(client_error("AccessDenied"))
    assert not is_retryable(ValueError("not AWS"))
    assert failure_for(ValueError("not AWS"), "E1") is None


def test_busy_distribution_is_retried_with_the_same_reference(distribution_id: str) -> None:
    session = boto3.Session()
    bodies: list[str] = []

    def busy_twice(params: dict[str, Any], **_: Any) -> Any:
        bodies.append(params["body"].decode() if isinstance(params.get("body"), bytes) else str(params.get("body")))
        if len(bodies) <= 2:
            return aws_error("TooManyInvalidationsInProgress")
        return None  # the third attempt goes to the moto server

    session.events.register("before-call.cloudfront.CreateInvalidation", busy_twice)
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], timeout=60)
    result = cfngin_hook.execute(args, InjectingContext(session))
    assert len(bodies) == 3
    assert len(set(bodies)) == 1  # every attempt sent the same CallerReference and paths
    assert result["caller_reference"] in bodies[0]
    assert [item["Id"] for item in invalidations(distribution_id)] == [result["invalidation_id"]]


def test_retries_stop_at_the_deadline(distribution_id: str) -> None:
    session = boto3.Session()
    session.events.register("before-call.cloudfront.CreateInvalidation", lambda **_: aws_error("TooManyInvalidationsInProgress"))
    started = time.monotonic()
    with pytest.raises(
        HookError,
        match=rf"^gave up invalidating {distribution_id} \(timeout 2s\): TooManyInvalidationsInProgress: injected TooManyInvalidationsInProgress$",
    ):
        create_invalidation(session.client("cloudfront"), distribution_id, ["/index.html"], "ref-1", Deadline(2))
    assert time.monotonic() - started < 2 + 5  # bounded by the timeout (plus one request's slack)
    assert invalidations(distribution_id) == []


def test_spent_deadline_sends_nothing(distribution_id: str) -> None:
    with pytest.raises(HookError, match=f"budget was spent before invalidating {distribution_id}"):
        create_invalidation(boto3.client("cloudfront"), distribution_id, ["/index.html"], "ref-1", Deadline(0))
    assert invalidations(distribution_id) == []


def test_unknown_distribution_is_not_retried(aws: Any) -> None:
    started = time.monotonic()
    with pytest.raises(HookError, match="^distribution_id: no CloudFront distribution E0000000000000 in this account$"):
        create_invalidation(boto3.client("cloudfront"), "E0000000000000", ["/index.html"], "ref-1", Deadline(60))
    assert time.monotonic() - started < 5


def test_wait_polls_until_completed_in_any_letter_case(distribution_id: str) -> None:
    session = boto3.Session()
    polls: list[str] = []
    session.events.register("after-call.cloudfront.GetInvalidation", lambda parsed, **_: polls.append(parsed["Invalidation"]["Status"]))
    client = session.client("cloudfront")
    created = create_invalidation(client, distribution_id, ["/index.html"], "ref-1", Deadline(30))
    assert await_completion(client, distribution_id, created["Id"], Deadline(30), LOG) == "Completed"
    assert len(polls) == 1 and polls[0].lower() == "completed"  # moto's COMPLETED (or Completed, as AWS spells it) accepted


def test_wait_fails_clearly_at_the_deadline(distribution_id: str) -> None:
    session = boto3.Session()
    session.events.register("after-call.cloudfront.CreateInvalidation", report_in_progress)
    session.events.register("after-call.cloudfront.GetInvalidation", report_in_progress)
    args = CloudFrontInvalidationArgs(distribution_id=distribution_id, paths=["/index.html"], wait=True, timeout=2)
    with pytest.raises(HookError, match=r"still InProgress when the 2s timeout ran out \(it goes on in CloudFront"):
        cfngin_hook.execute(args, InjectingContext(session))


def test_a_refusal_while_waiting_is_not_a_timeout(distribution_id: str) -> None:
    session = boto3.Session()
    session.events.register("before-call.cloudfront.GetInvalidation", lambda **_: aws_error("AccessDenied", 403))
    client = session.client("cloudfront")
    created = create_invalidation(client, distribution_id, ["/index.html"], "ref-1", Deadline(30))
    with pytest.raises(HookError, match=f"^not allowed to invalidate {distribution_id}: AccessDenied"):
        await_completion(client, distribution_id, created["Id"], Deadline(30), LOG)
