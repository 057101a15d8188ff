"""Pure decisions of the ``sam_deploy`` hook about the stack: name rules, what its status allows a deploy or a
delete to do, what a finished deploy did, and what the stack reports back.

Nothing here touches the network, the disk or a process (:mod:`.inputs`, :mod:`.stack` and
:mod:`.sam_cli` do that). The other pure parts live beside it, one concept each:
:mod:`.parameters` (parameters for ``sam``), :mod:`.commands` (``sam`` command lines and
environment), :mod:`.skip_record` (skipping an unchanged deploy), :mod:`.template` (a template's
local inputs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
"""CloudFormation's rule for stack names."""

LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
"""CloudFormation's rule for logical resource ids."""

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND", "CAPABILITY_RESOURCE_POLICY")
"""The capabilities CloudFormation knows."""


# -- stack states ------------------------------------------------------------------------------


class StackCondition(str, Enum):
    """What a stack's status means for a deploy."""

    ABSENT = "absent"
    """No stack (or only a deleted one): sam creates it."""
    READY = "ready"
    """sam can create a change set for it (create or update)."""
    BUSY = "busy"
    """An operation is running: wait for it to settle, then look again."""
    FAILED_CREATE = "failed_create"
    """Its creation failed (or a delete did): CloudFormation allows nothing but deleting it."""
    NEEDS_OPERATOR = "needs_operator"
    """A failed rollback of a stack that once worked: a person must decide (never deleted for them)."""


READY_STATES = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_FAILED",  # left by a failed update with rollback disabled; CloudFormation accepts a new update
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",  # a stack made by a change set never executed; sam creates a new change set
    }
)
FAILED_CREATE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
NEEDS_OPERATOR_STATES = frozenset({"UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"})


def classify_stack(status: str | None) -> StackCondition:
    """Classify a CloudFormation ``StackStatus`` (``None`` when there is no stack)."""
    if status is None or status == "DELETE_COMPLETE":
        return StackCondition.ABSENT
    if status in READY_STATES:
        return StackCondition.READY
    if status in FAILED_CREATE_STATES:
        return StackCondition.FAILED_CREATE
    if status in NEEDS_OPERATOR_STATES:
        return StackCondition.NEEDS_OPERATOR
    if status.endswith("_IN_PROGRESS"):
        return StackCondition.BUSY
    return StackCondition.NEEDS_OPERATOR


@dataclass(frozen=True)
class DeployDecision:
    """What to do before running ``sam deploy``."""

    action: Literal["deploy", "wait", "delete_then_deploy", "refuse"]
    reason: str = ""


def plan_deploy(stack_name: str, status: str | None, *, delete_failed_stack: bool) -> DeployDecision:
    """Decide how to deploy over a stack in ``status`` (``None``: no stack)."""
    condition = classify_stack(status)
    if condition in (StackCondition.ABSENT, StackCondition.READY):
        return DeployDecision("deploy")
    if condition is StackCondition.BUSY:
        return DeployDecision("wait", f"stack {stack_name} is {status}")
    if condition is StackCondition.FAILED_CREATE:
        if delete_failed_stack:
            return DeployDecision("delete_then_deploy", f"stack {stack_name} is {status}; deleting it before deploying again")
        return DeployDecision(
            "refuse",
            f"stack {stack_name} is {status}: CloudFormation can only delete it; set delete_failed_stack: true "
            "(--delete-failed-stack) to delete it and deploy again, or delete it yourself",
        )
    advice = (
        "continue the rollback (aws cloudformation continue-update-rollback) or delete the stack yourself"
        if status == "UPDATE_ROLLBACK_FAILED"
        else "resolve it in CloudFormation first"
    )
    return DeployDecision(
        "refuse",
        f"stack {stack_name} is {status}: a rollback of a stack that once worked failed; it is never deleted "
        f"automatically (not even with delete_failed_stack); {advice}",
    )


@dataclass(frozen=True)
class DeleteDecision:
    """What the delete hook does with a stack."""

    action: Literal["nothing", "wait", "sam_delete", "delete_retaining", "start_delete"]
    """``nothing`` (no stack), ``wait`` (busy: settle first, then decide again), ``sam_delete``,
    ``delete_retaining`` (DeleteStack keeping ``retain``, then wait), ``start_delete`` (DeleteStack, no wait)."""
    retain: tuple[str, ...] = ()
    reason: str = ""


def retains_resources(status: str | None, retain_resources: Sequence[str]) -> bool:
    """Whether deleting a stack in ``status`` can keep resources (then the stack's present resources are needed).

    CloudFormation keeps resources (``RetainResources``) only when deleting a stack that is already
    ``DELETE_FAILED``.
    """
    return status == "DELETE_FAILED" and bool(retain_resources)


