"""The Docker build + push hook's args model: defaults and one-line errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_build_push import DockerBuildPushArgs, cfngin_hook


def args(**values: object) -> DockerBuildPushArgs:
    return cfngin_hook.parse({"repository_name": "my-app-repo", **values})


def test_seed_defaults() -> None:
    parsed = args()
    assert (parsed.image_tag, parsed.dockerfile_path, parsed.build_context, parsed.environment) == (
        "latest",
        Path("Dockerfile"),
        Path("."),
        "dev",
    )
    assert parsed.region is None  # the deploy's region inside Runway, the environment's from the CLI
    assert parsed.working_directory is None and parsed.platform == "linux/amd64" and parsed.push is True
    assert parsed.create_repository is True and parsed.scan_on_push is True and parsed.builder == "auto"


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
        ({"timeout": 0}, "timeout: Input should be greater than 0"),
        ({"imagetag": "x"}, "imagetag: unknown argument"),
    ],
)
def test_bad_args_are_one_line_naming_the_field(values: dict[str, object], line: str) -> None:
    with pytest.raises(HookError) as caught:
        args(**values)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(line)


def test_requested_tags_keep_order_once_each_and_build_args_are_text() -> None:
    parsed = args(image_tag="v1", tags=["stable", "v1", "x"], build_args={"N": 3, "F": 1.5, "ON": True, "OFF": False})
    assert parsed.requested_tags() == ["v1", "stable", "x"]
    assert parsed.text_build_args() == {"N": "3", "F": "1.5", "ON": "true", "OFF": "false"}


def test_registry_keeps_the_ecr_keyword_and_drops_a_trailing_slash() -> None:
    assert args(registry="ecr").registry == "ecr"
    assert args(registry="registry.example.com/team/").registry == "registry.example.com/team"


# -- platforms ------------------------------------------------------------------------------------
def test_platforms_take_a_list_or_one_comma_separated_value_and_are_sorted() -> None:
    from runway_ext.hooks.docker_build_push.args import DockerBuildPushArgs

    listed = DockerBuildPushArgs(repository_name="app", platforms=["linux/arm64", "linux/amd64"])
    joined = DockerBuildPushArgs(repository_name="app", platforms="linux/amd64, linux/arm64")
    assert listed.target_platforms() == joined.target_platforms() == ("linux/amd64", "linux/arm64")
    assert listed.multi_platform and not DockerBuildPushArgs(repository_name="app").multi_platform
    assert DockerBuildPushArgs(repository_name="app", platform="linux/arm64").target_platforms() == ("linux/arm64",)


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (["linux/amd64", "linux/amd64"], "platforms: platform linux/amd64 is listed twice"),
        (["linux/amd64", "arm64"], "platforms: invalid platform 'arm64' (one os/arch[/variant], e.g. linux/amd64)"),
        ("linux/amd64,,linux/arm64", "platforms: invalid platform '' (one os/arch[/variant], e.g. linux/amd64)"),
        (["Linux/AMD64"], "platforms: invalid platform 'Linux/AMD64' (one os/arch[/variant], e.g. linux/amd64)"),
    ],
)
def test_bad_platforms_are_one_line(value: object, line: str) -> None:
    from runway_ext.core.errors import HookError
    from runway_ext.hooks.docker_build_push import cfngin_hook

    with pytest.raises(HookError) as raised:
        cfngin_hook.parse({"repository_name": "app", "platforms": value})
    assert str(raised.value).splitlines() == [line]


def test_platform_and_different_platforms_together_are_refused() -> None:
    from runway_ext.core.errors import HookError
    from runway_ext.hooks.docker_build_push import cfngin_hook

    with pytest.raises(HookError, match="give platform \\(one\\) or platforms \\(several\\), not both"):
        cfngin_hook.parse({"repository_name": "app", "platform": "linux/arm64", "platforms": ["linux/amd64", "linux/arm64"]})


def test_the_cli_takes_platforms_as_a_list() -> None:
    import argparse

    from runway_ext.core.cli import namespace_to_kwargs
    from runway_ext.hooks.docker_build_push import cfngin_hook
    from runway_ext.hooks.docker_build_push.args import DockerBuildPushArgs

    parser = argparse.ArgumentParser()
    cfngin_hook.configure_parser(parser)
    namespace = parser.parse_args(["app", "--platforms", "linux/amd64", "linux/arm64"])
    args = cfngin_hook.parse(namespace_to_kwargs(namespace, DockerBuildPushArgs))
    assert args.target_platforms() == ("linux/amd64", "linux/arm64")
