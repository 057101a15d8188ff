"""The Docker build + push hook's args and result models.

Contract: pure pydantic models. Each field's docstring is its documentation (docs table, CLI help);
validation rejects a bad repository name, tag, platform, build arg name, secret or registry with one
``field: problem`` line, before anything runs. A build arg whose name or value looks secret (the shared
redaction rules) is refused unless ``allow_secret_build_args`` is set: its value would be readable by
anyone who pulls the image (``docker history``); ``secrets`` is the channel for those. Messages name
the build arg or secret id, never a value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from runway_ext.core.args import EnvironmentName, HookArgs, Region, refused_by
from runway_ext.core.image_refs import platform_problem, registry_problem, repository_problem, tag_problem
from runway_ext.core.log import has_url_credentials, is_secret_name

ECR_KEYWORD = "ecr"
"""``registry: ecr`` pushes to ECR even when ``$RUNWAY_EXT_REGISTRY`` names another registry."""
_PLATFORM_SEPARATOR = re.compile(r"\s*,\s*|\s+")
_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SecretFromEnvironment(BaseModel):
    """``{env: NAME}``: the secret's value is the environment variable ``NAME`` of the deploy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str

    @field_validator("env")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ENV_NAME.fullmatch(value):
            raise ValueError(f"invalid environment variable name {value!r} (expected [A-Za-z_][A-Za-z0-9_]*)")
        return value


