"""Plan an exact, incremental sync of a built static site to an S3 bucket. Pure: no I/O in this module.

Inputs are the local manifest (every built file with its size, sha256 and MD5), the bucket listing
(key, size, ETag) and the site manifest object this tool wrote after its last complete sync (per key:
sha256, ETag, headers). An object is compared by **content**, never by size + modification time:

* its state is known from the site manifest when the manifest's ETag for the key equals the listed
  ETag (so nothing changed the object since), else from a HEAD of the object (our ``sha256`` metadata
  and its headers) — :func:`keys_to_inspect` names the keys worth a HEAD;
* a single-part ETag is the MD5 of the bytes and settles equality on its own; multipart ETags are
  never compared, the sha256 is.

The plan lists uploads (new or changed bytes), metadata updates (same bytes, other headers: done by a
copy onto itself), deletes (objects not in the build, only with ``delete`` and never more than
``max_delete`` objects nor more than ``max_delete_fraction`` of the site: above either cap nothing is
deleted and the plan carries the refusal), and unchanged keys.

**What the site manifest vouches for.** A manifest entry describes a key only while the listing
shows the same ETag and size *and* the object was last modified no later than the manifest's
``vouched_at`` time (S3's clock, whole seconds): an object deleted, overwritten with other bytes, or
rewritten (even with the same bytes and other headers) after that time is not vouched for, so it is
compared again. A manifest in state ``syncing`` (a deploy started and has not finished, or died)
vouches only for the keys that deploy did not plan to touch; see :mod:`.protocol`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from .headers import CacheRule, ObjectHeaders, headers_for

STATE_FOLDER = ".runway-ext/"
"""Folder, under the prefix, of this tool's own objects (never uploaded from, nor deleted by, a sync)."""

MANIFEST_NAME = STATE_FOLDER + "site-manifest.json"
"""Where, under the prefix, the site manifest object lives."""

MANIFEST_FORMAT = 2
READABLE_FORMATS = (1, 2)
"""Format 1 (no state, no lock) is read as a complete manifest vouched for at its own modification time."""

MAX_KEY_BYTES = 1024
"""S3's limit on a key's length in UTF-8 bytes."""

FRACTION_MIN_SITE = 10
"""Sites with fewer objects than this are exempt from ``max_delete_fraction`` (a share of a handful means little)."""
COPY_LIMIT = 5 * 1024**3
"""CopyObject's size limit: larger objects get their new headers by a re-upload."""

_PLAIN_ETAG = re.compile(r"\A[0-9a-f]{32}\Z")
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
_UNCLEAN_SEGMENT = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)")
"""An empty, ``.`` or ``..`` segment of a ``/``-separated path."""

UploadReason = Literal["new", "changed", "unverified"]
ManifestState = Literal["complete", "syncing"]


class SyncPlanError(ValueError):
    """The build cannot be synced as it is (a path that is no valid key, or one that collides with the manifest)."""


@dataclass(frozen=True)
class LocalFile:
    """A built file: its path in the site (relative to the output folder, ``/``-separated) and its content digests."""

    path: str
    size: int
    sha256: str
    md5: str


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
class ManifestEntry:
    """What the last complete sync left at one key."""

    sha256: str
    size: int
    etag: str
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class SiteLock:
    """Who holds a ``syncing`` manifest: the deploy writing the site, until it finishes or ``ttl`` runs out."""

    owner: str
    host: str
    pid: int
    run_id: str
    ttl: float


@dataclass(frozen=True)
class SiteManifest:
    """The site manifest object: which sources were deployed with which settings, and each object's state.

    ``state`` is ``complete`` after a finished sync, ``syncing`` while one runs (``lock`` names it; a
    ``syncing`` manifest without a lock was released by a deploy that failed). ``vouched_at`` is the S3
    time up to which ``objects`` are vouched for; None means the manifest object's own modification time.
    """

    source_hash: str
    settings_hash: str
    objects: Mapping[str, ManifestEntry] = field(default_factory=dict)
    state: ManifestState = "complete"
    lock: SiteLock | None = None
    vouched_at: float | None = None


@dataclass(frozen=True)
class Upload:
    """Put a local file's bytes at ``key``."""

    key: str
    path: str
    size: int
    headers: ObjectHeaders
    reason: UploadReason


@dataclass(frozen=True)
class MetadataUpdate:
    """Give the object at ``key`` (already holding the right bytes) new headers."""

    key: str
    path: str
    headers: ObjectHeaders


