"""The Docker build + push hook's pure parts: args, registry choice, the build/retag plan, command lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.docker_context_hash import ContextHash
from runway_ext.ecr_images import EcrImage, EcrRepository
from runway_ext.hooks.docker_build_push import (
    BuildPaths,
    DockerBuildPushArgs,
    build_command,
    cfngin_hook,
    login_command,
    plan_publish,
    resolve_paths,
    resolve_registry,
)

REPOSITORY = EcrRepository(
    name="my-app-repo", uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app-repo", registry_id="123456789012", region="us-east-1"
)
CONTENT = ContextHash(hexdigest="ab" * 32, entries=3, ignore_file=None)
PATHS = BuildPaths(working_directory=Path("/w"), dockerfile=Path("/w/docker/Dockerfile"), context=Path("/w"))


def args(**values: object) -> DockerBuildPushArgs:
    return cfngin_hook.parse({"repository_name": "my-app-repo", **values})


def test_seed_defaults() -> None:
    parsed = args()
    assert (parsed.image_tag, parsed.dockerfile_path, parsed.build_context, parsed.region, parsed.environment) == (
        "latest", Path("Dockerfile"), Path("."), "us-east-1", "dev",
    )
    assert parsed.working_directory is None and parsed.platform == "linux/amd64" and parsed.push is True
    assert parsed.create_repository is True and parsed.scan_on_push is True


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"image_tag": "-bad"}, "image_tag: invalid image tag '-bad'"),
        ({"tags": ["ok", "no:colon"]}, "tags: invalid image tag 'no:colon'"),
        ({"repository_name": "My_Repo"}, "repository_name: invalid repository name 'My_Repo'"),
        ({"platform": "amd64"}, "platform: invalid platform 'amd64'"),
        ({"build_args": {"1X": "v"}}, "build_args: invalid build arg name '1X'"),
        ({"registry": "http://127.0.0.1:5000"}, "registry: registry 'http://127.0.0.1:5000' must be a host"),
        ({"builder": "kaniko"}, "builder: Input should be 'auto', 'buildx' or 'docker'"),
        ({"imagetag": "x"}, "imagetag: unknown argument"),
    ],
)
def test_bad_args_are_one_line_naming_the_field(values: dict[str, object], line: str) -> None:
    with pytest.raises(HookError) as caught:
        args(**values)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(line)


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
    with pytest.raises(HookError, match=r"^registry: \$RUNWAY_EXT_REGISTRY: invalid registry"):
        resolve_registry(args(), {"RUNWAY_EXT_REGISTRY": "not a host"})


def test_plan_retags_when_ecr_has_the_content_tag() -> None:
    existing = EcrImage(digest="sha256:" + "cd" * 32, tags=(CONTENT.tag, "v1"))
    plan = plan_publish(args(image_tag="v2", tags=["stable"]), REPOSITORY, None, CONTENT, existing)
    assert plan.action == "retag"
    assert plan.tags == ("v2", "stable", CONTENT.tag)
    assert plan.refs[0] == f"{REPOSITORY.host}/my-app-repo:v2"


def test_plan_builds_when_missing_forced_or_not_pushing() -> None:
    existing = EcrImage(digest="sha256:" + "cd" * 32, tags=(CONTENT.tag,))
    assert plan_publish(args(), REPOSITORY, None, CONTENT, None).action == "build"
    assert plan_publish(args(force=True), REPOSITORY, None, CONTENT, existing).reason == "force is set"
    assert plan_publish(args(push=False), REPOSITORY, None, CONTENT, existing).reason == "push is false"


def test_plan_names_images_under_the_override_registry_content_tag_last() -> None:
    plan = plan_publish(args(image_tag="v1", tags=["v1", "x"]), REPOSITORY, "127.0.0.1:5000", CONTENT, None)
    assert plan.refs == (
        "127.0.0.1:5000/my-app-repo:v1",
        "127.0.0.1:5000/my-app-repo:x",
        f"127.0.0.1:5000/my-app-repo:{CONTENT.tag}",
    )
    assert not plan.uses_ecr_registry


def test_buildx_command_never_pulls_and_keeps_secret_build_args_off_argv() -> None:
    parsed = args(build_args={"VERSION": 3, "NPM_TOKEN": "s3cr3t-value", "DEBUG": True}, target="runtime",
                  cache_from=["type=registry,ref=x:cache"], no_cache=True, platform="linux/arm64")
    argv, extra_env = build_command("docker", "buildx", parsed, PATHS, ("r:1", "r:content-x"))
    assert argv[:5] == ["docker", "buildx", "build", "--load", "--provenance=false"]
    assert "--pull=false" in argv
    assert argv[argv.index("--platform") + 1] == "linux/arm64"
    assert argv[argv.index("--file") + 1] == "/w/docker/Dockerfile"
    assert [argv[i + 1] for i, part in enumerate(argv) if part == "--tag"] == ["r:1", "r:content-x"]
    assert [argv[i + 1] for i, part in enumerate(argv) if part == "--build-arg"] == ["VERSION=3", "NPM_TOKEN", "DEBUG=true"]
    assert "s3cr3t-value" not in " ".join(argv)
    assert extra_env == {"NPM_TOKEN": "s3cr3t-value"}
    assert argv[argv.index("--target") + 1] == "runtime" and "--no-cache" in argv
    assert argv[argv.index("--cache-from") + 1] == "type=registry,ref=x:cache"
    assert argv[-1] == "/w"


def test_classic_cli_build_turns_buildkit_on() -> None:
    argv, extra_env = build_command("docker", "docker", args(), PATHS, ("r:1",))
    assert argv[:2] == ["docker", "build"] and "--load" not in argv and "--pull=false" in argv
    assert extra_env == {"DOCKER_BUILDKIT": "1"}


def test_login_reads_the_password_from_stdin() -> None:
    assert login_command("docker", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS") == [
        "docker", "login", "--username", "AWS", "--password-stdin", "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]
