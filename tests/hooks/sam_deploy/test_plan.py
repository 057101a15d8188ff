"""Unit tests of the sam_deploy planner: parameters, stack states, sam command lines, environment, outcomes."""

from __future__ import annotations

import json
from pathlib import PurePath

import pytest
import yaml

from runway_ext.hooks.sam_deploy.plan import (
    MIN_SAM_VERSION,
    Credentials,
    DeployTarget,
    ParameterError,
    SamCommonOptions,
    StackCondition,
    app_dir_metadata,
    build_command,
    build_layout,
    check_parameter,
    classify_stack,
    delete_command,
    deploy_command,
    deploy_outcome,
    describe_failures,
    merge_parameters,
    newest_available_change_set,
    outputs_dict,
    overrides_document,
    parameter_text,
    parameters_dict,
    parse_param_file,
    parse_sam_version,
    plan_delete,
    plan_deploy,
    plan_retain_retry,
    retains_resources,
    sam_environment,
    sam_version_problem,
    secret_parameter_names,
)

# -- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (None, ""), (3, "3"), (1.5, "1.5"), (["a", "b", 1], "a,b,1"), ("x y", "x y")],
)
def test_parameter_text(value: object, text: str) -> None:
    assert parameter_text(value) == text


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "with spaces",
        "a=b=c",
        'say "hi"',
        "it's",
        '"wrapped"',
        "'wrapped'",
        "",
        "back\\slash",
        "ends\\",
        "C:\\\\dir",
        "multi\nline",
        "é ü 日本",
    ],
)
def test_passable_values_are_accepted(value: str) -> None:
    check_parameter("Name1", value)


@pytest.mark.parametrize("value", ["a\\ b", 'a\\"b', "a\\'b", "nul\x00"])
def test_values_sam_would_alter_are_refused(value: str) -> None:
    with pytest.raises(ParameterError, match="Name1"):
        check_parameter("Name1", value)


@pytest.mark.parametrize("key", ["with-dash", "with space", "", "under_score", "x" * 256])
def test_bad_parameter_names_are_refused(key: str) -> None:
    with pytest.raises(ParameterError, match="parameter name"):
        check_parameter(key, "v")


def test_overrides_document_wraps_every_value_once() -> None:
    values = {"A": 'say "hi" a=b', "B": "", "C": '"already quoted"', "D": "é"}
    document = overrides_document(values)
    as_yaml = yaml.safe_load(document)
    assert as_yaml == json.loads(document)
    assert as_yaml == {key: f'"{value}"' for key, value in values.items()}
    assert document.isascii()


def test_param_file_object() -> None:
    assert parse_param_file('{"A": "x", "B": 2, "C": true, "D": ["p", "q"], "E": null}', "p.json") == {
        "A": "x",
        "B": "2",
        "C": "true",
        "D": "p,q",
        "E": "",
    }


def test_param_file_cloudformation_list() -> None:
    text = json.dumps([{"ParameterKey": "A", "ParameterValue": "x"}, {"ParameterKey": "B", "ParameterValue": "y z"}])
    assert parse_param_file(text, "p.json") == {"A": "x", "B": "y z"}


def test_param_file_codepipeline_configuration() -> None:
    text = json.dumps({"Parameters": {"A": "x"}, "Tags": {"T": "1"}})
    assert parse_param_file(text, "p.json") == {"A": "x"}


def test_a_parameter_named_parameters_is_a_parameter() -> None:
    assert parse_param_file('{"Parameters": "x", "B": "y"}', "p.json") == {"Parameters": "x", "B": "y"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "invalid JSON"),
        ('"just a string"', "expected a JSON object"),
        ('{"A": {"nested": 1}}', "must be a string"),
        ('[{"Key": "A"}]', "item 0"),
        ('[{"ParameterKey": "A", "UsePreviousValue": true}]', "UsePreviousValue"),
    ],
)
def test_bad_param_files(text: str, problem: str) -> None:
    with pytest.raises(ParameterError, match=problem) as caught:
        parse_param_file(text, "params.json")
    assert "params.json" in str(caught.value)


def test_dict_parameters_win_over_the_file() -> None:
    assert merge_parameters({"A": "file", "B": "file"}, {"B": "dict", "C": 1}) == {"A": "file", "B": "dict", "C": "1"}


def test_merge_checks_values_from_the_file_too() -> None:
    with pytest.raises(ParameterError, match="A"):
        merge_parameters({"A": "x\\ y"}, {})


def test_secret_parameter_names_read_short_tags() -> None:
    template = """
Parameters:
  Password: {Type: String, NoEcho: true}
  Token: {Type: String, NoEcho: "true"}
  Plain: {Type: String}
Resources:
  X:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${Plain}-topic"
      DisplayName: !GetAtt Other.Name
"""
    assert secret_parameter_names(template) == {"Password", "Token"}