@dataclass(frozen=True)
class SyncPlan:
    """What a sync does. ``deletes`` is empty whenever ``delete_refusal`` is set."""

    uploads: tuple[Upload, ...] = ()
    metadata_updates: tuple[MetadataUpdate, ...] = ()
    unchanged: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()
    extra_remote: tuple[str, ...] = ()
    delete_refusal: str | None = None
    headers: Mapping[str, ObjectHeaders] = field(default_factory=dict)

    @property
    def bytes_to_upload(self) -> int:
        """Bytes the uploads send."""
        return sum(upload.size for upload in self.uploads)

    @property
    def changed_keys(self) -> list[str]:
        """Keys whose content, headers or existence change, sorted."""
        keys = {u.key for u in self.uploads} | {m.key for m in self.metadata_updates} | set(self.deletes)
        return sorted(keys)

    @property
    def changed_paths(self) -> list[str]:
        """The changed keys as URL paths (``/`` + key, not encoded) — the CloudFront invalidation hook's input."""
        return ["/" + key for key in self.changed_keys]

    @property
    def is_noop(self) -> bool:
        """Whether the sync changes nothing in the bucket."""
        return not (self.uploads or self.metadata_updates or self.deletes)


def normalize_prefix(prefix: str) -> str:
    """``""`` or a key prefix ending in ``/`` (leading/trailing slashes tidied); refuses ``..`` and empty segments."""
    cleaned = prefix.strip().strip("/")
    if not cleaned:
        return ""
    segments = cleaned.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(f"invalid prefix {prefix!r}: no empty, '.' or '..' segments")
    return cleaned + "/"


def manifest_key(prefix: str) -> str:
    """The key of the site manifest object for a (normalised) prefix."""
    return prefix + MANIFEST_NAME


def is_state_key(key: str, prefix: str) -> bool:
    """Whether a key is one of this tool's own objects under the prefix (never synced, never deleted)."""
    return key.startswith(prefix + STATE_FOLDER)


def site_keys(remote: Iterable[str], prefix: str) -> list[str]:
    """The keys under the prefix that belong to the site (this tool's own objects left out), sorted."""
    return sorted(key for key in remote if key.startswith(prefix) and not is_state_key(key, prefix))


def is_plain_etag(etag: str) -> bool:
    """Whether an ETag is the MD5 of the object's bytes (single-part upload, no SSE-KMS)."""
    return bool(_PLAIN_ETAG.match(etag))


def strip_etag(etag: str) -> str:
    """An ETag without the quotes S3 puts around it."""
    return etag.strip().strip('"')


def with_manifest_state(
    listing: Iterable[RemoteObject], manifest: SiteManifest | None, vouched_at: float | None = None
) -> dict[str, RemoteObject]:
    """The listing by key, each object completed from the site manifest while the manifest vouches for it.

    That is: same ETag and size as the entry, and (when both times are known) last modified no later
    than ``vouched_at`` (the manifest's ``vouched_at`` or, for a complete manifest, its own modification
    time), compared in whole seconds.
    """
    known = manifest.objects if manifest is not None else {}
    limit = manifest.vouched_at if manifest is not None and manifest.vouched_at is not None else vouched_at
    remote: dict[str, RemoteObject] = {}
    for item in listing:
        entry = known.get(item.key)
        if entry is not None and entry.etag == item.etag and entry.size == item.size and _not_after(item.last_modified, limit):
            item = RemoteObject(
                key=item.key,
                size=item.size,
                etag=item.etag,
                sha256=entry.sha256,
                content_type=entry.content_type,
                cache_control=entry.cache_control,
                headers_known=True,
                last_modified=item.last_modified,
            )
        remote[item.key] = item
    return remote


def _not_after(modified: float | None, limit: float | None) -> bool:
    if modified is None or limit is None:
        return True
    return int(modified) <= int(limit)


def drift(manifest: SiteManifest, remote: Mapping[str, RemoteObject], *, prefix: str, delete: bool) -> list[str]:
    """Why the bucket does not hold exactly what ``manifest`` describes (empty: it does), one phrase per key, sorted.

    ``remote`` is the listing completed by :func:`with_manifest_state`. With ``delete`` an object under
    the prefix that the manifest does not list is drift too.
    """
    problems: list[str] = []
    for key, entry in manifest.objects.items():
        found = remote.get(key)
        if found is None:
            problems.append(f"{key}: missing")
        elif not found.headers_known or found.sha256 != entry.sha256:
            problems.append(f"{key}: changed since the last deploy")
    if delete:
        problems.extend(f"{key}: not part of the deployed build" for key in site_keys(remote, prefix) if key not in manifest.objects)
    return sorted(problems)


