"""Image indexes (OCI image index, Docker manifest list) read back from a registry or ECR, validated.

An image built for several platforms is an **index**: a small JSON document listing one image manifest
per platform, each by digest. ECS, EKS and App Runner take the index (the runtime picks its platform);
a Lambda function takes only an image manifest, so it needs the digest of its own architecture's entry.
BuildKit may add **attestation** entries (platform ``unknown/unknown``, annotation
``vnd.docker.reference.type: attestation-manifest``); Lambda refuses an index holding them, and they are
never a platform's image.

Contract: pure. :func:`parse_index` validates the document (pydantic, bounded: at most
:data:`MAX_INDEX_ENTRIES` entries) and raises ``ValueError`` with one line; :func:`platform_digests`
and :func:`attestation_digests` read a validated index.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runway_ext.core.image_refs import DIGEST_PATTERN

INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
ATTESTATION_REFERENCE_TYPE = "attestation-manifest"
MAX_INDEX_ENTRIES = 256
MAX_INDEX_BYTES = 4 * 1024 * 1024

Digest = Annotated[str, Field(pattern=DIGEST_PATTERN.pattern)]


class IndexPlatform(BaseModel):
    """The platform of one index entry."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    os: str = Field(max_length=64)
    architecture: str = Field(max_length=64)
    variant: str | None = Field(default=None, max_length=64)

    def name(self) -> str:
        """``os/arch[/variant]``."""
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


class IndexEntry(BaseModel):
    """One manifest an index points at."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    media_type: str = Field(alias="mediaType", default="", max_length=256)
    digest: Digest
    size: int = Field(ge=0)
    platform: IndexPlatform | None = None
    annotations: dict[str, str] = {}

    @property
    def is_attestation(self) -> bool:
        """Whether this entry is an attestation (SBOM/provenance), not an image of a platform."""
        if self.annotations.get("vnd.docker.reference.type") == ATTESTATION_REFERENCE_TYPE:
            return True
        return self.platform is not None and self.platform.os == "unknown" and self.platform.architecture == "unknown"


class ImageIndex(BaseModel):
    """An OCI image index / Docker manifest list."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    schema_version: int = Field(alias="schemaVersion")
    media_type: str = Field(alias="mediaType", default="", max_length=256)
    manifests: list[IndexEntry] = Field(max_length=MAX_INDEX_ENTRIES)


def is_index_media_type(media_type: str | None) -> bool:
    """Whether a manifest media type is an index (OCI image index or Docker manifest list)."""
    return (media_type or "").split(";")[0].strip() in INDEX_MEDIA_TYPES


def parse_index(text: str | bytes) -> ImageIndex:
    """Validate an index document; ``ValueError`` (one line) when it is not one."""
    if len(text) > MAX_INDEX_BYTES:
        raise ValueError(f"image index of {len(text)} bytes is larger than {MAX_INDEX_BYTES}")
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("image index is not JSON") from None
    if not isinstance(data, dict) or "manifests" not in data:
        raise ValueError("not an image index (no manifests list)")
    try:
        return ImageIndex.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"invalid image index: {where}: {first['msg']}") from None


def platform_digests(index: ImageIndex) -> dict[str, str]:
    """Platform (``os/arch[/variant]``) -> digest of its image manifest; attestation entries left out."""
    found: dict[str, str] = {}
    for entry in index.manifests:
        if entry.is_attestation or entry.platform is None:
            continue
        found.setdefault(entry.platform.name(), entry.digest)
    return found


def attestation_digests(index: ImageIndex) -> list[str]:
    """Digests of the attestation entries (empty for an index Lambda accepts)."""
    return [entry.digest for entry in index.manifests if entry.is_attestation]
