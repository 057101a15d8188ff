"""Decisions about the stack: its states, a deploy's outcome, what it reports back (pure)."""

from __future__ import annotations

import pytest

from runway_ext.hooks.sam_deploy.plan import (
    StackCondition,
    classify_stack,
    deploy_outcome,
    describe_failures,
    newest_available_change_set,
    outputs_dict,
    parameters_dict,
    plan_delete,
    plan_deploy,
    plan_retain_retry,
    retains_resources,
)

# -- stack states ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "condition"),
    [
        (None, StackCondition.ABSENT),
        ("DELETE_COMPLETE", StackCondition.ABSENT),
        ("CREATE_COMPLETE", StackCondition.READY),
        ("UPDATE_COMPLETE", StackCondition.READY),
        ("UPDATE_ROLLBACK_COMPLETE", StackCondition.READY),
        ("UPDATE_FAILED", StackCondition.READY),
        ("IMPORT_COMPLETE", StackCondition.READY),
        ("REVIEW_IN_PROGRESS", StackCondition.READY),
        ("CREATE_IN_PROGRESS", StackCondition.BUSY),
        ("UPDATE_IN_PROGRESS", StackCondition.BUSY),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StackCondition.BUSY),
        ("ROLLBACK_IN_PROGRESS", StackCondition.BUSY),
        ("DELETE_IN_PROGRESS", StackCondition.BUSY),
        ("ROLLBACK_COMPLETE", StackCondition.FAILED_CREATE),
        ("ROLLBACK_FAILED", StackCondition.FAILED_CREATE),
        ("CREATE_FAILED", StackCondition.FAILED_CREATE),
        ("DELETE_FAILED", StackCondition.FAILED_CREATE),
        ("UPDATE_ROLLBACK_FAILED", StackCondition.NEEDS_OPERATOR),
        ("IMPORT_ROLLBACK_FAILED", StackCondition.NEEDS_OPERATOR),
        ("SOMETHING_NEW", StackCondition.NEEDS_OPERATOR),
    ],
)
def test_classify_stack(status: str | None, condition: StackCondition) -> None:
    assert classify_stack(status) is condition


@pytest.mark.parametrize("status", [None, "CREATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])
def test_deployable_states_deploy(status: str | None) -> None:
    assert plan_deploy("app", status, delete_failed_stack=False).action == "deploy"


def test_busy_stack_is_waited_for() -> None:
    decision = plan_deploy("app", "UPDATE_IN_PROGRESS", delete_failed_stack=True)
    assert decision.action == "wait"
    assert "UPDATE_IN_PROGRESS" in decision.reason


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"])
def test_failed_creation_is_deleted_when_allowed(status: str) -> None:
    assert plan_deploy("app", status, delete_failed_stack=True).action == "delete_then_deploy"


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "DELETE_FAILED"])
def test_failed_creation_refused_names_state_and_option(status: str) -> None:
    decision = plan_deploy("app", status, delete_failed_stack=False)
    assert decision.action == "refuse"
    assert status in decision.reason
    assert "delete_failed_stack" in decision.reason
    assert "app" in decision.reason


def test_failed_update_rollback_is_never_deleted() -> None:
    decision = plan_deploy("app", "UPDATE_ROLLBACK_FAILED", delete_failed_stack=True)
    assert decision.action == "refuse"
    assert "continue-update-rollback" in decision.reason
    assert "UPDATE_ROLLBACK_FAILED" in decision.reason


def test_delete_plans() -> None:
    assert plan_delete(None, ["A"]).action == "nothing"
    assert plan_delete("CREATE_COMPLETE", ["A"]).action == "sam_delete"
    assert plan_delete("DELETE_FAILED", []).action == "sam_delete"
    assert plan_delete("UPDATE_IN_PROGRESS", []).action == "wait"
    assert plan_delete("REVIEW_IN_PROGRESS", []).action == "sam_delete"
    retaining = plan_delete("DELETE_FAILED", ["Bucket", "Gone", "Table"], ["Table", "Bucket", "Other"])
    assert retaining.action == "delete_retaining"
    assert retaining.retain == ("Bucket", "Table")


