"""The sam_deploy hook with the real ``sam`` CLI against a moto server (in process, by CLI, through runway).

What moto cannot do, and how these tests stand in for it:

* moto has no SAM transform: the stack is created, the ``AWS::Serverless::Function`` is skipped
  (the plain ``AWS::S3::Bucket`` beside it is created, which shows parameters reaching resources).
* Stacks created through change sets (what ``sam deploy`` does) get no Outputs in moto, so the
  Outputs of the result are checked on a stack first created by ``CreateStack``.
* moto never fails a stack operation: no ``ROLLBACK_COMPLETE``, ``DELETE_FAILED`` or
  ``UPDATE_ROLLBACK_FAILED``, and every operation completes at once. Those states are set on
  moto's own backend object (the server runs in this process); everything else — describe,
  delete, wait, ``sam deploy`` — is real.
* moto ignores ``RetainResources`` (it deletes everything), so the request the hook sends is
  observed with a botocore event hook on the real client talking to moto.
* moto compares a change set's parameters with those given at creation, so a parameter left at
  its template default looks changed on every rerun; the tests pass every parameter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.core.hook import HookContext
from runway_ext.hooks.sam_deploy import cfngin_delete_hook, cfngin_hook
from runway_ext.hooks.sam_deploy.plan import outputs_dict, parameters_dict
from runway_ext.local.moto_server import ACCOUNT_ID, MotoServer
from runway_ext.testing.cfngin import make_cfngin_context
from runway_ext.testing.runway_cli import run_runway
from tests.hooks.sam_deploy.sam_app import ARTIFACTS, REGION, REPO

TRICKY_GREETING = "say \"hi\" to a=b, it's 5 o'clock"


@pytest.fixture
def cloud(aws: MotoServer) -> Iterator[MotoServer]:
    """moto emptied, with the artifacts bucket sam uploads to."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=ARTIFACTS)
    yield aws


def all_parameters(bucket: str, **extra: str) -> dict[str, str]:
    """Every template parameter (see the module docstring on moto and defaults)."""
    return {"Environment": "dev", "BucketName": bucket, "Greeting": "hello", "ApiToken": "none", **extra}


def deploy(sam: str, app: Path, stack: str, **kwargs: Any) -> Any:
    """Run the deploy hook as CFNgin calls it (no context: the CLI's boto3 session, pointed at moto)."""
    arguments = {"template_file": str(app / "template.yaml"), "stack_name": stack, "sam_executable": sam, "s3_bucket": ARTIFACTS}
    arguments.update(kwargs)
    return cfngin_hook(None, None, **arguments)


def describe(stack: str) -> dict[str, Any] | None:
    client = boto3.client("cloudformation", region_name=REGION)
    try:
        return client.describe_stacks(StackName=stack)["Stacks"][0]
    except client.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def force_stack_status(stack_name: str, status: str) -> None:
    """Put a stack into ``status`` on moto's backend: moto never fails or rolls back an operation itself."""
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[ACCOUNT_ID][REGION]
    stack = next(item for item in backend.stacks.values() if item.name == stack_name)
    stack.status = status


def create_plain_stack(name: str, bucket: str) -> str:
    """A stack made by CreateStack (a failed first deployment's stand-in; moto gives it Outputs)."""
    template = {
        "Parameters": {"BucketName": {"Type": "String"}},
        "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "BucketName"}}}},
        "Outputs": {"DataBucketName": {"Value": {"Ref": "DataBucket"}}},
    }
    client = boto3.client("cloudformation", region_name=REGION)
    response = client.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "BucketName", "ParameterValue": bucket}],
    )
    return response["StackId"]


def artifact_keys() -> list[str]:
    listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=ARTIFACTS)
    return sorted(item["Key"] for item in listing.get("Contents", []))


# -- deploy ------------------------------------------------------------------------------------


