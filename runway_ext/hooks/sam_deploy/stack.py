"""CloudFormation reads, writes and bounded waits of the ``sam_deploy`` hook (sam does the deploying).

Every call turns an AWS error into a one-line :class:`HookError`; every wait ends by the hook's
:class:`~runway_ext.core.waiting.Deadline` and polls at Runway's ``CFNGIN_STACK_POLL_TIME``
(default 5 s). What to do with what is read here is decided in :mod:`.plan`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from runway_ext.core.aws import aws_errors, error_message, is_client_error
from runway_ext.core.errors import HookError
from runway_ext.core.waiting import Deadline, wait_until
from runway_ext.hooks.sam_deploy.plan import StackCondition, classify_stack, describe_failures, newest_available_change_set
from runway_ext.hooks.sam_deploy.skip_record import NEW_STACK_MARKER, event_marker, operations_since

MAX_EVENT_PAGES = 20
"""Most ``DescribeStackEvents`` pages read looking for a recorded deploy (100 events each)."""

DEFAULT_POLL_SECONDS = 5.0


def poll_seconds() -> float:
    """Status poll interval: Runway's CFNGIN_STACK_POLL_TIME when set, else 5 s."""
    try:
        return max(0.2, float(os.environ.get("CFNGIN_STACK_POLL_TIME", DEFAULT_POLL_SECONDS)))
    except ValueError:
        return DEFAULT_POLL_SECONDS


def aws_call(what: str, call: Any, **kwargs: Any) -> Any:
    """Call a boto3 method, turning AWS errors into one-line HookErrors."""
    try:
        return call(**kwargs)
    except aws_errors() as error:
        raise HookError(f"{what}: {error_message(error)}") from None