def test_delete_plans_mention_what_retain_resources_can_do() -> None:
    assert "only resources whose deletion fails" in plan_delete("CREATE_COMPLETE", ["A"]).reason
    assert plan_delete("CREATE_COMPLETE", []).reason == ""


def test_delete_without_wait_only_starts_the_deletion() -> None:
    assert plan_delete(None, ["A"], wait=False).action == "nothing"
    assert plan_delete("UPDATE_IN_PROGRESS", ["A"], wait=False) == plan_delete("CREATE_COMPLETE", ["A"], wait=False)
    assert plan_delete("CREATE_COMPLETE", ["A"], ["A"], wait=False).retain == ()  # only a DELETE_FAILED stack keeps resources
    no_wait = plan_delete("DELETE_FAILED", ["A", "B"], ["B"], wait=False)
    assert (no_wait.action, no_wait.retain) == ("start_delete", ("B",))


@pytest.mark.parametrize(
    ("status", "retain", "expected"),
    [("DELETE_FAILED", ["A"], True), ("DELETE_FAILED", [], False), ("CREATE_COMPLETE", ["A"], False), (None, ["A"], False)],
)
def test_retains_resources(status: str | None, retain: list[str], expected: bool) -> None:
    assert retains_resources(status, retain) is expected


def test_describe_failures() -> None:
    assert describe_failures({"Bucket": "not empty", "Role": ""}) == "Bucket (not empty); Role"
    assert describe_failures({}) == "see the stack events"


def test_retain_retry_only_when_every_failure_is_listed() -> None:
    assert plan_retain_retry({"Bucket": "not empty"}, ["Bucket", "Table"]) == (["Bucket"], [])
    retain, blocking = plan_retain_retry({"Bucket": "not empty", "Role": "in use"}, ["Bucket"])
    assert retain == ["Bucket"]
    assert blocking == ["Role (in use)"]


# -- outcomes ----------------------------------------------------------------------------------


def outcome(
    *,
    waited: bool = True,
    started: bool = False,
    before: str | None = "id-1",
    after: str = "id-1",
    events: tuple[str | None, str | None] = ("e1", "e1"),
) -> tuple[str, bool]:
    return deploy_outcome(
        waited=waited,
        change_set_started=started,
        previous_stack_id=before,
        final_stack_id=after,
        previous_event=events[0],
        latest_event=events[1],
    )


def test_deploy_outcome() -> None:
    assert outcome(before=None, events=(None, "e1")) == ("created", True)
    assert outcome(before="old", after="new") == ("created", True)  # a failed stack was replaced
    assert outcome(events=("e1", "e2")) == ("updated", True)
    assert outcome() == ("unchanged", False)
    assert outcome(waited=False, started=True) == ("executing", True)
    assert outcome(waited=False, started=False, events=("e1", None)) == ("unchanged", False)


def test_newest_available_change_set() -> None:
    summaries = [
        {"StackName": "app", "ChangeSetId": "known", "ExecutionStatus": "AVAILABLE", "CreationTime": "2024-01-03"},
        {"StackName": "app", "ChangeSetId": "older", "ExecutionStatus": "AVAILABLE", "CreationTime": "2024-01-01"},
        {"StackName": "app", "ChangeSetId": "newer", "ExecutionStatus": "AVAILABLE", "CreationTime": "2024-01-02"},
        {"StackName": "app", "ChangeSetId": "done", "ExecutionStatus": "EXECUTE_COMPLETE", "CreationTime": "2024-01-04"},
        {"StackName": "other", "ChangeSetId": "theirs", "ExecutionStatus": "AVAILABLE", "CreationTime": "2024-01-05"},
    ]
    assert newest_available_change_set(summaries, "app", {"known"}) == "newer"
    assert newest_available_change_set(summaries, "app", {"known", "older", "newer"}) is None
    assert newest_available_change_set([], "app", set()) is None


def test_outputs_and_parameters_dicts() -> None:
    stack = {
        "Outputs": [{"OutputKey": "Url", "OutputValue": "https://x"}, {"OutputKey": "Empty"}],
        "Parameters": [{"ParameterKey": "Env", "ParameterValue": "dev"}],
    }
    assert outputs_dict(stack) == {"Url": "https://x", "Empty": ""}
    assert parameters_dict(stack) == {"Env": "dev"}
    assert outputs_dict({}) == {}
