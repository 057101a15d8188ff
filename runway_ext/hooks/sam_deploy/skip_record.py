"""Skipping an unchanged deploy: the record each deploy leaves in a stack tag, and whether it proves a skip. Pure.

A deploy is skipped only when the stack provably already holds what these inputs deploy (see
:func:`plan_skip`): the inputs' fingerprint (:mod:`.fingerprint`) recorded in a stack tag by the
deploy that made the stack's current state, and no stack operation since
(:func:`operations_since`, :func:`unchanged_by_others`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RECORD_TAG = "runway-ext:sam-deploy"
"""The stack tag in which each deploy records the fingerprint of its inputs (and where the stack stood before)."""

RECORD_VERSION = "v1"
"""Version of the record's format and of what the fingerprint covers; a new version never matches an old record."""

CHANGING_INPUTS = "changed-during-build"
"""Recorded instead of a fingerprint when the inputs changed while ``sam build`` ran: it matches no fingerprint."""

NEW_STACK_MARKER = "new"
"""The record's marker when the deploy created the stack (there was no event before it)."""

SKIPPABLE_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
"""Stack states a skip can stand on: the last operation succeeded (a rollback, failure or import never counts)."""

OPERATION_STARTS = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "IMPORT_IN_PROGRESS",
        "DELETE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_IN_PROGRESS",
    }
)
"""Stack-level event statuses that start an operation on the stack (``REVIEW_IN_PROGRESS`` only
reserves a new stack's name for a change set; the ``…_CLEANUP_IN_PROGRESS`` states end one)."""


def event_marker(event_id: str | None) -> str:
    """The record's short, tag-safe stand-in for the stack's newest event id before a deploy."""
    if event_id is None:
        return NEW_STACK_MARKER
    import hashlib

    return hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:20]


def record_value(fingerprint: str, previous_event: str | None) -> str:
    """The tag value a deploy records: ``v1:<fingerprint>:<marker of the newest event before it>``."""
    return f"{RECORD_VERSION}:{fingerprint}:{event_marker(previous_event)}"


def record_tag(fingerprint: str, previous_event: str | None) -> str:
    """The record as a ``sam deploy --tags`` item."""
    return f"{RECORD_TAG}={record_value(fingerprint, previous_event)}"


@dataclass(frozen=True)
class DeployRecord:
    """What a deploy recorded on the stack."""

    fingerprint: str
    marker: str


def read_record(stack: Mapping[str, Any]) -> DeployRecord | None:
    """The record in a ``describe_stacks`` stack's tags (``None``: none, or another version's)."""
    for tag in stack.get("Tags") or []:
        if tag.get("Key") == RECORD_TAG:
            version, _, rest = str(tag.get("Value", "")).partition(":")
            fingerprint, _, marker = rest.partition(":")
            if version == RECORD_VERSION and fingerprint and marker:
                return DeployRecord(fingerprint, marker)
    return None


@dataclass(frozen=True)
class SkipDecision:
    """Whether the deploy can be skipped; ``reason`` says why (or why not) in a few words."""

    skip: bool
    reason: str
    record: DeployRecord | None = None


def plan_skip(stack: Mapping[str, Any] | None, fingerprint: str | None, *, force: bool) -> SkipDecision:
    """First half of the skip decision, from the stack alone: is there a successful stack recording these inputs?

    A ``skip`` here is provisional: :func:`operations_since` must then find exactly one stack
    operation (the recording deploy) since the record's marker.
    """
    if force:
        return SkipDecision(False, "force: true")
    if fingerprint is None:
        return SkipDecision(False, "the inputs could not be fingerprinted")
    if stack is None:
        return SkipDecision(False, "no stack yet")
    status = str(stack.get("StackStatus"))
    if status not in SKIPPABLE_STATES:
        return SkipDecision(False, f"stack is {status}")
    record = read_record(stack)
    if record is None:
        return SkipDecision(False, f"stack has no {RECORD_TAG} tag of this hook version")
    if record.fingerprint != fingerprint:
        return SkipDecision(False, "inputs changed since the last deploy")
    return SkipDecision(True, "inputs unchanged", record)


def is_operation_start(event: Mapping[str, Any], stack_name: str, stack_id: str) -> bool:
    """Whether ``event`` starts an operation on the stack itself (not on a resource or nested stack)."""
    if event.get("ResourceType") != "AWS::CloudFormation::Stack" or event.get("LogicalResourceId") != stack_name:
        return False
    physical = event.get("PhysicalResourceId")
    return (not physical or physical == stack_id) and event.get("ResourceStatus") in OPERATION_STARTS


def operations_since(events_newest_first: Iterable[Mapping[str, Any]], marker: str, stack_name: str, stack_id: str) -> int | None:
    """How many stack operations started after the event ``marker`` stands for (``None``: marker not among the events).

    For :data:`NEW_STACK_MARKER` every event counts (the record was made by the stack's creation).
    Exactly one means the deploy that wrote the record made the stack's current state; more mean
    something changed the stack since (an update by hand, in the console, by another tool — even one
    that changed only tags or parameters).
    """
    count = 0
    for event in events_newest_first:
        if marker != NEW_STACK_MARKER and event_marker(str(event.get("EventId"))) == marker:
            return count
        if is_operation_start(event, stack_name, stack_id):
            count += 1
    return count if marker == NEW_STACK_MARKER else None


def unchanged_by_others(operations: int | None) -> SkipDecision:
    """Second half of the skip decision, from the stack's events."""
    if operations is None:
        return SkipDecision(False, "the stack's events no longer reach back to the recorded deploy")
    if operations != 1:
        return SkipDecision(False, f"the stack was changed since the recorded deploy ({operations} operations since)")
    return SkipDecision(True, "inputs unchanged and the stack untouched since the recorded deploy")


def samconfig_tags(document: Mapping[str, Any], env: str | None) -> list[str]:
    """The ``tags`` a samconfig document gives ``sam deploy`` in ``env`` (``default``), as ``--tags`` items.

    sam takes command-line ``--tags`` instead of the samconfig's, so the hook passes these first,
    then its record: the stack keeps the tags its samconfig sets.
    """
    section = document.get(env or "default")
    if not isinstance(section, Mapping):
        return []
    for command in ("deploy", "global"):
        parameters = section.get(command, {}).get("parameters", {}) if isinstance(section.get(command), Mapping) else {}
        tags = parameters.get("tags") if isinstance(parameters, Mapping) else None
        if isinstance(tags, str) and tags.strip():
            return [tags]
        if isinstance(tags, list):
            return [str(item) for item in tags if str(item).strip()]
    return []