def test_secret_parameter_names_of_json_and_of_garbage() -> None:
    assert secret_parameter_names(json.dumps({"Parameters": {"K": {"Type": "String", "NoEcho": True}}})) == {"K"}
    assert secret_parameter_names("{unbalanced") == set()
    assert secret_parameter_names("just text") == set()


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


# -- commands ----------------------------------------------------------------------------------


def test_deploy_command_never_prompts_and_accepts_no_changes() -> None:
    common = SamCommonOptions(sam="/bin/sam", overrides_file="/tmp/p.yaml", config_file="/app/samconfig.toml", config_env="dev")
    argv = deploy_command(common, "/app/.aws-sam/build/template.yaml", DeployTarget("app", "eu-west-1", ["CAPABILITY_IAM"], s3_bucket="b"))
    assert argv[:2] == ["/bin/sam", "deploy"]
    for flag in ("--no-confirm-changeset", "--no-fail-on-empty-changeset", "--no-progressbar"):
        assert flag in argv
    assert "--guided" not in argv
    assert argv[argv.index("--stack-name") + 1] == "app"
    assert argv[argv.index("--region") + 1] == "eu-west-1"
    assert argv[argv.index("--s3-bucket") + 1] == "b"
    assert argv[argv.index("--parameter-overrides") + 1] == "file:///tmp/p.yaml"
    assert argv[argv.index("--config-env") + 1] == "dev"
    assert "--no-execute-changeset" not in argv


def test_deploy_command_variants() -> None:
    common = SamCommonOptions(sam="sam")
    argv = deploy_command(common, "t.yaml", DeployTarget("app", "us-east-1", (), resolve_s3=True, execute=False))
    assert "--resolve-s3" in argv
    assert "--no-execute-changeset" in argv
    assert "--capabilities" not in argv
    assert "--parameter-overrides" not in argv
    assert "--config-file" not in argv


def test_build_and_delete_commands() -> None:
    common = SamCommonOptions(sam="sam", overrides_file="/tmp/p.yaml")
    assert build_command(common, "/a/template.yaml", "/a/.aws-sam/build") == [
        "sam",
        "build",
        "--template-file",
        "/a/template.yaml",
        "--build-dir",
        "/a/.aws-sam/build",
        "--parameter-overrides",
        "file:///tmp/p.yaml",
    ]
    assert delete_command("sam", "app", "us-west-2") == ["sam", "delete", "--stack-name", "app", "--region", "us-west-2", "--no-prompts"]


def test_build_layout_is_beside_the_template() -> None:
    assert build_layout(PurePath("/app/sam/template.yaml")) == (
        PurePath("/app/sam/.aws-sam/build"),
        PurePath("/app/sam/.aws-sam/build/template.yaml"),
    )


# -- environment -------------------------------------------------------------------------------


def test_sam_environment_carries_the_session_and_nothing_else() -> None:
    base = {
        "PATH": "/bin",
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "stale",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/t",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "CFNGIN_STACK_POLL_TIME": "1",
    }
    env = sam_environment(base, Credentials("AKIA", "SECRET"), "eu-west-1", "/tmp/app")
    assert env["AWS_ACCESS_KEY_ID"] == "AKIA"
    assert env["AWS_SECRET_ACCESS_KEY"] == "SECRET"
    assert "AWS_SESSION_TOKEN" not in env
    assert "AWS_PROFILE" not in env
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" not in env
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["SAM_CLI_TELEMETRY"] == "0"
    assert env["__SAM_CLI_APP_DIR"] == "/tmp/app"
    assert env["SAM_CLI_POLL_DELAY"] == "1"
    assert base["AWS_PROFILE"] == "prod"


def test_sam_environment_keeps_token_and_explicit_poll_delay() -> None:
    env = sam_environment({"SAM_CLI_POLL_DELAY": "7", "CFNGIN_STACK_POLL_TIME": "1"}, Credentials("A", "S", "TOKEN"), "us-east-1", "/x")
    assert env["AWS_SESSION_TOKEN"] == "TOKEN"
    assert env["SAM_CLI_POLL_DELAY"] == "7"


def test_credentials_never_show_in_repr() -> None:
    assert "SECRET" not in repr(Credentials("AKIA", "SECRET", "TOKEN"))


def test_app_dir_metadata_parks_the_update_check() -> None:
    metadata = app_dir_metadata(1_000_000.0)
    assert metadata["telemetryEnabled"] is False
    assert metadata["lastVersionCheck"] > 1_000_000.0 + 7 * 24 * 3600


def test_parse_sam_version() -> None:
    assert parse_sam_version("SAM CLI, version 1.170.0\n") == (1, 170, 0)
    assert parse_sam_version("garbage") is None


def test_sam_version_problem() -> None:
    assert sam_version_problem(MIN_SAM_VERSION) is None
    assert sam_version_problem((2, 0)) is None
    problem = sam_version_problem((1, 100, 0))
    assert problem is not None
    assert problem.startswith("sam_executable: sam 1.100.0 is older than 1.170.0")
    assert "pip install -U aws-sam-cli" in problem


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
