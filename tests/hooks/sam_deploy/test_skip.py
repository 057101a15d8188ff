"""Skipping an unchanged SAM deploy: the fingerprint, the record on the stack, and the real hook against moto.

A skip starts no ``sam`` process: :class:`~tests.support.process_watch.ProcessWatch` polls ``/proc``
for any process whose command line holds the sam executable, and each test that expects a skip also
shows the watcher seeing sam in a run that deploys. moto's one stand-in (change-set tags) is the
``aws_change_set_tags`` fixture of this folder's conftest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runway_ext.hooks.sam_deploy import SamDeployArgs
from runway_ext.hooks.sam_deploy.commands import DeployTarget, SamCommonOptions, deploy_command
from runway_ext.hooks.sam_deploy.fingerprint import sam_identity
from runway_ext.hooks.sam_deploy.inputs import read_deploy_inputs, read_samconfig_tags
from runway_ext.hooks.sam_deploy.skip_record import (
    NEW_STACK_MARKER,
    RECORD_TAG,
    event_marker,
    operations_since,
    plan_skip,
    read_record,
    record_value,
    samconfig_tags,
    unchanged_by_others,
)
from runway_ext.hooks.sam_deploy.template import artifact_paths, load_template_document
from runway_ext.local.moto_server import ACCOUNT_ID, MotoServer
from tests.hooks.sam_deploy.sam_app import REGION, cfn, deploy, digest_of, watched_deploy

DIGEST = "a" * 64


# -- the pure decision ---------------------------------------------------------------------------


def stack_with(status: str = "UPDATE_COMPLETE", record: str | None = None) -> dict[str, Any]:
    tags = [{"Key": "owner", "Value": "team"}]
    if record is not None:
        tags.append({"Key": RECORD_TAG, "Value": record})
    return {"StackName": "app", "StackId": "arn:stack/app/1", "StackStatus": status, "Tags": tags}


def stack_event(event_id: str, status: str, *, logical: str = "app", kind: str = "AWS::CloudFormation::Stack") -> dict[str, Any]:
    return {
        "EventId": event_id,
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "ResourceStatus": status,
        "PhysicalResourceId": "arn:stack/app/1",
    }


def test_record_round_trips_and_other_versions_never_match() -> None:
    value = record_value(DIGEST, "event-1")
    assert read_record(stack_with(record=value)).fingerprint == DIGEST  # type: ignore[union-attr]
    assert read_record(stack_with(record=value)).marker == event_marker("event-1")  # type: ignore[union-attr]
    assert read_record(stack_with(record="v0:" + DIGEST + ":x")) is None
    assert read_record(stack_with(record="v1:" + DIGEST)) is None
    assert read_record(stack_with()) is None
    assert record_value(DIGEST, None).endswith(":" + NEW_STACK_MARKER)
    assert len(record_value(DIGEST, "x" * 500)) <= 256  # a tag value's limit


@pytest.mark.parametrize(
    ("status", "record", "fingerprint", "force", "skip"),
    [
        ("UPDATE_COMPLETE", record_value(DIGEST, "e"), DIGEST, False, True),
        ("CREATE_COMPLETE", record_value(DIGEST, None), DIGEST, False, True),
        ("UPDATE_COMPLETE", record_value(DIGEST, "e"), DIGEST, True, False),  # force
        ("UPDATE_COMPLETE", record_value(DIGEST, "e"), "b" * 64, False, False),  # inputs changed
        ("UPDATE_COMPLETE", record_value(DIGEST, "e"), None, False, False),  # not fingerprinted
        ("UPDATE_COMPLETE", None, DIGEST, False, False),  # never recorded
        ("UPDATE_ROLLBACK_COMPLETE", record_value(DIGEST, "e"), DIGEST, False, False),  # failed update
        ("ROLLBACK_COMPLETE", record_value(DIGEST, None), DIGEST, False, False),  # failed creation
        ("UPDATE_FAILED", record_value(DIGEST, "e"), DIGEST, False, False),
        ("UPDATE_IN_PROGRESS", record_value(DIGEST, "e"), DIGEST, False, False),
        ("IMPORT_COMPLETE", record_value(DIGEST, "e"), DIGEST, False, False),
    ],
)
def test_plan_skip(status: str, record: str | None, fingerprint: str | None, force: bool, skip: bool) -> None:
    assert plan_skip(stack_with(status, record), fingerprint, force=force).skip is skip


def test_no_stack_is_never_skipped() -> None:
    assert not plan_skip(None, DIGEST, force=False).skip


def test_exactly_one_operation_since_the_marker_is_the_recording_deploy() -> None:
    ours = [stack_event("e3", "UPDATE_COMPLETE"), stack_event("r1", "UPDATE_COMPLETE", logical="Fn", kind="AWS::Lambda::Function")]
    ours += [stack_event("e2", "UPDATE_IN_PROGRESS"), stack_event("e1", "CREATE_COMPLETE"), stack_event("e0", "CREATE_IN_PROGRESS")]
    assert operations_since(ours, event_marker("e1"), "app", "arn:stack/app/1") == 1
    assert unchanged_by_others(1).skip
    manual = [stack_event("m2", "UPDATE_COMPLETE"), stack_event("m1", "UPDATE_IN_PROGRESS"), *ours]
    assert operations_since(manual, event_marker("e1"), "app", "arn:stack/app/1") == 2
    assert not unchanged_by_others(2).skip
    assert operations_since(ours, event_marker("gone"), "app", "arn:stack/app/1") is None
    assert not unchanged_by_others(None).skip


def test_a_creation_counts_from_the_first_event_and_review_is_no_operation() -> None:
    created = [stack_event("c3", "CREATE_COMPLETE"), stack_event("c2", "CREATE_IN_PROGRESS"), stack_event("c1", "REVIEW_IN_PROGRESS")]
    assert operations_since(created, NEW_STACK_MARKER, "app", "arn:stack/app/1") == 1
    nested = stack_event("n1", "UPDATE_IN_PROGRESS", logical="Child")
    assert operations_since([nested, *created], NEW_STACK_MARKER, "app", "arn:stack/app/1") == 1
    rolled = [stack_event("r2", "UPDATE_ROLLBACK_IN_PROGRESS"), stack_event("r1", "UPDATE_IN_PROGRESS"), *created]
    assert operations_since(rolled, NEW_STACK_MARKER, "app", "arn:stack/app/1") == 3


def test_artifact_paths_follow_sam_keys_globals_and_intrinsics() -> None:
    document = load_template_document(
        """
