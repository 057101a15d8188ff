"""CloudFormation reads, deletes and bounded waits of the sam_deploy hook, against the moto server (no sam needed)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import boto3
import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.sam_deploy.stack import (
    aws_call,
    change_set_ids,
    delete_stack_and_wait,
    describe_stack,
    latest_event_id,
    new_change_set,
    present_resources,
    wait_until_settled,
)
from runway_ext.local.moto_server import ACCOUNT_ID, MotoServer

REGION = "us-east-1"
LOG = logging.getLogger("runway_ext.hooks.sam_deploy.tests")
TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


@pytest.fixture
def cfn(aws: MotoServer) -> Any:
    return boto3.client("cloudformation", region_name=REGION)


def create_stack(cfn: Any, name: str) -> dict[str, Any]:
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(TEMPLATE))
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def force_stack_status(stack_name: str, status: str) -> None:
    """moto finishes every operation at once; a busy stack is made on its backend."""
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[ACCOUNT_ID][REGION]
    next(item for item in backend.stacks.values() if item.name == stack_name).status = status


def test_describe_stack(cfn: Any) -> None:
    assert describe_stack(cfn, "absent") is None
    created = create_stack(cfn, "present")
    found = describe_stack(cfn, "present")
    assert found is not None and found["StackId"] == created["StackId"]
    assert present_resources(cfn, created["StackId"]) == ["Topic"]
    assert latest_event_id(cfn, created["StackId"]) is not None


def test_aws_errors_are_one_line(cfn: Any) -> None:
    with pytest.raises(HookError, match=r"^describe stack events: ValidationError: "):
        aws_call("describe stack events", cfn.describe_stack_events, StackName="absent")


def test_delete_stack_and_wait(cfn: Any, caplog: pytest.LogCaptureFixture) -> None:
    stack = create_stack(cfn, "doomed")
    caplog.set_level(logging.INFO, logger="runway_ext")
    delete_stack_and_wait(cfn, stack, Deadline(30), LOG)
    assert describe_stack(cfn, "doomed") is None
    assert "stack doomed deleted" in caplog.text


def test_settled_stack_is_returned_at_once(cfn: Any) -> None:
    stack = create_stack(cfn, "calm")
    settled = wait_until_settled(cfn, stack, Deadline(30), LOG)
    assert settled is not None and settled["StackStatus"] == "CREATE_COMPLETE"


def test_wait_for_a_busy_stack_ends_at_the_deadline(cfn: Any) -> None:
    stack = create_stack(cfn, "busy")
    force_stack_status("busy", "UPDATE_IN_PROGRESS")
    started = time.monotonic()
    with pytest.raises(HookError, match="waiting for stack busy to leave UPDATE_IN_PROGRESS"):
        wait_until_settled(cfn, {**stack, "StackStatus": "UPDATE_IN_PROGRESS"}, Deadline(1.5), LOG)
    assert time.monotonic() - started < 10


def test_spent_deadline_waits_for_nothing(cfn: Any) -> None:
    stack = create_stack(cfn, "late")
    with pytest.raises(HookError, match="budget was spent before stack late deleted"):
        delete_stack_and_wait(cfn, stack, Deadline(0), LOG)


def test_change_sets_of_an_absent_stack(cfn: Any) -> None:
    assert change_set_ids(cfn, "absent") == set()
    assert new_change_set(cfn, "absent", set()) is None