def _same_content(local: LocalFile, remote: RemoteObject) -> bool | None:
    """True/False when the remote bytes are known to equal/differ from the local ones; None when unknown."""
    if remote.size != local.size:
        return False
    if remote.sha256 is not None:
        return remote.sha256 == local.sha256
    if is_plain_etag(remote.etag) and local.md5:
        return remote.etag == local.md5
    return None


def key_problem(path: str, prefix: str = "") -> str | None:
    """Why a site path cannot be published as an S3 key (None: it can), in words that fit one line. Pure."""
    try:
        encoded = (prefix + path).encode("utf-8")
    except UnicodeEncodeError:
        return f"cannot publish {os.fsencode(path)!r}: the name is not valid UTF-8 (S3 keys are UTF-8 text); rename it"
    if _CONTROL_CHARACTER.search(path):
        return f"cannot publish {path!r}: the name holds a control character (newline, tab, ...); rename it"
    if not path or path.startswith("/") or _UNCLEAN_SEGMENT.search(path):
        return f"cannot sync {path!r}: not a clean relative path"
    if len(encoded) > MAX_KEY_BYTES:
        return f"cannot publish {path[:60]!r}...: the key is {len(encoded)} bytes, S3 allows {MAX_KEY_BYTES}"
    if path.startswith(STATE_FOLDER):
        return f"the build contains {path!r}, under {STATE_FOLDER} where this tool keeps its site manifest"
    return None


def _check_paths(local: Mapping[str, LocalFile], prefix: str = "") -> None:
    for path in sorted(local):
        problem = key_problem(path, prefix)
        if problem:
            raise SyncPlanError(problem)


def missing_pages_problem(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject], *, prefix: str) -> str | None:
    """A refusal when the build has no HTML page while the site in the bucket has some (a broken build). Pure."""
    if any(_is_page(path) for path in local):
        return None
    pages = [key for key in site_keys(remote, prefix) if _is_page(key)]
    if not pages:
        return None
    return (
        f"the build has no HTML page but the site has {len(pages)} (e.g. {pages[0]}); nothing was changed "
        "(check the build, or set allow_no_pages: true)"
    )


def _is_page(path: str) -> bool:
    return path.lower().endswith((".html", ".htm"))


def keys_to_inspect(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject], *, prefix: str = "") -> list[str]:
    """Keys whose content or headers the listing and site manifest cannot settle (worth a HEAD), sorted."""
    keys: list[str] = []
    for path, file in local.items():
        key = prefix + path
        found = remote.get(key)
        if found is None or found.headers_known:
            continue
        if _same_content(file, found) is not False:
            keys.append(key)
    return sorted(keys)


def plan_sync(
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    *,
    prefix: str = "",
    rules: Sequence[CacheRule] = (),
    delete: bool = False,
    max_delete: int = 256,
    max_delete_fraction: float = 1.0,
) -> SyncPlan:
    """Compare the build (``local``, by site path) with the bucket (``remote``, by key) and decide every key.

    Objects whose content is still unknown (not inspected) are uploaded (reason ``unverified``);
    objects with the right bytes but other headers get a metadata update. Remote keys under
    ``prefix`` that the build lacks are deleted only with ``delete``, and only up to ``max_delete``
    objects and ``max_delete_fraction`` of the site's current objects (sites of at least
    :data:`FRACTION_MIN_SITE` objects).
    """
    _check_paths(local, prefix)
    uploads: list[Upload] = []
    updates: list[MetadataUpdate] = []
    unchanged: list[str] = []
    wanted: dict[str, ObjectHeaders] = {}
    for path in sorted(local):
        file = local[path]
        key = prefix + path
        headers = headers_for(path, rules)
        wanted[key] = headers
        found = remote.get(key)
        if found is None:
            uploads.append(Upload(key, path, file.size, headers, "new"))
            continue
        same = _same_content(file, found)
        if same is False:
            uploads.append(Upload(key, path, file.size, headers, "changed"))
        elif same is None or not found.headers_known:
            uploads.append(Upload(key, path, file.size, headers, "unverified"))
        elif (found.content_type, found.cache_control) == (headers.content_type, headers.cache_control):
            unchanged.append(key)
        elif file.size > COPY_LIMIT:
            uploads.append(Upload(key, path, file.size, headers, "changed"))
        else:
            updates.append(MetadataUpdate(key, path, headers))

    current = site_keys(remote, prefix)
    extra = [key for key in current if key not in wanted]
    deletes: tuple[str, ...] = ()
    refusal = None
    if delete and extra:
        if len(extra) > max_delete:
            refusal = (
                f"the sync would delete {len(extra)} objects, more than max_delete ({max_delete}); "
                "nothing was changed (raise max_delete or check the build output)"
            )
        elif len(current) >= FRACTION_MIN_SITE and len(extra) > max_delete_fraction * len(current):
            refusal = (
                f"the sync would delete {len(extra)} of the site's {len(current)} objects, more than "
                f"max_delete_fraction ({max_delete_fraction:g}); nothing was changed (raise max_delete_fraction or check the build output)"
            )
        else:
            deletes = tuple(extra)
    return SyncPlan(
        uploads=tuple(uploads),
        metadata_updates=tuple(updates),
        unchanged=tuple(unchanged),
        deletes=deletes,
        extra_remote=tuple(extra),
        delete_refusal=refusal,
        headers=wanted,
    )


