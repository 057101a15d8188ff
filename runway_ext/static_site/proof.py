"""Prove that the bytes a restore would publish are the release's, by a checksum S3 computed, before anything is written.

A release record names each object's SHA-256 (computed by the deploy from the built file). Before a rollback
copies a retained copy or an object version back to the site, :func:`prove_sources` establishes, for every source:

* S3's **full-object SHA-256** of the source (a HEAD with ``ChecksumMode: ENABLED``) equals the record's. Retained
  copies are written by CopyObject with ``ChecksumAlgorithm: SHA256`` and single-part uploads carry
  ``ChecksumSHA256``, so S3 computed (or verified) that checksum from the bytes it stores; no ``x-amz-meta-*``
  value, which is whatever its writer chose, is ever believed;
* where S3 holds no full-object SHA-256 (a copy kept by an older version of this tool, a multipart object whose
  SHA-256 is composite) the source is read once and hashed here.

Either way the proof is bound to the source's ETag: the restore copies with ``CopySourceIfMatch`` on it, so bytes
changed between the proof and the copy are not published. A source whose bytes differ refuses the whole rollback
in one line, before any write. CRC checksums are not used as proof: a CRC is linear, so whoever may write a copy can
give other bytes of the same size the same CRC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from runway_ext.core.aws import aws_errors
from runway_ext.static_site.checksums import full_object_sha256
from runway_ext.static_site.objects import ObjectState, strip_etag
from runway_ext.static_site.records import Release, ReleaseError
from runway_ext.static_site.s3 import S3Site

READ_CHUNK = 1024**2


def _version(source: Mapping[str, str]) -> dict[str, str]:
    return {"VersionId": source["VersionId"]} if source.get("VersionId") else {}


def proven_etag(site: S3Site, source: Mapping[str, str], state: ObjectState) -> tuple[str | None, str]:
    """The ETag of ``source`` when its bytes provably are ``state``'s (else None), and how it was proven or why not."""
    client, bucket, key = site.client, source["Bucket"], source["Key"]
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **_version(source))
    etag = strip_etag(head.get("ETag", ""))
    if int(head["ContentLength"]) != state.size:
        return None, f"it holds {head['ContentLength']} bytes, the release {state.size}"
    computed = full_object_sha256(head)
    if computed is not None:
        if computed == state.sha256:
            return etag, "S3's SHA-256"
        return None, "S3's SHA-256 of its bytes is not the release's"
    response = client.get_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"', **_version(source))
    digest = hashlib.sha256()
    body = response["Body"]
    for chunk in iter(lambda: body.read(READ_CHUNK), b""):
        digest.update(chunk)
    if digest.hexdigest() == state.sha256:
        return etag, "read and hashed (S3 holds no full-object SHA-256 of it)"
    return None, "the SHA-256 of its bytes is not the release's"


def prove_sources(site: S3Site, sources: Mapping[str, Mapping[str, str]], release: Release) -> dict[str, str]:
    """The proven ETag of every source (key → ETag); :class:`ReleaseError` naming the first whose bytes are not the release's."""

    def prove(key: str) -> tuple[str, str | None, str]:
        try:
            etag, how = proven_etag(site, sources[key], release.objects[key])
        except aws_errors() as error:
            raise site.error(f"check the retained bytes of {key}", error) from None
        return key, etag, how

    results = site.run_parallel(sorted(sources), prove, what="check the retained bytes of", describe=str)
    refused = [(key, how) for key, etag, how in results if etag is None]
    if refused:
        key, why = refused[0]
        raise ReleaseError(
            f"release {release.id}: the retained bytes of {len(refused)} object(s) are not the release's, e.g. {key} "
            f"({sources[key]['Key']}: {why}); refused, nothing was changed"
        )
    site.log.debug("proved the bytes of %d object(s) to restore", len(results))
    return {key: str(etag) for key, etag, _ in results}