@pytest.mark.sam
def test_deploy_then_rerun_without_changes(sam: str, sam_app: Path, cloud: MotoServer, tmp_path: Path) -> None:
    """Build + deploy creates the stack with the merged parameters; the same deploy again changes nothing."""
    param_file = tmp_path / "parameters.json"
    param_file.write_text(json.dumps({"Environment": "from-file", "Greeting": "from-file", "ApiToken": "none"}))
    parameters = {"Environment": "dev", "BucketName": "sam-data-1", "Greeting": TRICKY_GREETING}

    started = time.monotonic()
    first = deploy(sam, sam_app, "sam-app-1", parameters=parameters, param_file=str(param_file))
    first_seconds = time.monotonic() - started
    assert first, "deploy failed"
    assert first["action"] == "created"
    assert first["changed"] is True
    assert first["built"] is True
    stack = describe("sam-app-1")
    assert stack is not None
    assert first["stack_id"] == stack["StackId"]
    assert first["status"] == stack["StackStatus"] == "CREATE_COMPLETE"
    assert first["outputs"] == outputs_dict(stack)  # {} on moto: change-set stacks get no Outputs there
    stacked = parameters_dict(stack)
    assert stacked["Environment"] == "dev"  # the dict wins over the file
    assert stacked["Greeting"] == TRICKY_GREETING  # quotes, '=', spaces and commas arrive unchanged
    assert stacked["BucketName"] == "sam-data-1"
    buckets = [item["Name"] for item in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]]
    assert "sam-data-1" in buckets  # the parameter reached a resource
    assert any(key.endswith(".template") for key in artifact_keys())  # sam uploaded the template
    assert (sam_app / ".aws-sam" / "build" / "template.yaml").is_file()

    started = time.monotonic()
    again = deploy(sam, sam_app, "sam-app-1", parameters=parameters, param_file=str(param_file))
    rerun_seconds = time.monotonic() - started
    assert again, "rerun failed"
    assert again["action"] == "unchanged"
    assert again["changed"] is False
    assert again["stack_id"] == first["stack_id"]
    print(f"sam deploy timings: first {first_seconds:.1f}s, unchanged rerun {rerun_seconds:.1f}s")


