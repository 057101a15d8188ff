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
