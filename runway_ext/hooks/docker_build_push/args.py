"""The Docker build + push hook's args and result models.

Contract: pure pydantic models. Each field's docstring is its documentation (docs table, CLI help);
validation rejects a bad repository name, tag, platform, build arg name or registry with one
``field: problem`` line, before anything runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ...core.args import EnvironmentName, HookArgs
from ...core.image_refs import registry_problem, repository_problem, tag_problem

ECR_KEYWORD = "ecr"
"""``registry: ecr`` pushes to ECR even when ``$RUNWAY_EXT_REGISTRY`` names another registry."""
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DockerBuildPushArgs(HookArgs):
    """Arguments of the Docker build + push hook."""

    repository_name: str
    """ECR repository name (e.g. my-app-repo or team/my-app); created when missing unless create_repository is false."""

    image_tag: str = "latest"
    """The tag to build, push and report (image_uri)."""

    dockerfile_path: Path = Path("Dockerfile")
    """The Dockerfile, relative to working_directory."""

    build_context: Path = Path(".")
    """The build context folder, relative to working_directory."""

    region: str | None = None
    """AWS region of the ECR repository (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    environment: EnvironmentName = "dev"
    """Deploy environment: tagged on the repository when it is created (Environment=...) and reported; it does not change the image, so one build can be promoted from dev to prod by digest."""

    working_directory: Path | None = None
    """Folder the Dockerfile and context paths are relative to (default: the current folder, in Runway the module folder)."""

    platform: str = "linux/amd64"
    """Target platform os/arch[/variant] (linux/amd64 or linux/arm64 for Lambda)."""

    build_args: dict[str, str | int | float | bool] = {}
    """Build-time variables (--build-arg). Values that look secret (names like *TOKEN*, *PASSWORD*, ...; URLs with a password) reach docker through its environment, never its command line."""

    target: str | None = None
    """Build stage to stop at (--target) in a multi-stage Dockerfile."""

    tags: list[str] = []
    """Extra tags for the same image (pushed, or added to the existing image on a skip)."""

    cache_from: list[str] = []
    """External cache sources for the build (--cache-from), e.g. type=registry,ref=REPO:cache or an image reference."""

    no_cache: bool = False
    """Build without the layer cache (--no-cache). Does not force a build when ECR already has this content: use force."""

    push: bool = True
    """Push the image (false: build and tag locally only; nothing is recorded in ECR)."""

    force: bool = False
    """Build and push even when ECR already has an image with this build's content tag."""

    registry: str | None = None
    """Push to this registry (host[:port][/prefix]) instead of ECR; the ECR API still records the image (PutImage) so ${ecr_image} resolves. Default: $RUNWAY_EXT_REGISTRY if set (local mode), else ECR; 'ecr' forces ECR."""

    create_repository: bool = True
    """Create the ECR repository when it does not exist."""

    scan_on_push: bool = True
    """For a repository this hook creates: ECR basic scanning on push."""

    builder: Literal["auto", "buildx", "docker"] = "auto"
    """How to run BuildKit: 'buildx' (docker buildx build --load), 'docker' (DOCKER_BUILDKIT=1 docker build), 'auto' (buildx when the plugin is installed)."""

    timeout: float = Field(default=1800, gt=0)
    """Seconds allowed for the build, and for each push."""

    @field_validator("repository_name")
    @classmethod
    def _repository(cls, value: str) -> str:
        problem = repository_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        problem = tag_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        for value in values:
            problem = tag_problem(value)
            if problem:
                raise ValueError(problem)
        return values

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if not _PLATFORM.fullmatch(value):
            raise ValueError(f"invalid platform {value!r} (one os/arch[/variant], e.g. linux/amd64)")
        return value

    @field_validator("build_args")
    @classmethod
    def _build_args(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in values:
            if not _BUILD_ARG_NAME.fullmatch(name):
                raise ValueError(f"invalid build arg name {name!r} (expected [A-Za-z_][A-Za-z0-9_]*)")
        return values

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is None or value == ECR_KEYWORD:
            return value
        value = value.rstrip("/")
        problem = registry_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def requested_tags(self) -> list[str]:
        """``image_tag`` then the extra ``tags``, each once."""
        return list(dict.fromkeys([self.image_tag, *self.tags]))

    def text_build_args(self) -> dict[str, str]:
        """Build args as the strings docker gets (booleans as true/false)."""
        return {name: _as_text(value) for name, value in self.build_args.items()}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DockerBuildPushResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.docker_build_push``)."""

    repository_name: str
    repository_uri: str
    """The ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)."""
    region: str
    """The region of the ECR repository."""
    registry: str
    """Where the image was pushed: the ECR host, or the registry override."""
    image_uri: str
    """REGISTRY/REPOSITORY:IMAGE_TAG."""
    digest: str | None
    """sha256:... of the pushed manifest (null when push is false)."""
    digest_uri: str | None
    """REGISTRY/REPOSITORY@sha256:... (a Lambda ImageUri / ECS image that never moves)."""
    ecr_digest_uri: str | None
    """The same image in ECR form (what ${ecr_image} returns); equals digest_uri when pushing to ECR."""
    tags: list[str]
    """Every tag this run put on the image: the requested ones and the content tag."""
    content_hash: str
    content_tag: str
    skipped: bool
    """True when ECR already had this build: nothing was built or pushed."""
    built: bool
    pushed: bool
    retagged: list[str]
    """On a skip: the tags newly added to the existing image."""
    image_id: str | None
    """The local image id (sha256:...) when the image was built here."""
    platform: str
    environment: str
    repository_created: bool
