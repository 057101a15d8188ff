"""The Docker build + push hook's decisions: paths, registry choice, the publish plan, command lines, the result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.log import redact
from runway_ext.hooks.docker_build_push import DockerBuildPushArgs, cfngin_hook
from runway_ext.hooks.docker_build_push.build_secrets import resolve_secrets
from runway_ext.hooks.docker_build_push.context_hash import ContextHash
from runway_ext.hooks.docker_build_push.ecr import EcrImage, EcrRepository
from runway_ext.hooks.docker_build_push.plan import (
    BuildPaths,
    PublishOutcome,
    build_command,
    login_command,
    plan_publish,
    publish_result,
    resolve_paths,
    resolve_registry,
)

REPOSITORY = EcrRepository(
    name="my-app-repo", uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app-repo", registry_id="123456789012", region="us-east-1"
)
CONTENT = ContextHash(hexdigest="ab" * 32, entries=3, ignore_file=None)
PATHS = BuildPaths(working_directory=Path("/w"), dockerfile=Path("/w/docker/Dockerfile"), context=Path("/w"))
DIGEST = "sha256:" + "cd" * 32


def args(**values: object) -> DockerBuildPushArgs:
    return cfngin_hook.parse({"repository_name": "my-app-repo", **values})


# -- paths and registry ----------------------------------------------------------------------------
def test_paths_resolve_against_the_working_directory_and_missing_ones_name_their_field(tmp_path: Path) -> None:
    app = tmp_path / "application"
    (app / "docker").mkdir(parents=True)
    (app / "docker" / "Dockerfile").write_text("FROM x\n")
    cwd = tmp_path / "infra"
    cwd.mkdir()
    paths = resolve_paths(args(dockerfile_path="docker/Dockerfile", working_directory="../application"), cwd)
    assert paths == BuildPaths(working_directory=app, dockerfile=app / "docker" / "Dockerfile", context=app)
    with pytest.raises(HookError, match=r"^dockerfile_path: file .*application/Dockerfile not found$"):
        resolve_paths(args(working_directory="../application"), cwd)
    with pytest.raises(HookError, match=r"^build_context: folder .*application/nope not found$"):
        resolve_paths(args(dockerfile_path="docker/Dockerfile", build_context="nope", working_directory="../application"), cwd)
    with pytest.raises(HookError, match=r"^working_directory: folder .*missing not found$"):
        resolve_paths(args(working_directory="../missing"), cwd)


def test_registry_arg_then_environment_then_ecr() -> None:
    local = {"RUNWAY_EXT_REGISTRY": "127.0.0.1:5000/"}
    assert resolve_registry(args(), {}) is None
    assert resolve_registry(args(), local) == "127.0.0.1:5000"
    assert resolve_registry(args(registry="registry.example.com/team/"), local) == "registry.example.com/team"
    assert resolve_registry(args(registry="ecr"), local) is None
    assert resolve_registry(args(), {"RUNWAY_EXT_REGISTRY": "ecr"}) is None
    with pytest.raises(HookError, match=r"^registry: \$RUNWAY_EXT_REGISTRY: invalid registry"):
        resolve_registry(args(), {"RUNWAY_EXT_REGISTRY": "not a host"})


# -- the publish plan ------------------------------------------------------------------------------
def test_plan_retags_when_ecr_has_the_content_tag_adding_only_missing_tags() -> None:
    existing = EcrImage(digest=DIGEST, tags=(CONTENT.tag, "v1"))
    plan = plan_publish(args(image_tag="v2", tags=["stable", "v1"]), REPOSITORY, None, CONTENT, existing)
    assert (plan.action, plan.reason) == ("retag", f"ECR already has {CONTENT.tag}")
    assert plan.tags == ("v2", "stable", "v1", CONTENT.tag)
    assert plan.missing_tags == ("v2", "stable")
    assert plan.requested_tags == ("v2", "stable", "v1") and plan.content_tag == CONTENT.tag
    assert plan.image_uri == f"{REPOSITORY.host}/my-app-repo:v2"
    assert plan.existing == existing


@pytest.mark.parametrize(
    ("values", "has_existing", "action", "reason"),
    [
        ({}, False, "build_and_push", f"no image tagged {CONTENT.tag} in ECR"),
        ({"force": True}, True, "build_and_push", "force is set"),
        ({"push": False}, True, "build_only", "push is false"),
        ({"push": False}, False, "build_only", "push is false"),
        ({"push": False, "force": True}, True, "build_only", "push is false"),
    ],
)
def test_plan_builds_when_missing_forced_or_not_pushing(values: dict[str, object], has_existing: bool, action: str, reason: str) -> None:
    existing = EcrImage(digest=DIGEST, tags=(CONTENT.tag,)) if has_existing else None
    plan = plan_publish(args(**values), REPOSITORY, None, CONTENT, existing)
    assert (plan.action, plan.reason) == (action, reason)
    assert plan.existing is None and plan.missing_tags == ()


def test_plan_rebuilds_when_the_override_registry_lost_what_ecr_records() -> None:
    existing = EcrImage(digest=DIGEST, tags=(CONTENT.tag,))
    plan = plan_publish(args(), REPOSITORY, "127.0.0.1:5000", CONTENT, existing, registry_has_existing=False)
    assert plan.action == "build_and_push"
    assert plan.reason == f"ECR records {CONTENT.tag} as {DIGEST} but the registry 127.0.0.1:5000 lacks it"
    assert plan_publish(args(), REPOSITORY, "127.0.0.1:5000", CONTENT, existing).action == "retag"


def test_plan_names_images_under_the_override_registry_content_tag_last() -> None:
    plan = plan_publish(args(image_tag="v1", tags=["v1", "x"]), REPOSITORY, "127.0.0.1:5000", CONTENT, None)
    assert plan.refs == (
        "127.0.0.1:5000/my-app-repo:v1",
        "127.0.0.1:5000/my-app-repo:x",
        f"127.0.0.1:5000/my-app-repo:{CONTENT.tag}",
    )
    assert plan.target_registry == "127.0.0.1:5000"


# -- command lines ---------------------------------------------------------------------------------
def test_buildx_command_never_pulls_and_keeps_secret_build_args_off_argv() -> None:
    parsed = args(
        build_args={"VERSION": 3, "NPM_TOKEN": "s3cr3t-value", "DEBUG": True, "MIRROR": "https://bot:hunter22@pypi.example.com/simple"},
        allow_secret_build_args=True,
        target="runtime",
        cache_from=["type=registry,ref=x:cache"],
        no_cache=True,
        platform="linux/arm64",
    )
    command = build_command("docker", "buildx", parsed, PATHS, ("r:1", "r:content-x"))
    argv = command.argv
    assert argv[:5] == ["docker", "buildx", "build", "--load", "--provenance=false"]
    assert "--pull=false" in argv
    assert argv[argv.index("--platform") + 1] == "linux/arm64"
    assert argv[argv.index("--file") + 1] == "/w/docker/Dockerfile"
    assert [argv[i + 1] for i, part in enumerate(argv) if part == "--tag"] == ["r:1", "r:content-x"]
    assert [argv[i + 1] for i, part in enumerate(argv) if part == "--build-arg"] == ["VERSION=3", "NPM_TOKEN", "DEBUG=true", "MIRROR"]
    assert "s3cr3t-value" not in " ".join(argv) and "hunter22" not in " ".join(argv)
    assert command.env == {"NPM_TOKEN": "s3cr3t-value", "MIRROR": "https://bot:hunter22@pypi.example.com/simple"}
    assert command.secret_args == ("NPM_TOKEN", "MIRROR")
    assert argv[argv.index("--target") + 1] == "runtime" and "--no-cache" in argv
    assert argv[argv.index("--cache-from") + 1] == "type=registry,ref=x:cache"
    assert argv[-1] == "/w"


def test_build_secrets_reach_docker_by_id_with_values_only_in_its_environment(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "npmrc").write_text("//registry/:_authToken=file-secret-value\n")
    parsed = args(secrets={"api_token": "literal-secret-value", "npm": {"file": "npmrc"}, "gh": {"env": "GH_TOKEN"}})
    resolved = resolve_secrets(parsed, {"GH_TOKEN": "env-secret-value"}, tmp_path / "w")
    command = build_command("docker", "buildx", parsed, PATHS, ("r:1",), resolved)
    flags = [command.argv[i + 1] for i, part in enumerate(command.argv) if part == "--secret"]
    assert flags == ["id=api_token,env=RUNWAY_EXT_BUILD_SECRET_1", "id=gh,env=GH_TOKEN", f"id=npm,src={tmp_path / 'w' / 'npmrc'}"]
    assert command.env["RUNWAY_EXT_BUILD_SECRET_1"] == "literal-secret-value" and "GH_TOKEN" not in command.env
    assert all(secret not in " ".join(command.argv) for secret in ("literal-secret-value", "env-secret-value", "file-secret-value"))
    assert "secret-value" not in repr(resolved)
    assert redact("x literal-secret-value env-secret-value //registry/:_authToken=file-secret-value") == "x *** *** ***"


@pytest.mark.parametrize(
    ("secrets", "environ", "line"),
    [
        ({"gh": {"env": "GH_TOKEN"}}, {}, "secrets.gh: environment variable GH_TOKEN is not set (or empty)"),
        ({"npm": {"file": "missing"}}, {}, "secrets.npm: file "),
        ({"npm": {"file": "."}}, {}, "secrets.npm: "),
    ],
)
def test_a_secret_that_is_not_there_is_one_line_naming_it(
    secrets: dict[str, object], environ: dict[str, str], line: str, tmp_path: Path
) -> None:
    with pytest.raises(HookError, match="^" + re.escape(line)):
        resolve_secrets(args(secrets=secrets), environ, tmp_path)


def test_secret_looking_build_args_are_refused_unless_allowed_never_quoting_the_value() -> None:
    for build_args in ({"NPM_TOKEN": "tok-value-1"}, {"db_password": "x"}, {"MIRROR": "https://bot:hunter22@pypi.example.com/simple"}):
        with pytest.raises(HookError) as caught:
            args(build_args=build_args)
        [line] = str(caught.value).splitlines()
        assert line.startswith(f"build_args: {next(iter(build_args))} ") and "secrets" in line and "allow_secret_build_args" in line
        assert "tok-value-1" not in line and "hunter22" not in line
        assert args(build_args=build_args, allow_secret_build_args=True).build_args == build_args
    assert args(build_args={"MONKEY_COUNT": "3", "KEYBOARD": "us"}).build_args == {"MONKEY_COUNT": "3", "KEYBOARD": "us"}


def test_classic_cli_build_turns_buildkit_on() -> None:
    command = build_command("docker", "docker", args(), PATHS, ("r:1",))
    assert command.argv[:2] == ["docker", "build"] and "--load" not in command.argv and "--pull=false" in command.argv
    assert command.env == {"DOCKER_BUILDKIT": "1"} and command.secret_args == ()


def test_login_reads_the_password_from_stdin() -> None:
    assert login_command("docker", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS") == [
        "docker",
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]


# -- the result ------------------------------------------------------------------------------------
def test_result_of_a_push_to_an_override_registry_names_both_forms() -> None:
    plan = plan_publish(args(image_tag="v1"), REPOSITORY, "127.0.0.1:5000", CONTENT, None)
    result = publish_result(
        args(image_tag="v1", environment="prod"),
        "us-east-1",
        REPOSITORY,
        plan,
        CONTENT,
        PublishOutcome(digest=DIGEST, image_id="sha256:" + "ee" * 32),
        repository_created=True,
    )
    assert (result.built, result.pushed, result.skipped) == (True, True, False)
    assert result.image_uri == "127.0.0.1:5000/my-app-repo:v1"
    assert result.digest_uri == f"127.0.0.1:5000/my-app-repo@{DIGEST}"
    assert result.ecr_digest_uri == f"{REPOSITORY.host}/my-app-repo@{DIGEST}"
    assert result.tags == ["v1", CONTENT.tag] and result.content_tag == CONTENT.tag and result.content_hash == CONTENT.hexdigest
    assert (result.region, result.registry, result.environment, result.repository_created) == ("us-east-1", "127.0.0.1:5000", "prod", True)


def test_result_of_a_retag_and_of_a_local_build() -> None:
    existing = EcrImage(digest=DIGEST, tags=(CONTENT.tag,))
    retag = plan_publish(args(), REPOSITORY, None, CONTENT, existing)
    skipped = publish_result(
        args(), "us-east-1", REPOSITORY, retag, CONTENT, PublishOutcome(digest=DIGEST, retagged=("latest",)), repository_created=False
    )
    assert (skipped.skipped, skipped.built, skipped.pushed, skipped.retagged, skipped.image_id) == (True, False, False, ["latest"], None)
    assert skipped.digest_uri == skipped.ecr_digest_uri == f"{REPOSITORY.host}/my-app-repo@{DIGEST}"

    local = plan_publish(args(push=False), REPOSITORY, None, CONTENT, None)
    built = publish_result(
        args(push=False), "us-east-1", REPOSITORY, local, CONTENT, PublishOutcome(image_id="sha256:1"), repository_created=False
    )
    assert (built.built, built.pushed, built.digest, built.digest_uri, built.ecr_digest_uri) == (True, False, None, None, None)


# -- platforms -------------------------------------------------------------------------------------
def test_a_multi_platform_plan_names_one_ref_per_platform_after_the_content_tag() -> None:
    plan = plan_publish(args(image_tag="v1", platforms=["linux/arm64", "linux/amd64"]), REPOSITORY, "127.0.0.1:5000", CONTENT, None)
    assert plan.multi_platform and plan.platforms == ("linux/amd64", "linux/arm64")
    assert plan.platform_ref("linux/arm64") == f"127.0.0.1:5000/my-app-repo:{CONTENT.tag}-linux-arm64"
    single = plan_publish(args(platforms=["linux/arm64"]), REPOSITORY, None, CONTENT, None)
    assert not single.multi_platform and single.platforms == ("linux/arm64",)


def test_one_platform_given_as_a_list_is_the_platform_built_and_hashed(tmp_path: Path) -> None:
    from runway_ext.hooks.docker_build_push.context_hash import BuildInputs, hash_build

    parsed = args(platforms=["linux/arm64"])
    command = build_command("docker", "buildx", parsed, PATHS, ("r:1",))
    assert command.argv[command.argv.index("--platform") + 1] == "linux/arm64"
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    one = hash_build(BuildInputs(tmp_path, tmp_path / "Dockerfile", platform="linux/arm64"))
    both = hash_build(BuildInputs(tmp_path, tmp_path / "Dockerfile", platforms=("linux/amd64", "linux/arm64")))
    reordered = hash_build(BuildInputs(tmp_path, tmp_path / "Dockerfile", platforms=("linux/arm64", "linux/amd64")))
    amd64 = hash_build(BuildInputs(tmp_path, tmp_path / "Dockerfile"))
    assert len({one.hexdigest, both.hexdigest, amd64.hexdigest}) == 3 and both.hexdigest == reordered.hexdigest


def test_the_index_command_joins_sources_by_digest() -> None:
    from runway_ext.hooks.docker_build_push.plan import index_command

    sources = (f"r/app@{DIGEST}", "r/app@sha256:" + "ef" * 32)
    assert index_command("docker", "r/app:content-x", sources) == ["docker", "buildx", "imagetools", "create", "--tag", "r/app:content-x", *sources]
