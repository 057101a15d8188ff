"""The image promotion hook's args and result models.

Contract: pure pydantic models; ``source`` and ``destination`` are ``REPOSITORY:TAG`` (ECR names),
refused in one ``field: problem`` line before anything runs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

from runway_ext.core.args import HookArgs, Region
from runway_ext.core.image_refs import account_problem, registry_problem, repository_problem, tag_problem
from runway_ext.hooks.docker_build_push.args import ECR_KEYWORD


def _image_reference(value: str) -> str:
    repository, colon, tag = value.rpartition(":")
    if not colon or not repository:
        raise ValueError(f"{value!r} is not REPOSITORY:TAG")
    problem = repository_problem(repository) or tag_problem(tag)
    if problem:
        raise ValueError(problem)
    return value


ImageReference = Annotated[str, AfterValidator(_image_reference)]


class DockerPromoteArgs(HookArgs):
    """Arguments of the image promotion hook."""

    source: ImageReference = Field(json_schema_extra={"cli_aliases": ["from"]})
    """The image to promote, REPOSITORY:TAG in ECR (CLI: --from)."""

    destination: ImageReference = Field(json_schema_extra={"cli_aliases": ["to"]})
    """Where it goes, REPOSITORY:TAG (CLI: --to); the repository is created when missing unless create_repository is false."""

    source_region: Region | None = None
    """Region of the source repository (default: the deploy's region)."""

    destination_region: Region | None = None
    """Region of the destination repository (default: source_region)."""

    source_registry_id: str | None = None
    """Account owning the source repository (default: the caller's)."""

    destination_registry_id: str | None = None
    """Account owning the destination repository (default: the caller's)."""

    registry: str | None = None
    """Copy within this registry (host[:port][/prefix]) instead of ECR's; the ECR API still records the image. Default: $RUNWAY_EXT_REGISTRY if set (local mode), else ECR; 'ecr' forces ECR."""

    create_repository: bool = True
    """Create the destination ECR repository when it does not exist."""

    timeout: float = Field(default=1800, gt=0)
    """Seconds allowed for the copy."""

    @field_validator("source_registry_id", "destination_registry_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        problem = account_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

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

    def repository_and_tag(self, reference: str) -> tuple[str, str]:
        """``REPOSITORY:TAG`` split in two."""
        repository, _, tag = reference.rpartition(":")
        return repository, tag


class DockerPromoteResult(BaseModel):
    """What the promotion did (hook_data ``runway_ext.docker_promote``)."""

    source_uri: str
    """REGISTRY/REPOSITORY@sha256:... of the source."""
    destination_uri: str
    """REGISTRY/REPOSITORY:TAG of the destination."""
    destination_digest_uri: str
    """The promoted image in the destination's ECR form, by digest (what ${ecr_image} returns there)."""
    digest: str
    """The digest, the same on both sides."""
    platform_digests: dict[str, str]
    """For an index: platform -> its manifest digest, the same on both sides (empty for one manifest)."""
    copied: bool
    """False when the destination already had this very image under the tag."""
    repository_created: bool
