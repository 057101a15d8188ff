"""CopyObject's ``x-amz-copy-source-if-match`` in the stand-in, as S3 documents it.

S3 copies only while the source's ETag matches ``x-amz-copy-source-if-match`` and answers 412 PreconditionFailed
otherwise; moto ignores the header and copies whatever the source holds. After :func:`install_copy_source_if_match`
the moto of this process checks it, so a copy bound to bytes proven earlier fails, as on S3, once they changed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def install_copy_source_if_match() -> None:
    """Make this process's moto refuse a CopyObject whose ``x-amz-copy-source-if-match`` is not the source's ETag."""
    from moto.s3 import responses
    from moto.s3.exceptions import PreconditionFailed

    response_class: Any = responses.S3Response
    original = response_class.copy_object
    if getattr(original, "_runway_ext_conditional", False):
        return

    def copy_object(self: Any) -> Any:
        wanted = self.headers.get("x-amz-copy-source-if-match")
        if wanted:
            source = self.headers.get("x-amz-copy-source")
            parsed = urlparse(source.decode("utf-8") if isinstance(source, bytes) else source)
            bucket, key = unquote(parsed.path).lstrip("/").split("/", 1)
            version = parse_qs(parsed.query).get("versionId", [None])[0]
            found = self.backend.get_object(bucket, key, version_id=version)
            if found is not None and wanted.strip('"') != found.etag.strip('"'):
                raise PreconditionFailed(failed_condition="x-amz-copy-source-If-Match")
        return original(self)

    copy_object._runway_ext_conditional = True  # type: ignore[attr-defined]
    response_class.copy_object = copy_object
