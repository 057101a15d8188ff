"""The strict models of the documents this tool reads back from a bucket: release records, the index, the site manifest.

Whoever may write a site's state folder may write these documents, so each is input from someone else: it is read
by one pydantic model, with no extra fields, bounded sizes and shapes (a sha256 is 64 hex digits, a size a whole
number of bytes, a lock's ttl a finite number of seconds). A document that does not fit is refused whole; the
callers turn that into one line naming the document. The limits admit sites far larger than the 20,000 files a big
documentation site holds (:data:`MAX_OBJECTS`, :data:`MAX_DOCUMENT_BYTES`).

Only the shape is checked here; whether the keys a record names belong to the site is :mod:`.containment`'s.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

MAX_OBJECTS = 200_000
"""Most objects one record or manifest may name (ten times a 20,000-file site)."""

MAX_RELEASES = 1000
"""Most releases the index may list (``keep_releases`` allows at most 1,000)."""

MAX_DOCUMENT_BYTES = 128 * 1024**2
"""Largest document read (a 200,000-object record is about 60 MB)."""

MAX_LOCK_TTL = 24 * 3600.0
"""The longest a lock may be held without renewal; a larger ttl read back is clamped to this."""

MIN_LOCK_TTL = 1.0
"""The shortest lock ttl read back (a smaller or negative one is raised to this)."""

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ETag = Annotated[str, StringConstraints(max_length=128, pattern=r'^[0-9A-Za-z\-"]*$')]
HeaderValue = Annotated[str, StringConstraints(max_length=1024, pattern=r"^[\x20-\x7e]*$")]
Short = Annotated[str, StringConstraints(max_length=1024)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Size = Annotated[int, Field(ge=0, le=5 * 1024**4)]


class DocumentError(ValueError):
    """A document that is not one this version reads (the message says which field, in one line)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ObjectDocument(_Strict):
    """One object as a record or the manifest states it."""

    sha256: Sha256
    size: Size
    etag: ETag
    content_type: HeaderValue
    cache_control: HeaderValue
    version_id: Short | None = None
    checksum: Annotated[str, StringConstraints(max_length=128, pattern=r"^[A-Za-z0-9+/=]*$")] | None = None
    """S3's full-object CRC64NVME, base64 (atomic releases)."""


class RetiredDocument(ObjectDocument):
    """A key the site published that has left its build and is kept for the skew window: its state, and since when."""

    left_seq: Annotated[int, Field(ge=1, le=10**12)]
    """The first release recorded without it."""
    left_time: Annotated[str, StringConstraints(max_length=64)]
    """That release's time."""


class SummaryDocument(_Strict):
    """A release as the index lists it."""

    id: Annotated[str, StringConstraints(pattern=r"^r[0-9]{1,12}$")]
    seq: Annotated[int, Field(ge=1, le=10**12)]
    time: Annotated[str, StringConstraints(max_length=64)]
    source_hash: Annotated[str, StringConstraints(max_length=128)]
    settings_hash: Annotated[str, StringConstraints(max_length=128)]
    deployed_by: Annotated[str, StringConstraints(max_length=1024)]
    kind: Literal["deploy", "rollback"]
    retention: Literal["versions", "copies", "atomic"]
    files: Annotated[int, Field(ge=0, le=MAX_OBJECTS)]
    changed: Annotated[int, Field(ge=0, le=2 * MAX_OBJECTS)] | None = None
    delete: bool = True
    restored_from: Annotated[str, StringConstraints(pattern=r"^r[0-9]{1,12}$")] | None = None
    layout: Literal["in-place", "atomic"] = "in-place"
    shared: list[Annotated[str, StringConstraints(min_length=2, max_length=512, pattern=r"^[^/].*/$")]] = Field(
        default_factory=list, max_length=64
    )
    """Atomic releases: the shared prefixes (each ends with ``/``)."""


class RecordDocument(SummaryDocument):
    """One release record: its summary and every object it left (format 2: an atomic release)."""

    format: Literal[1, 2]
    objects: dict[Key, ObjectDocument] = Field(max_length=MAX_OBJECTS)
    forgotten: dict[Key, Sha256] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    """Key → content whose bytes ``site forget`` purged (no longer among the objects: a rollback leaves them as they are)."""
    retired: dict[Key, RetiredDocument] | None = Field(default=None, max_length=MAX_OBJECTS)
    """In-place deploys: the keys the site published that left the build and are kept for the skew window (absent:
    a record written before keys were tracked, or a rollback's)."""


class IndexDocument(_Strict):
    """The release index."""

    format: Literal[1]
    next_seq: Annotated[int, Field(ge=1, le=10**12 + 1)]
    releases: list[SummaryDocument] = Field(max_length=MAX_RELEASES)


class LockDocument(_Strict):
    """Who holds a ``syncing`` manifest."""

    owner: Annotated[str, StringConstraints(max_length=512)]
    host: Annotated[str, StringConstraints(max_length=255)]
    pid: Annotated[int, Field(ge=0, le=2**31)]
    run_id: Annotated[str, StringConstraints(max_length=64)]
    ttl: float
    boot_id: Annotated[str, StringConstraints(max_length=64)] = ""
    pid_ns: Annotated[str, StringConstraints(max_length=64)] = ""
    purpose: Annotated[str, StringConstraints(max_length=64)] = ""

    @field_validator("ttl")
    @classmethod
    def _bounded_ttl(cls, ttl: float) -> float:
        """A hostile ttl (NaN, infinite, 1e300, negative) is clamped: NaN and anything above the cap to the cap."""
        if math.isnan(ttl) or ttl > MAX_LOCK_TTL:
            return MAX_LOCK_TTL
        return max(ttl, MIN_LOCK_TTL)


class ManifestDocument(_Strict):
    """The site manifest (formats 1 and 2)."""

    format: Literal[1, 2]
    written_by: Annotated[str, StringConstraints(max_length=512)] = ""
    state: Literal["complete", "syncing"] = "complete"
    source_hash: Annotated[str, StringConstraints(max_length=128)]
    settings_hash: Annotated[str, StringConstraints(max_length=128)]
    objects: dict[Key, ObjectDocument] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    lock: LockDocument | None = None
    vouched_at: Annotated[float, Field(allow_inf_nan=False, ge=0, le=1e11)] | None = None
    pending: dict[Key, ObjectDocument] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    """A ``syncing`` manifest: what the deploy holding it is writing (single-part uploads: the ETag is the MD5), so
    objects of a deploy killed before it recorded them are still the site's."""


def load(data: bytes, model: type[_Strict], what: str) -> _Strict:
    """``data`` read by ``model``; :class:`DocumentError` naming ``what`` and the first field that does not fit."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{what} is {len(data)} bytes, more than the {MAX_DOCUMENT_BYTES} this tool reads")
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise DocumentError(f"{what} is not JSON") from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:200] or "document"
        raise DocumentError(f"{what}: {where}: {first['msg']}") from None
