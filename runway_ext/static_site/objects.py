"""What is known about one object of a site: as listed or inspected (:class:`RemoteObject`) and as recorded (:class:`ObjectState`). Pure.

:class:`ObjectState` is the one record of an object this tool writes, in the site manifest and in release
records alike: its bytes (sha256, size), the ETag S3 gave it, and its headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLAIN_ETAG = re.compile(r"\A[0-9a-f]{32}\Z")


@dataclass(frozen=True)
class RemoteObject:
    """An object in the bucket, with what is known about its content and headers."""

    key: str
    size: int
    etag: str
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    headers_known: bool = False
    last_modified: float | None = None
    """Seconds since the epoch (S3's clock), from the listing or a HEAD; None when not known."""


@dataclass(frozen=True)
class ObjectState:
    """One key as a sync or release left it."""

    sha256: str
    size: int
    etag: str
    content_type: str
    cache_control: str
    version_id: str | None = None
    """In a versioned bucket: a version holding these bytes (release records only; the site manifest keeps none)."""
    checksum: str | None = None
    """The object's full-object CRC64NVME as S3 stores it (base64; atomic releases): what a rollback verifies."""

    @property
    def headers(self) -> tuple[str, str]:
        """Content-Type and Cache-Control."""
        return (self.content_type, self.cache_control)


def is_plain_etag(etag: str) -> bool:
    """Whether an ETag is the MD5 of the object's bytes (single-part upload, no SSE-KMS)."""
    return bool(_PLAIN_ETAG.match(etag))


def strip_etag(etag: str) -> str:
    """An ETag without the quotes S3 puts around it."""
    return etag.strip().strip('"')


MD5_LIMIT = 16 * 1024**2
"""Files up to this size get an MD5 and go up in one PutObject (so their ETag is that MD5); larger ones go up multipart."""