def describe_stack(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The stack (by name or id), or None if there is none."""
    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except aws_errors() as error:
        if is_client_error(error) and "does not exist" in error_message(error):
            return None
        raise HookError(f"describe stack {stack}: {error_message(error)}") from None


def latest_event_id(cfn: Any, stack_id: str) -> str | None:
    """Id of the stack's newest event: it changes exactly when CloudFormation did something to the stack."""
    events = aws_call("describe stack events", cfn.describe_stack_events, StackName=stack_id).get("StackEvents") or []
    return events[0].get("EventId") if events else None


def failed_resources(cfn: Any, stack_id: str) -> dict[str, str]:
    """Resources of the stack whose deletion failed: logical id -> reason."""
    resources = aws_call("describe stack resources", cfn.describe_stack_resources, StackName=stack_id).get("StackResources") or []
    return {
        item["LogicalResourceId"]: item.get("ResourceStatusReason", "")
        for item in resources
        if item.get("LogicalResourceId") and item.get("ResourceStatus") == "DELETE_FAILED"
    }


def present_resources(cfn: Any, stack_id: str) -> list[str]:
    """Logical ids of the stack's resources that still exist."""
    resources = aws_call("describe stack resources", cfn.describe_stack_resources, StackName=stack_id).get("StackResources") or []
    return [
        item["LogicalResourceId"] for item in resources if item.get("LogicalResourceId") and item.get("ResourceStatus") != "DELETE_COMPLETE"
    ]


def wait_until_settled(cfn: Any, stack: dict[str, Any], deadline: Deadline, log: logging.Logger) -> dict[str, Any] | None:
    """Wait until the stack is no longer in an ``*_IN_PROGRESS`` state; return it (None once deleted)."""
    stack_id = stack["StackId"]
    log.info("stack %s is %s; waiting for it to settle", stack["StackName"], stack["StackStatus"])
    latest: dict[str, Any] = {"stack": stack}

    def settled() -> bool:
        current = describe_stack(cfn, stack_id)
        latest["stack"] = current
        return current is None or classify_stack(current["StackStatus"]) is not StackCondition.BUSY

    wait_until(
        settled,
        timeout=deadline.remaining(f"stack {stack['StackName']} settled"),
        what=f"stack {stack['StackName']} to leave {stack['StackStatus']}",
        interval=poll_seconds(),
    )
    current = latest["stack"]
    if current is None or current["StackStatus"] == "DELETE_COMPLETE":
        return None
    return current


def start_delete(cfn: Any, stack: dict[str, Any], retain: list[str] | None = None) -> None:
    """DeleteStack by the stack's id, keeping the ``retain`` resources (only a DELETE_FAILED stack can)."""
    kwargs: dict[str, Any] = {"StackName": stack["StackId"]}
    if retain:
        kwargs["RetainResources"] = list(retain)
    aws_call(f"delete stack {stack['StackName']}", cfn.delete_stack, **kwargs)


def delete_stack_and_wait(
    cfn: Any, stack: dict[str, Any], deadline: Deadline, log: logging.Logger, retain: list[str] | None = None
) -> None:
    """DeleteStack (optionally retaining resources) and wait until it is gone; DELETE_FAILED is an error."""
    name, stack_id = stack["StackName"], stack["StackId"]
    start_delete(cfn, stack, retain)
    outcome: dict[str, str] = {}

    def gone() -> bool:
        current = describe_stack(cfn, stack_id)
        status = current["StackStatus"] if current else "DELETE_COMPLETE"
        outcome["status"] = status
        return status in ("DELETE_COMPLETE", "DELETE_FAILED")

    wait_until(gone, timeout=deadline.remaining(f"stack {name} deleted"), what=f"stack {name} to be deleted", interval=poll_seconds())
    if outcome["status"] == "DELETE_FAILED":
        listing = describe_failures(failed_resources(cfn, stack_id))
        raise HookError(f"stack {name} is DELETE_FAILED; resources that could not be deleted: {listing}")
    log.info("stack %s deleted", name)


def new_change_set(cfn: Any, stack_name: str, known: set[str]) -> str | None:
    """The id of a change set sam created and left for us to execute (None: no changes)."""
    try:
        summaries = cfn.list_change_sets(StackName=stack_name).get("Summaries") or []
    except aws_errors() as error:
        if is_client_error(error) and "does not exist" in error_message(error):
            return None
        raise HookError(f"list change sets of {stack_name}: {error_message(error)}") from None
    return newest_available_change_set(summaries, stack_name, known)


def execute_change_set(cfn: Any, stack_name: str, change_set: str) -> None:
    """Start a change set (it runs on in CloudFormation; nothing waits for it)."""
    aws_call(f"execute change set of {stack_name}", cfn.execute_change_set, ChangeSetName=change_set, StackName=stack_name)


def change_set_ids(cfn: Any, stack_name: str) -> set[str]:
    """Ids of the stack's change sets right now (empty when there is no stack)."""
    try:
        summaries = cfn.list_change_sets(StackName=stack_name).get("Summaries") or []
    except aws_errors() as error:
        if is_client_error(error):
            return set()
        raise HookError(f"list change sets of {stack_name}: {error_message(error)}") from None
    return {item["ChangeSetId"] for item in summaries}


def stack_operations_since(cfn: Any, stack: dict[str, Any], marker: str) -> int | None:
    """How many operations started on the stack after the event ``marker`` stands for (``None``: not found).

    Reads ``DescribeStackEvents`` newest first, page by page, only as far back as the marker (at
    most :data:`MAX_EVENT_PAGES` pages; beyond that the record counts as not found).
    """
    name, stack_id = stack["StackName"], stack["StackId"]
    events: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_EVENT_PAGES):
        kwargs: dict[str, Any] = {"StackName": stack_id}
        if token:
            kwargs["NextToken"] = token
        page = aws_call(f"describe stack events of {name}", cfn.describe_stack_events, **kwargs)
        events.extend(page.get("StackEvents") or [])
        token = page.get("NextToken")
        if marker != NEW_STACK_MARKER and any(event_marker(str(event.get("EventId"))) == marker for event in events):
            break
        if not token:
            break
    else:
        return None
    return operations_since(events, marker, name, stack_id)
