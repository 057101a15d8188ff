"""The content hash S3 computed for an object, as this tool reads it. Pure.

S3 keeps a full-object SHA-256 (``ChecksumSHA256``, ``ChecksumType: FULL_OBJECT``) for a single-part upload sent
with one and for a CopyObject asked for one; a HEAD or GET with ``ChecksumMode: ENABLED`` returns it. A multipart
object's SHA-256 is composite (a hash of the parts' hashes, ``…-N``) and says nothing about the whole bytes. The
``x-amz-meta-sha256`` metadata is whatever the writer wrote: never read as a content hash.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any


def sha256_base64(hexdigest: str) -> str:
    """A SHA-256 as S3 writes it in ``ChecksumSHA256`` (base64 of the digest)."""
    return base64.b64encode(bytes.fromhex(hexdigest)).decode("ascii")


def full_object_sha256(response: Mapping[str, Any]) -> str | None:
    """The hex SHA-256 S3 computed over the whole object of a HEAD/GET answer (None: S3 holds none)."""
    checksum = response.get("ChecksumSHA256")
    if not checksum or response.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT" or "-" in str(checksum):
        return None
    try:
        raw = base64.b64decode(str(checksum), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None