Globals:
  Function:
    CodeUri: shared/
Resources:
  A: {Type: AWS::Serverless::Function, Properties: {CodeUri: src/}}
  B: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: !If [Cond, layer-a/, layer-b/]}}
  C: {Type: AWS::Serverless::Function, Properties: {CodeUri: s3://bucket/key.zip}}
  D: {Type: AWS::Lambda::Function, Properties: {Code: {ZipFile: "print(1)"}}}
  E: {Type: AWS::Serverless::Function, Properties: {PackageType: Image}, Metadata: {DockerContext: ./image, Dockerfile: Dockerfile}}
  F: {Type: AWS::Serverless::Api, Properties: {DefinitionUri: api.yaml}}
"""
    )
    found = artifact_paths(document)
    assert found.unprovable is None
    assert set(found.paths) == {"shared/", "src/", "./image", "image/Dockerfile", "api.yaml"}  # the !If's values are list items, not keys; the Dockerfile is relative to its context
    assert "s3://bucket/key.zip" not in found.paths


def test_a_local_nested_template_is_never_skipped() -> None:
    document = load_template_document("Resources:\n  Child: {Type: AWS::Serverless::Application, Properties: {Location: ./child.yaml}}\n")
    assert artifact_paths(document).unprovable
    remote = load_template_document(
        "Resources:\n  Child: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://x/t.yaml}}\n"
    )
    assert artifact_paths(remote).unprovable is None


def test_samconfig_tags_are_kept_before_the_record() -> None:
    document = {"default": {"deploy": {"parameters": {"tags": 'team="a" cost="b"'}}}, "prod": {"global": {"parameters": {"tags": ["x=1"]}}}}
    assert samconfig_tags(document, None) == ['team="a" cost="b"']
    assert samconfig_tags(document, "prod") == ["x=1"]
    assert samconfig_tags(document, "nope") == []
    argv = deploy_command(SamCommonOptions(sam="sam"), "t.yaml", DeployTarget("s", "us-east-1", tags=["a=1", f"{RECORD_TAG}=v"]))
    assert argv[argv.index("--tags") + 1 : argv.index("--tags") + 3] == ["a=1", f"{RECORD_TAG}=v"]


# -- the fingerprint -----------------------------------------------------------------------------


def test_fingerprint_moves_with_everything_that_decides_the_deploy(sam_app: Path) -> None:
    base = digest_of(sam_app)
    assert base is not None and base == digest_of(sam_app)  # stable
    seen = {base}

    def changed(label: str, value: str | None) -> None:
        assert value is not None and value not in seen, label
        seen.add(value)

    (sam_app / "src" / "app.py").write_text((sam_app / "src" / "app.py").read_text() + "\n# one line\n")
    changed("code", digest_of(sam_app))
    (sam_app / "src" / "helper.py").write_text("X = 1\n")
    changed("new file", digest_of(sam_app))
    os.chmod(sam_app / "src" / "helper.py", 0o700)
    changed("executable bit", digest_of(sam_app))
    changed("parameter", digest_of(sam_app, parameters={"BucketName": "other"}))
    changed("secret parameter", digest_of(sam_app, parameters={"BucketName": "b", "ApiToken": "t0p"}))
    changed("capabilities", digest_of(sam_app, capabilities=["CAPABILITY_IAM"]))
    changed("bucket", digest_of(sam_app, s3_bucket="elsewhere"))
    changed("samconfig env", digest_of(sam_app, env="prod"))
    (sam_app / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\ntags = "a=1"\n')
    changed("samconfig file", digest_of(sam_app))
    (sam_app / "template.yaml").write_text((sam_app / "template.yaml").read_text() + "\n# comment\n")
    changed("template", digest_of(sam_app))


def test_fingerprint_ignores_sam_output_and_python_caches(sam_app: Path) -> None:
    base = digest_of(sam_app)
    (sam_app / ".aws-sam" / "build").mkdir(parents=True)
    (sam_app / ".aws-sam" / "build" / "template.yaml").write_text("built")
    (sam_app / "src" / "__pycache__").mkdir()
    (sam_app / "src" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    assert digest_of(sam_app) == base


def test_secret_values_are_not_in_the_record_and_cost_a_slow_hash(sam_app: Path) -> None:
    a = digest_of(sam_app, parameters={"BucketName": "b", "ApiToken": "1"})
    b = digest_of(sam_app, parameters={"BucketName": "b", "ApiToken": "2"})
    assert a != b and "1" not in record_value(a or "", None).split(":")[2]


def test_hostile_trees_are_hashed_not_followed_forever(sam_app: Path) -> None:
    (sam_app / "src" / "loop").symlink_to(sam_app / "src", target_is_directory=True)
    (sam_app / "src" / "dangling").symlink_to(sam_app / "nowhere")
    (sam_app / "src" / "naïve name.py").write_text("x = 'é'\n")
    first = digest_of(sam_app)
    assert first is not None and first == digest_of(sam_app)
    (sam_app / "nowhere").write_text("now it exists")
    assert digest_of(sam_app) != first


def test_unreadable_or_nested_template_is_never_fingerprinted(sam_app: Path) -> None:
    (sam_app / "template.yaml").write_text("Resources: [unclosed\n")
    assert digest_of(sam_app) is None
    (sam_app / "template.yaml").write_text("Resources:\n  C: {Type: AWS::Serverless::Application, Properties: {Location: child.yaml}}\n")
    assert digest_of(sam_app) is None


def test_sam_identity_reads_the_version_without_running_sam(tmp_path: Path) -> None:
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "lib" / "python3.11" / "site-packages" / "aws_sam_cli-1.171.2.dist-info").mkdir(parents=True)
    script = prefix / "bin" / "sam"
    script.write_text(f"#!{prefix / 'bin' / 'python3'}\nraise SystemExit('never run')\n")
    assert sam_identity(str(script)) == f"aws-sam-cli 1.171.2 at {prefix}"
    binary = tmp_path / "sam-binary"
    binary.write_bytes(b"\x7fELF")
    assert sam_identity(str(binary)).startswith(str(binary))


def test_samconfig_tags_are_read_from_the_working_folder(sam_app: Path) -> None:
    (sam_app / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\ntags = "team=\\"web\\""\n')
    args = SamDeployArgs.model_validate({"template_file": "template.yaml", "stack_name": "s"})
    assert read_samconfig_tags(read_deploy_inputs(args, sam_app), None) == ['team="web"']
    (sam_app / "samconfig.toml").write_text("not [ toml")
    assert read_samconfig_tags(read_deploy_inputs(args, sam_app), None) == []


# -- the hook against moto, with the real sam -----------------------------------------------------


@pytest.mark.sam
def test_unchanged_rerun_starts_no_sam_and_reports_the_stack(sam: str, sam_app: Path, aws_change_set_tags: MotoServer) -> None:
    first, seen = watched_deploy(sam, sam_app, "skip-1")
    assert first and first["action"] == "created" and first["skipped"] is False
    assert seen, "the watcher must see sam when the hook deploys"
    tags = {tag["Key"]: tag["Value"] for tag in cfn().describe_stacks(StackName="skip-1")["Stacks"][0]["Tags"]}
    assert tags[RECORD_TAG] == record_value(first["fingerprint"], None)

    again, seen = watched_deploy(sam, sam_app, "skip-1")
    assert seen == []
    assert again["skipped"] is True and again["action"] == "unchanged" and again["changed"] is False
    assert again["stack_id"] == first["stack_id"] and again["status"] == "CREATE_COMPLETE"
    assert again["outputs"] == first["outputs"]

    forced, seen = watched_deploy(sam, sam_app, "skip-1", force=True)
    assert forced["skipped"] is False and seen


@pytest.mark.sam
@pytest.mark.parametrize("change", ["code", "parameter", "template"])
def test_each_kind_of_change_deploys_then_the_rerun_skips(sam: str, sam_app: Path, aws_change_set_tags: MotoServer, change: str) -> None:
    stack = f"skip-{change}"
    assert deploy(sam, sam_app, stack)
    extra: dict[str, Any] = {}
    if change == "code":
        (sam_app / "src" / "app.py").write_text((sam_app / "src" / "app.py").read_text() + "\n# a one-line change\n")
    elif change == "parameter":
        extra["parameters"] = {"Environment": "dev", "BucketName": f"{stack}-data", "Greeting": "changed", "ApiToken": "none"}
    else:
        template = sam_app / "template.yaml"
        template.write_text(template.read_text().replace("Outputs:", "  Extra:\n    Type: AWS::S3::Bucket\n\nOutputs:"))
    result, seen = watched_deploy(sam, sam_app, stack, **extra)
    assert seen and result["skipped"] is False and result["action"] == "updated"
    again, seen = watched_deploy(sam, sam_app, stack, **extra)
    assert seen == [] and again["skipped"] is True


@pytest.mark.sam
def test_manual_update_behind_the_hooks_back_deploys_again(sam: str, sam_app: Path, aws_change_set_tags: MotoServer) -> None:
    """An UpdateStack by hand keeps the tags (UpdateStack without Tags leaves them) but is a stack operation after the record."""
    assert deploy(sam, sam_app, "skip-manual")
    client = cfn()
    template = client.get_template(StackName="skip-manual", TemplateStage="Original")["TemplateBody"]
    body = template if isinstance(template, str) else json.dumps(template)
    parameters = [{"ParameterKey": key, "UsePreviousValue": True} for key in ("Environment", "BucketName", "ApiToken")]
    parameters.append({"ParameterKey": "Greeting", "ParameterValue": "changed by hand"})
    client.update_stack(StackName="skip-manual", TemplateBody=body, Parameters=parameters)
    stack = client.describe_stacks(StackName="skip-manual")["Stacks"][0]
    assert any(tag["Key"] == RECORD_TAG for tag in stack["Tags"]), "the manual update kept the record"

    result, seen = watched_deploy(sam, sam_app, "skip-manual")
    assert seen and result["skipped"] is False
    assert {
        item["ParameterKey"]: item["ParameterValue"] for item in client.describe_stacks(StackName="skip-manual")["Stacks"][0]["Parameters"]
    }["Greeting"] == "hello"
    again, seen = watched_deploy(sam, sam_app, "skip-manual")
    assert seen == [] and again["skipped"] is True


@pytest.mark.sam
def test_failed_previous_deploy_is_never_unchanged(sam: str, sam_app: Path, aws_change_set_tags: MotoServer) -> None:
    from moto.cloudformation.models import cloudformation_backends

    assert deploy(sam, sam_app, "skip-failed")
    backend = cloudformation_backends[ACCOUNT_ID][REGION]
    next(item for item in backend.stacks.values() if item.name == "skip-failed").status = "UPDATE_ROLLBACK_COMPLETE"
    result, seen = watched_deploy(sam, sam_app, "skip-failed")
    assert seen and result["skipped"] is False