def manifest_after_sync(
    plan: SyncPlan,
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    new_etags: Mapping[str, str],
    *,
    prefix: str = "",
) -> dict[str, ManifestEntry]:
    """The per-key state the bucket holds once ``plan`` has been carried out.

    ``new_etags`` are the ETags S3 returned for uploaded and copied keys; a key without one (e.g. a
    multipart upload whose ETag was not read back) is left out, so the next sync inspects it.
    """
    objects: dict[str, ManifestEntry] = {}
    unchanged = set(plan.unchanged)
    for path, file in local.items():
        key = prefix + path
        etag = new_etags.get(key) or (remote[key].etag if key in unchanged and key in remote else None)
        if not etag:
            continue
        headers = plan.headers[key]
        objects[key] = ManifestEntry(file.sha256, file.size, etag, headers.content_type, headers.cache_control)
    return objects


def entries_before_sync(plan: SyncPlan, remote: Mapping[str, RemoteObject]) -> dict[str, ManifestEntry]:
    """What a ``syncing`` manifest may vouch for: the keys the plan leaves untouched, as they are now."""
    objects: dict[str, ManifestEntry] = {}
    for key in plan.unchanged:
        found = remote.get(key)
        if found is None or found.sha256 is None or found.content_type is None or found.cache_control is None:
            continue
        objects[key] = ManifestEntry(found.sha256, found.size, found.etag, found.content_type, found.cache_control)
    return objects


def settings_hash(*, prefix: str, rules: Sequence[CacheRule], delete: bool, version: str) -> str:
    """A digest of the settings that shape the bucket besides the sources (a change forces a full compare)."""
    payload = {"prefix": prefix, "rules": [asdict(rule) for rule in rules], "delete": delete, "version": version}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def render_manifest(manifest: SiteManifest, *, written_by: str) -> bytes:
    """The site manifest object's JSON bytes (keys sorted, so equal manifests are equal bytes)."""
    document: dict[str, object] = {
        "format": MANIFEST_FORMAT,
        "written_by": written_by,
        "state": manifest.state,
        "source_hash": manifest.source_hash,
        "settings_hash": manifest.settings_hash,
        "objects": {
            key: {
                "sha256": entry.sha256,
                "size": entry.size,
                "etag": entry.etag,
                "content_type": entry.content_type,
                "cache_control": entry.cache_control,
            }
            for key, entry in sorted(manifest.objects.items())
        },
    }
    if manifest.lock is not None:
        document["lock"] = asdict(manifest.lock)
    if manifest.vouched_at is not None:
        document["vouched_at"] = manifest.vouched_at
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_manifest(data: bytes) -> SiteManifest | None:
    """Read a site manifest object; ``None`` for anything that is not one of ours (it is then ignored)."""
    try:
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
            return None
        objects = {
            str(key): ManifestEntry(
                sha256=str(entry["sha256"]),
                size=int(entry["size"]),
                etag=str(entry["etag"]),
                content_type=str(entry["content_type"]),
                cache_control=str(entry["cache_control"]),
            )
            for key, entry in document.get("objects", {}).items()
        }
        state = document.get("state", "complete")
        if state not in ("complete", "syncing"):
            return None
        lock_document = document.get("lock")
        lock = None
        if lock_document is not None:
            lock = SiteLock(
                owner=str(lock_document["owner"]),
                host=str(lock_document["host"]),
                pid=int(lock_document["pid"]),
                run_id=str(lock_document["run_id"]),
                ttl=float(lock_document["ttl"]),
            )
        vouched_at = document.get("vouched_at")
        return SiteManifest(
            str(document["source_hash"]),
            str(document["settings_hash"]),
            objects,
            state=state,
            lock=lock,
            vouched_at=None if vouched_at is None else float(vouched_at),
        )
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None