class SecretFromFile(BaseModel):
    """``{file: path}``: the secret's value is the content of a file (relative to working_directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: Path

    @field_validator("file")
    @classmethod
    def _path(cls, value: Path) -> Path:
        if not str(value) or str(value) == ".":
            raise ValueError("file: a file path is required")
        if "," in str(value) or "\n" in str(value):
            raise ValueError("file: a secret file path may not contain ',' or a line break")
        return value


def _secret_source(value: Any) -> str | SecretFromEnvironment | SecretFromFile:
    """One secret's value: the text itself, ``{env: NAME}`` or ``{file: path}`` (one line when it is none of them)."""
    if isinstance(value, str):
        if not value:
            raise ValueError("empty secret value")
        return value
    if isinstance(value, (SecretFromEnvironment, SecretFromFile)):
        return value
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("env", "file"):
        model = SecretFromEnvironment if "env" in value else SecretFromFile
        try:
            return model.model_validate(value)
        except ValidationError as error:
            raise ValueError(str(error.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")) from None
    raise ValueError("expected the value as text, {env: NAME} or {file: path}")


SecretSource = Annotated[str | SecretFromEnvironment | SecretFromFile, PlainValidator(_secret_source)]


def _split_platforms(value: Any) -> Any:
    """``"linux/amd64,linux/arm64"`` or ``"linux/amd64 linux/arm64"`` (one text, or one list item) -> a list of platforms."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):
        return [part for item in value for part in (_PLATFORM_SEPARATOR.split(item.strip()) if isinstance(item, str) else [item])]
    return value


def _unique_platforms(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        problem = platform_problem(value)
        if problem:
            raise ValueError(problem)
        if value in seen:
            raise ValueError(f"platform {value} is listed twice")
        seen.add(value)
    return values


Platforms = Annotated[list[str], BeforeValidator(_split_platforms)]


class DockerBuildPushArgs(HookArgs):
    """Arguments of the Docker build + push hook."""

    repository_name: Annotated[str, refused_by(repository_problem)]
    """ECR repository name (e.g. my-app-repo or team/my-app); created when missing unless create_repository is false."""

    image_tag: Annotated[str, refused_by(tag_problem)] = "latest"
    """The tag to build, push and report (image_uri)."""

    dockerfile_path: Path = Path("Dockerfile")
    """The Dockerfile, relative to working_directory."""

    build_context: Path = Path(".")
    """The build context folder, relative to working_directory."""

    region: Region | None = None
    """AWS region of the ECR repository (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    environment: EnvironmentName = "dev"
    """Deploy environment: tagged on the repository when it is created (Environment=...) and reported; it does not change the image, so one build can be promoted from dev to prod by digest."""

    working_directory: Path | None = None
    """Folder the Dockerfile and context paths are relative to (default: the current folder, in Runway the module folder)."""

    platform: str = "linux/amd64"
    """Target platform os/arch[/variant] of a one-platform build (linux/amd64 or linux/arm64 for Lambda)."""

    platforms: Platforms = []
    """Build for several platforms (e.g. [linux/amd64, linux/arm64], or one text separated by commas or spaces): one image index in the registry with one manifest per platform. Replaces platform; empty builds platform alone."""

    allow_secret_build_args: bool = False
    """Accept secret-looking build_args anyway (a warning says the value will be readable in the image history)."""

    build_args: dict[str, str | int | float | bool] = {}
    """Build-time variables (--build-arg). Their values are readable in the image (docker history), so a name that looks secret (*TOKEN*, *PASSWORD*, *KEY*, ...) or a credential-shaped value (a URL with a password) is refused: use secrets (or allow_secret_build_args)."""

    secrets: dict[str, SecretSource] = {}
    """BuildKit build secrets (--secret), id -> value, {env: NAME} or {file: path}; a Dockerfile reads one with RUN --mount=type=secret,id=ID (at /run/secrets/ID). Never in the image, its history, the command line or the logs."""

    secrets_affect_hash: bool = False
    """Rebuild when a secret's value changes. Off: only the secret ids count, so rotating a token does not rebuild every image. On: a slow salted digest of each value (never the value) enters the content hash."""

    allow_context_files: list[str] = []
    """Context files the secret check lets into the image anyway (paths relative to build_context, folders or globs). Without it, a context file that holds a secret (an env file with secret values, .npmrc/.pypirc with a token, .git/config with credentials, a private key, a cloud credential file) stops the hook before docker runs."""

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
        problem = platform_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, values: list[str]) -> list[str]:
        return _unique_platforms(values)

    @model_validator(mode="after")
    def _platform_or_platforms(self) -> DockerBuildPushArgs:
        if self.platforms and "platform" in self.model_fields_set and [self.platform] != self.platforms:
            raise ValueError("give platform (one) or platforms (several), not both")
        return self

    def target_platforms(self) -> tuple[str, ...]:
        """The platforms to build, sorted (so the index and the content hash do not depend on the order written)."""
        return tuple(sorted(self.platforms)) if self.platforms else (self.platform,)

    @property
    def multi_platform(self) -> bool:
        """Whether this build makes an image index (two platforms or more)."""
        return len(self.target_platforms()) > 1

    @field_validator("build_args")
    @classmethod
    def _build_args(cls, values: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        for name, value in values.items():
            if not _BUILD_ARG_NAME.fullmatch(name):
                raise ValueError(f"invalid build arg name {name!r} (expected [A-Za-z_][A-Za-z0-9_]*)")
            reason = "" if info.data.get("allow_secret_build_args") else secret_build_arg_reason(name, _as_text(value))
            if reason:
                raise ValueError(
                    f"{name} {reason}, and a build arg is readable in the image history: "
                    "pass it in secrets (RUN --mount=type=secret) or set allow_secret_build_args: true"
                )
        return values

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in values:
            if not _SECRET_ID.fullmatch(name):
                raise ValueError(f"invalid secret id {name!r} (letters, digits, '_', '.', '-'; up to 128)")
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


def secret_build_arg_reason(name: str, value: str) -> str:
    """Why a build arg looks secret (its name, or its value's shape), or ``""``; never quotes the value."""
    if is_secret_name(name):
        return "looks secret by its name"
    if has_url_credentials(value):
        return "holds a credential-shaped value"
    return ""


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
    """The local image id (sha256:...) when the image was built here (of the first platform for a multi-platform build)."""
    platform: str
    """The platform of a one-platform build; the platforms joined by commas for an image index."""
    platforms: list[str]
    """Every platform built (sorted)."""
    index_digest: str | None
    """sha256:... of the image index (multi-platform builds; equals digest). Null for one platform."""
    platform_digests: dict[str, str]
    """Platform -> the digest of its own image manifest (what a Lambda function of that architecture takes); for one platform, that platform -> digest."""
    environment: str
    repository_created: bool
