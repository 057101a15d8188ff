"""Image indexes read back from a registry or ECR: validated, bounded, attestation entries told apart."""

from __future__ import annotations

import json
import re

import pytest

from runway_ext.core.image_index import MAX_INDEX_BYTES, attestation_digests, is_index_media_type, parse_index, platform_digests

A, B, C = ("sha256:" + c * 64 for c in "abc")


def index(*entries: dict) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list(entries)})


def entry(digest: str, os_name: str, arch: str, variant: str | None = None, **annotations: str) -> dict:
    platform = {"os": os_name, "architecture": arch, **({"variant": variant} if variant else {})}
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 10, "platform": platform, "annotations": annotations}


def test_platforms_and_attestations_are_told_apart() -> None:
    parsed = parse_index(index(entry(A, "linux", "amd64"), entry(B, "linux", "arm64", "v8"),
                               entry(C, "unknown", "unknown", **{"vnd.docker.reference.type": "attestation-manifest"})))
    assert platform_digests(parsed) == {"linux/amd64": A, "linux/arm64/v8": B}
    assert attestation_digests(parsed) == [C]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "image index is not JSON"),
        ('{"schemaVersion": 2}', "not an image index (no manifests list)"),
        (index({"digest": "sha256:short", "size": 1}), "invalid image index: manifests.0.digest"),
        (index({"digest": A, "size": -1}), "invalid image index: manifests.0.size"),
        (" " * (MAX_INDEX_BYTES + 1), "larger than"),
    ],
)
def test_what_is_not_an_index_is_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_index(text)


def test_index_media_types() -> None:
    assert is_index_media_type("application/vnd.oci.image.index.v1+json")
    assert is_index_media_type("application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8")
    assert not is_index_media_type("application/vnd.oci.image.manifest.v1+json") and not is_index_media_type(None)