@pytest.mark.sam
def test_changed_parameter_updates_the_stack(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    assert deploy(sam, sam_app, "sam-app-2", parameters=all_parameters("sam-data-2"), skip_build=True)
    result = deploy(sam, sam_app, "sam-app-2", parameters=all_parameters("sam-data-2", Greeting="changed"), skip_build=True)
    assert result["action"] == "updated"
    assert result["changed"] is True
    assert result["built"] is False
    assert parameters_dict(describe("sam-app-2"))["Greeting"] == "changed"
    assert not (sam_app / ".aws-sam").exists()


@pytest.mark.sam
def test_outputs_come_from_the_stack(sam: str, tmp_path: Path, cloud: MotoServer) -> None:
    """moto gives Outputs only to stacks made by CreateStack, so one is made that way, then deployed by sam."""
    create_plain_stack("plain-stack", "plain-data")
    template = tmp_path / "plain.json"
    template.write_text(describe_template("plain-stack"))
    result = cfngin_hook(
        None,
        None,
        template_file=str(template),
        stack_name="plain-stack",
        sam_executable=sam,
        skip_build=True,
        parameters={"BucketName": "plain-data"},
    )
    assert result, "deploy failed"
    assert result["outputs"] == {"DataBucketName": "plain-data"}


def describe_template(stack: str) -> str:
    body = boto3.client("cloudformation", region_name=REGION).get_template(StackName=stack)["TemplateBody"]
    return body if isinstance(body, str) else json.dumps(body)


@pytest.mark.sam
def test_secret_parameters_never_reach_the_log(sam: str, sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    """NoEcho parameters and the credentials are masked in every line, argv included (logged when verbose)."""
    token = "tok-7f3a9c1e55d2"
    caplog.set_level("DEBUG", logger="runway_ext")
    result = deploy(sam, sam_app, "sam-app-secret", parameters=all_parameters("sam-data-s", ApiToken=token), skip_build=True, verbose=True)
    assert result, "deploy failed"
    assert "running:" in caplog.text  # the argv lines were logged
    assert token not in caplog.text
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in caplog.text


@pytest.mark.sam
def test_no_wait_starts_the_change_set_and_returns(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    """wait: false makes sam only create the change set; the hook executes it and returns (moto finishes at once)."""
    result = deploy(sam, sam_app, "sam-app-nowait", parameters=all_parameters("sam-data-nw"), skip_build=True, wait=False)
    assert result, "deploy failed"
    assert (result["action"], result["changed"]) == ("executing", True)
    summaries = boto3.client("cloudformation", region_name=REGION).list_change_sets(StackName="sam-app-nowait")["Summaries"]
    mine = [item for item in summaries if item["StackName"] == "sam-app-nowait"]
    assert [item["ExecutionStatus"] for item in mine] == ["EXECUTE_COMPLETE"]
    again = deploy(sam, sam_app, "sam-app-nowait", parameters=all_parameters("sam-data-nw"), skip_build=True, wait=False)
    assert (again["action"], again["changed"]) == ("unchanged", False)
    deleted = cfngin_delete_hook(None, None, stack_name="sam-app-nowait", sam_executable=sam, wait=False)
    assert deleted["deleted"] is True
    assert describe("sam-app-nowait") is None


# -- failed and busy stacks --------------------------------------------------------------------


@pytest.mark.sam
def test_rollback_complete_stack_is_deleted_and_deployed_again(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    """A first deployment that rolled back leaves ROLLBACK_COMPLETE; moto cannot fail a creation, so the
    state is set on moto's backend (see the module docstring). The hook deletes it, waits and deploys."""
    old_id = create_plain_stack("sam-app-3", "leftover")
    force_stack_status("sam-app-3", "ROLLBACK_COMPLETE")
    result = deploy(sam, sam_app, "sam-app-3", parameters=all_parameters("sam-data-3"), skip_build=True)
    assert result, "deploy failed"
    assert result["replaced_failed_stack"] == "ROLLBACK_COMPLETE"
    assert result["action"] == "created"
    assert result["stack_id"] != old_id
    assert describe(old_id)["StackStatus"] == "DELETE_COMPLETE"
    assert describe("sam-app-3")["StackStatus"] == "CREATE_COMPLETE"


@pytest.mark.sam
def test_rollback_complete_without_permission_is_a_clear_error(
    sam: str, sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture
) -> None:
    old_id = create_plain_stack("sam-app-4", "leftover")
    force_stack_status("sam-app-4", "ROLLBACK_COMPLETE")
    result = deploy(sam, sam_app, "sam-app-4", parameters=all_parameters("sam-data-4"), delete_failed_stack=False)
    assert result is False
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1
    assert "ROLLBACK_COMPLETE" in errors[0]
    assert "delete_failed_stack" in errors[0]
    stack = describe("sam-app-4")
    assert (stack["StackId"], stack["StackStatus"]) == (old_id, "ROLLBACK_COMPLETE")  # left untouched
    assert not (sam_app / ".aws-sam").exists()  # refused before building anything


@pytest.mark.sam
def test_failed_update_rollback_is_never_deleted(sam: str, sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    old_id = create_plain_stack("sam-app-5", "working")
    force_stack_status("sam-app-5", "UPDATE_ROLLBACK_FAILED")
    result = deploy(sam, sam_app, "sam-app-5", parameters=all_parameters("sam-data-5"), skip_build=True)
    assert result is False
    assert "continue-update-rollback" in caplog.text
    assert describe("sam-app-5")["StackId"] == old_id


@pytest.mark.sam
def test_busy_stack_is_waited_for_then_deployed(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    """moto finishes every operation at once; a thread plays CloudFormation finishing an update 2 s later."""
    assert deploy(sam, sam_app, "sam-app-6", parameters=all_parameters("sam-data-6"), skip_build=True)
    force_stack_status("sam-app-6", "UPDATE_IN_PROGRESS")
    finisher = threading.Timer(2.0, force_stack_status, args=("sam-app-6", "UPDATE_COMPLETE"))
    finisher.start()
    started = time.monotonic()
    try:
        result = deploy(sam, sam_app, "sam-app-6", parameters=all_parameters("sam-data-6", Greeting="after wait"), skip_build=True)
    finally:
        finisher.cancel()
    assert result, "deploy failed"
    assert time.monotonic() - started >= 2.0
    assert parameters_dict(describe("sam-app-6"))["Greeting"] == "after wait"


@pytest.mark.sam
def test_busy_stack_wait_is_bounded(sam: str, sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    assert deploy(sam, sam_app, "sam-app-7", parameters=all_parameters("sam-data-7"), skip_build=True)
    force_stack_status("sam-app-7", "UPDATE_IN_PROGRESS")
    started = time.monotonic()
    result = deploy(sam, sam_app, "sam-app-7", parameters=all_parameters("sam-data-7"), skip_build=True, timeout=4)
    assert result is False
    assert time.monotonic() - started < 30
    assert "UPDATE_IN_PROGRESS" in caplog.text
    assert "timed out" in caplog.text


def test_missing_sam_says_how_to_install(sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    result = deploy("no-such-sam-binary", sam_app, "sam-app-x", parameters=all_parameters("x"))
    assert result is False
    assert "pip install aws-sam-cli" in caplog.text
    assert describe("sam-app-x") is None


@pytest.mark.sam
def test_bad_param_file_changes_nothing(sam: str, sam_app: Path, cloud: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    bad = sam_app / "parameters.json"
    bad.write_text('{"Greeting": "a\\\\ b"}')  # a backslash before a space: sam would drop the backslash
    result = deploy(sam, sam_app, "sam-app-y", param_file="parameters.json", working_directory=str(sam_app))
    assert result is False
    assert "param_file" in caplog.text and "Greeting" in caplog.text
    assert describe("sam-app-y") is None


# -- delete ------------------------------------------------------------------------------------


@pytest.mark.sam
def test_delete_removes_stack_and_artifacts_then_is_idempotent(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    assert deploy(sam, sam_app, "sam-app-8", parameters=all_parameters("sam-data-8"), skip_build=True)
    assert artifact_keys()
    stack_id = describe("sam-app-8")["StackId"]
    started = time.monotonic()
    result = cfngin_delete_hook(None, None, stack_name="sam-app-8", sam_executable=sam)
    print(f"sam delete took {time.monotonic() - started:.1f}s")
    assert result, "delete failed"
    assert result["deleted"] is True
    assert describe("sam-app-8") is None
    assert describe(stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert artifact_keys() == []  # sam delete removed the uploaded code and template
    again = cfngin_delete_hook(None, None, stack_name="sam-app-8", sam_executable=sam)
    assert again["deleted"] is False


@pytest.mark.sam
def test_delete_failed_stack_retains_listed_resources(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    """DELETE_FAILED is set on moto's backend (moto never fails a delete) and moto ignores RetainResources,
    so the DeleteStack request is observed on the real client; the stack is then really gone."""
    assert deploy(sam, sam_app, "sam-app-9", parameters=all_parameters("sam-data-9"), skip_build=True)
    force_stack_status("sam-app-9", "DELETE_FAILED")
    session = boto3.Session(region_name=REGION)
    sent: list[dict[str, Any]] = []
    session.events.register("provide-client-params.cloudformation.DeleteStack", lambda params, **_: sent.append(dict(params)))
    args = cfngin_delete_hook.parse({"stack_name": "sam-app-9", "sam_executable": sam, "retain_resources": ["DataBucket", "NotInStack"]})
    context = HookContext("sam_delete", cfngin_delete_hook.log, _sessions={REGION: session})
    result = cfngin_delete_hook.execute(args, context)
    assert [call.get("RetainResources") for call in sent] == [["DataBucket"]]
    assert result["retained_resources"] == ["DataBucket"]
    assert describe("sam-app-9") is None


# -- the two other faces -----------------------------------------------------------------------


def sam_environment_for(aws: MotoServer, sam: str) -> dict[str, str]:
    return {**os.environ, **aws.environment(), "PATH": f"{Path(sam).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.sam
def test_cli_deploy_and_delete(sam: str, sam_app: Path, cloud: MotoServer) -> None:
    """The seed's command lines, run as a user would (config file + env, param file, --skip-build)."""
    (sam_app / "samconfig.toml").write_text(f'version = 0.1\n[dev.deploy.parameters]\ns3_bucket = "{ARTIFACTS}"\ns3_prefix = "cli"\n')
    (sam_app / "parameters.json").write_text(json.dumps({"Greeting": "from the file", "BucketName": "overridden", "ApiToken": "none"}))
    env = sam_environment_for(cloud, sam)
    module = [sys.executable, "-m", "runway_ext.hooks.sam_deploy"]
    deployed = subprocess.run(
        [*module, "deploy", "--template", "template.yaml", "--stack-name", "s", "--config-file", "samconfig.toml", "--env", "dev",
         "--parameters", "Environment=dev", "BucketName=cli-bucket", "--param-file", "parameters.json", "--skip-build", "--json"],
        cwd=sam_app, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    result = json.loads(deployed.stdout)
    assert (result["stack_name"], result["status"], result["action"]) == ("s", "CREATE_COMPLETE", "created")
    stacked = parameters_dict(describe("s"))
    assert (stacked["Environment"], stacked["BucketName"], stacked["Greeting"]) == ("dev", "cli-bucket", "from the file")
    assert all(key.startswith("cli/") for key in artifact_keys())  # the samconfig env was used

    deleted = subprocess.run(
        [*module, "delete", "--stack-name", "s", "--retain-resources", "MyS3Bucket", "MyDynamoTable"],
        cwd=sam_app, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr[-3000:]
    assert "deleted: true" in deleted.stdout
    assert describe("s") is None


def test_cli_bad_input_is_one_line(cloud: MotoServer, sam_app: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "runway_ext.hooks.sam_deploy", "deploy", "--template", "template.yaml", "--stack-name", "9bad"],
        cwd=sam_app, env={**os.environ, **cloud.environment()}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [
        "error: --stack-name: '9bad' is not a stack name (a letter, then letters, digits and '-', at most 128)"
    ]


RUNWAY_CONFIG = """\
namespace: ${namespace}
cfngin_bucket: ""

pre_deploy:
  - path: runway_ext.hooks.sam_deploy.cfngin_hook
    args:
      template_file: sam-app/template.yaml
      stack_name: ${namespace}-sam-app
      region: ${region}
      s3_bucket: ${sam_artifacts}
      skip_build: ${skip_sam_build}
      parameters:
        Environment: ${environment}
        BucketName: ${namespace}-sam-data
        Greeting: hello from runway
        ApiToken: none

post_destroy:
  - path: runway_ext.hooks.sam_deploy.cfngin_delete_hook
    args:
      stack_name: ${namespace}-sam-app
      region: ${region}

stacks:
  - name: sam-marker
    template_path: templates/marker.yaml
    variables:
      SamStackName: ${hook_data runway_ext.sam_deploy.stack_name}
      SamStackStatus: ${hook_data runway_ext.sam_deploy.status}
"""

MARKER_TEMPLATE = """\
Parameters:
  SamStackName: {Type: String}
  SamStackStatus: {Type: String}
Resources:
  Marker:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /demo/sam-stack
      Type: String
      Value: !Sub "${SamStackName} ${SamStackStatus}"
"""


@pytest.mark.sam
@pytest.mark.runway
def test_runway_deploy_and_destroy(sam: str, sam_app: Path, cloud: MotoServer, tmp_path: Path) -> None:
    """pre_deploy builds and deploys the SAM app, a later stack reads its hook_data, post_destroy deletes it."""
    project = tmp_path / "project"
    module = project / "app.cfn"
    (module / "templates").mkdir(parents=True)
    shutil.move(str(sam_app), module / "sam-app")
    (project / "runway.yml").write_text("deployments:\n  - modules: [{path: app.cfn}]\n    regions: [us-east-1]\n")
    (module / "config.yml").write_text(RUNWAY_CONFIG)
    (module / "templates" / "marker.yaml").write_text(MARKER_TEMPLATE)
    (module / "dev.env").write_text(f"namespace: demo\nsam_artifacts: {ARTIFACTS}\nskip_sam_build: false\n")
    env = sam_environment_for(cloud, sam)

    deployed = run_runway(project, ["deploy", "--ci"], environment=env)
    assert deployed.ok, deployed.output[-4000:]
    assert describe("demo-sam-app")["StackStatus"] == "CREATE_COMPLETE"
    assert (module / "sam-app" / ".aws-sam" / "build" / "template.yaml").is_file()
    marker = boto3.client("ssm", region_name=REGION).get_parameter(Name="/demo/sam-stack")["Parameter"]["Value"]
    assert marker == "demo-sam-app CREATE_COMPLETE"

    destroyed = run_runway(project, ["destroy", "--ci"], environment=env)
    assert destroyed.ok, destroyed.output[-4000:]
    assert describe("demo-sam-app") is None
    assert describe("demo-sam-marker") is None


# -- the region: the deploy's inside Runway, the environment's from the CLI ---------------------

PLAIN_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


@pytest.fixture
def stub_sam(tmp_path: Path) -> str:
    """A stand-in sam that only answers --version: enough for a delete that never runs sam (wait: false)."""
    path = tmp_path / "bin" / "sam"
    path.parent.mkdir()
    path.write_text('#!/bin/sh\necho "SAM CLI, version 1.170.0"\n')
    path.chmod(0o755)
    return str(path)


def create_regional_stack(name: str, region: str) -> str:
    client = boto3.client("cloudformation", region_name=region)
    return client.create_stack(StackName=name, TemplateBody=json.dumps(PLAIN_TEMPLATE))["StackId"]


def stack_status(stack: str, region: str) -> str:
    return boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def test_cfngin_face_deletes_in_the_deploys_region(stub_sam: str, cloud: MotoServer, tmp_path: Path) -> None:
    """No region argument: the Runway deploy's region (eu-west-1) wins over the environment's (us-east-1)."""
    stack_id = create_regional_stack("regional", "eu-west-1")
    create_regional_stack("regional", REGION)  # the same name in the environment's region stays
    context = make_cfngin_context(tmp_path, environ={**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert os.environ["AWS_DEFAULT_REGION"] == REGION
    result = cfngin_delete_hook(context, None, stack_name="regional", sam_executable=stub_sam, wait=False)
    assert result, "delete failed"
    assert (result["region"], result["deleted"]) == ("eu-west-1", True)
    assert context.hook_data["runway_ext"]["sam_delete"]["region"] == "eu-west-1"
    assert stack_status(stack_id, "eu-west-1") == "DELETE_COMPLETE"
    assert stack_status("regional", REGION) == "CREATE_COMPLETE"


@pytest.mark.sam
def test_cfngin_face_deploys_in_the_deploys_region(sam: str, cloud: MotoServer, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(PLAIN_TEMPLATE))
    context = make_cfngin_context(tmp_path, environ={**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    result = cfngin_hook(context, None, template_file=str(template), stack_name="regional-app", sam_executable=sam, skip_build=True)
    assert result, "deploy failed"
    assert (result["region"], result["action"]) == ("eu-west-1", "created")
    assert stack_status("regional-app", "eu-west-1") == "CREATE_COMPLETE"
    assert describe("regional-app") is None  # nothing in the environment's region


def test_cli_face_uses_the_environments_region(stub_sam: str, cloud: MotoServer) -> None:
    stack_id = create_regional_stack("regional", "eu-west-2")
    env = {key: value for key, value in {**os.environ, **cloud.environment()}.items() if key != "AWS_REGION"}
    env["AWS_DEFAULT_REGION"] = "eu-west-2"
    completed = subprocess.run(
        [sys.executable, "-m", "runway_ext.hooks.sam_deploy", "delete", "--stack-name", "regional", "--sam-executable", stub_sam, "--no-wait", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["region"] == "eu-west-2"
    assert stack_status(stack_id, "eu-west-2") == "DELETE_COMPLETE"


# -- the package runs as a program ---------------------------------------------------------------


@pytest.mark.parametrize(
    "how", [["-m", "runway_ext.hooks.sam_deploy"], ["runway_ext/hooks/sam_deploy"], ["runway_ext/hooks/sam_deploy/__main__.py"]]
)
@pytest.mark.parametrize("action", [[], ["deploy"], ["delete"]])
def test_help_by_module_and_by_path(how: list[str], action: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, *how, *action, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"usage: python -m runway_ext.hooks.sam_deploy {' '.join(action)}".rstrip())
    assert "Error" not in completed.stderr and "Traceback" not in completed.stderr
