"""``sam_deploy`` without ``s3_bucket``: one line naming the fix; ``create_s3_bucket`` creates the named bucket once.

The real sam CLI against moto, on the tiny SAM app of the other tests (a function with local code, so sam must
upload it somewhere). A bucket is created only when ``create_s3_bucket: true`` asks for it, and reused after.
"""

from __future__ import annotations

import logging
from pathlib import Path

import boto3
import pytest

from runway_ext.hooks.sam_deploy import cfngin_hook
from runway_ext.local.moto_server import MotoServer
from tests.hooks.sam_deploy.test_hook import REGION, all_parameters

pytestmark = pytest.mark.sam


def buckets() -> list[str]:
    return [bucket["Name"] for bucket in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]]


def test_no_bucket_is_one_line_naming_the_fix(sam: str, sam_app: Path, aws: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    arguments = {"template_file": str(sam_app / "template.yaml"), "stack_name": "no-bucket", "sam_executable": sam}
    assert cfngin_hook(None, None, **arguments, parameters=all_parameters("nb-data")) is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [
        "sam_deploy: s3_bucket: sam deploy needs a bucket for this app's code and template: set s3_bucket to a bucket of "
        "yours (add create_s3_bucket: true to have it created once and reused), or resolve_s3: true for SAM's managed bucket"
    ], errors
    assert buckets() == []  # nothing created unasked


def test_create_s3_bucket_creates_the_named_bucket_once_and_reuses_it(sam: str, sam_app: Path, aws: MotoServer) -> None:
    arguments = {
        "template_file": str(sam_app / "template.yaml"),
        "sam_executable": sam,
        "s3_bucket": "my-sam-artifacts",
        "create_s3_bucket": True,
    }
    first = cfngin_hook(None, None, stack_name="with-bucket", parameters=all_parameters("cb-data"), **arguments)
    assert first and first["status"] == "CREATE_COMPLETE"
    assert "my-sam-artifacts" in buckets()
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_public_access_block(Bucket="my-sam-artifacts")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    uploaded = s3.list_objects_v2(Bucket="my-sam-artifacts").get("KeyCount", 0)
    assert uploaded > 0
    second = cfngin_hook(None, None, stack_name="with-bucket-too", parameters=all_parameters("cb-data-2"), **arguments)  # an existing bucket of ours: reused
    assert second and second["status"] == "CREATE_COMPLETE"
    assert buckets().count("my-sam-artifacts") == 1


def test_create_s3_bucket_without_a_name_is_refused(sam: str, sam_app: Path, aws: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    arguments = {"template_file": str(sam_app / "template.yaml"), "stack_name": "x", "sam_executable": sam, "create_s3_bucket": True}
    assert cfngin_hook(None, None, **arguments) is False
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == [
        "sam_deploy: s3_bucket, create_s3_bucket: create_s3_bucket needs s3_bucket (the name of the bucket to create and reuse)"
    ]