def plan_delete(
    status: str | None, retain_resources: Sequence[str], present_resources: Iterable[str] = (), *, wait: bool = True
) -> DeleteDecision:
    """Decide how to delete a stack in ``status``.

    For a ``DELETE_FAILED`` stack with ``retain_resources`` (see :func:`retains_resources`) the
    listed resources still in the stack (``present_resources``) are retained and the rest deleted.
    Any other stack is deleted by ``sam delete`` (which also removes its uploaded artifacts), after
    waiting for a running operation to settle. Without ``wait`` CloudFormation's DeleteStack is only
    started (sam's uploaded artifacts are left in place).
    """
    if classify_stack(status) is StackCondition.ABSENT:
        return DeleteDecision("nothing", reason="no such stack")
    retain: tuple[str, ...] = ()
    if retains_resources(status, retain_resources):
        present = set(present_resources)
        retain = tuple(name for name in retain_resources if name in present)
    if not wait:
        return DeleteDecision("start_delete", retain)
    if retains_resources(status, retain_resources):
        return DeleteDecision("delete_retaining", retain)
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return DeleteDecision("wait", reason=f"stack is {status}")
    if retain_resources:
        return DeleteDecision(
            "sam_delete", reason="retain_resources: CloudFormation keeps only resources whose deletion fails; the others are deleted"
        )
    return DeleteDecision("sam_delete")


def plan_retain_retry(failed_resources: Mapping[str, str], retain_resources: Sequence[str]) -> tuple[list[str], list[str]]:
    """After a delete ended ``DELETE_FAILED``: which failed resources to retain on a retry, and which block it.

    ``failed_resources`` maps logical id -> CloudFormation's reason. A retry can only succeed if
    every failed resource is retained, so the retry happens only when all are in
    ``retain_resources``; the second list names those that are not (with their reasons).
    """
    wanted = set(retain_resources)
    retain = [name for name in failed_resources if name in wanted]
    blocking = {name: reason for name, reason in failed_resources.items() if name not in wanted}
    return retain, _failure_items(blocking)


def describe_failures(failed_resources: Mapping[str, str]) -> str:
    """``Bucket (not empty); Role`` for resources whose deletion failed (``see the stack events`` if none are known)."""
    return "; ".join(_failure_items(failed_resources)) or "see the stack events"


def _failure_items(failed_resources: Mapping[str, str]) -> list[str]:
    return [f"{name} ({reason})" if reason else name for name, reason in failed_resources.items()]


# -- outcomes ----------------------------------------------------------------------------------

DeployAction = Literal["created", "updated", "unchanged", "executing"]
"""What a deploy did to the stack."""


def deploy_outcome(
    *,
    waited: bool,
    change_set_started: bool,
    previous_stack_id: str | None,
    final_stack_id: str,
    previous_event: str | None,
    latest_event: str | None,
) -> tuple[DeployAction, bool]:
    """What a finished ``sam deploy`` did, and whether the stack changed.

    Without waiting, a change set the hook started means ``executing``. Otherwise a stack id
    other than the one before the deploy means ``created``; the same stack changed exactly when
    its newest event did (``updated``), which holds on real AWS where a no-change deploy leaves
    no event; anything else is ``unchanged``.
    """
    if not waited:
        return ("executing", True) if change_set_started else ("unchanged", False)
    if final_stack_id != previous_stack_id:
        return "created", True
    if latest_event != previous_event:
        return "updated", True
    return "unchanged", False


def newest_available_change_set(summaries: Iterable[Mapping[str, Any]], stack_name: str, known: Iterable[str]) -> str | None:
    """Id of the newest change set of ``stack_name`` that is ready to execute and not in ``known`` (``None``: none)."""
    seen = set(known)
    fresh = [
        item
        for item in summaries
        if item.get("StackName") == stack_name and item.get("ChangeSetId") not in seen and item.get("ExecutionStatus") == "AVAILABLE"
    ]
    fresh.sort(key=lambda item: str(item.get("CreationTime", "")))
    return str(fresh[-1]["ChangeSetId"]) if fresh else None


# -- results -----------------------------------------------------------------------------------


def outputs_dict(stack: Mapping[str, Any]) -> dict[str, str]:
    """A ``describe_stacks`` stack's Outputs as ``{OutputKey: OutputValue}``."""
    return {str(item["OutputKey"]): str(item.get("OutputValue", "")) for item in stack.get("Outputs") or []}


def parameters_dict(stack: Mapping[str, Any]) -> dict[str, str]:
    """A ``describe_stacks`` stack's Parameters as ``{ParameterKey: ParameterValue}``."""
    return {str(item["ParameterKey"]): str(item.get("ParameterValue", "")) for item in stack.get("Parameters") or []}
