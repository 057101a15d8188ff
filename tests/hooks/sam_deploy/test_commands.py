"""The sam command lines and the environment sam runs with (pure, no sam needed)."""

from __future__ import annotations

from pathlib import PurePath

from runway_ext.hooks.sam_deploy.commands import (
    MIN_SAM_VERSION,
    Credentials,
    DeployTarget,
    SamCommonOptions,
    app_dir_metadata,
    build_command,
    build_layout,
    delete_command,
    deploy_command,
    parse_sam_version,
    sam_environment,
    sam_version_problem,
)

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
