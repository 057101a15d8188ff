"""The site manifest: which build a site holds, each object's recorded state, and who is writing it. Pure.

The object lives at ``{prefix}.runway-ext/site-manifest.json`` (:func:`~.layout.manifest_key`); how deploys use
it under kills and races is in :mod:`.lock`. An entry vouches for an object only while the listing shows the
same ETag and size and the object was not modified after the manifest's ``vouched_at`` time (S3's clock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from runway_ext.static_site.headers import CacheRule
from runway_ext.static_site.layout import site_keys
from runway_ext.static_site.objects import ObjectState, RemoteObject

MANIFEST_FORMAT = 2


READABLE_FORMATS = (1, 2)
"""Format 1 (no state, no lock) is read as a complete manifest vouched for at its own modification time."""


ManifestState = Literal["complete", "syncing"]


@dataclass(frozen=True)
class SiteLock:
    """Who holds a ``syncing`` manifest: the deploy writing the site, until it finishes or ``ttl`` runs out."""

    owner: str
    host: str
    pid: int
    run_id: str
    ttl: float
    boot_id: str = ""
    """The owner's boot id (``/proc/sys/kernel/random/boot_id``; empty when unknown)."""
    pid_ns: str = ""
    """The owner's pid namespace (the inode of ``/proc/self/ns/pid``; empty when unknown)."""
    purpose: str = ""
    """What the owner does: ``deploy``, ``preview:NAME``, ``promote``, ``rollback``, ``forget`` (empty: not said)."""


@dataclass(frozen=True)
class SiteManifest:
    """The site manifest object: which sources were deployed with which settings, and each object's state.

    ``state`` is ``complete`` after a finished sync, ``syncing`` while one runs (``lock`` names it; a
    ``syncing`` manifest without a lock was released by a deploy that failed). ``vouched_at`` is the S3
    time up to which ``objects`` are vouched for; None means the manifest object's own modification time.
    """

    source_hash: str
    settings_hash: str
    objects: Mapping[str, ObjectState] = field(default_factory=dict)
    state: ManifestState = "complete"
    lock: SiteLock | None = None
    vouched_at: float | None = None
    pending: Mapping[str, ObjectState] = field(default_factory=dict)
    """``syncing``: the objects the deploy is writing, as they will be (the site's even if it is killed before recording them)."""


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


def settings_hash(*, prefix: str, rules: Sequence[CacheRule], delete: bool, version: str, shared: Sequence[str] | None = None) -> str:
    """A digest of the settings that shape the bucket besides the sources (a change forces a full compare).

    ``shared``: the shared prefixes of an atomic release (None: the in-place layout).
    """
    payload: dict[str, object] = {"prefix": prefix, "rules": [asdict(rule) for rule in rules], "delete": delete, "version": version}
    if shared is not None:
        payload["layout"] = "atomic"
        payload["shared"] = list(shared)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def render_manifest(manifest: SiteManifest, *, written_by: str) -> bytes:
    """The site manifest object's JSON bytes (keys sorted, so equal manifests are equal bytes)."""
    document: dict[str, object] = {
        "format": MANIFEST_FORMAT,
        "written_by": written_by,
        "state": manifest.state,
        "source_hash": manifest.source_hash,
        "settings_hash": manifest.settings_hash,
        "objects": _entries(manifest.objects),
    }
    if manifest.pending:
        document["pending"] = _entries(manifest.pending)
    if manifest.lock is not None:
        document["lock"] = asdict(manifest.lock)
    if manifest.vouched_at is not None:
        document["vouched_at"] = manifest.vouched_at
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _entries(objects: Mapping[str, ObjectState]) -> dict[str, dict[str, object]]:
    return {
        key: {
            "sha256": entry.sha256,
            "size": entry.size,
            "etag": entry.etag,
            "content_type": entry.content_type,
            "cache_control": entry.cache_control,
        }
        for key, entry in sorted(objects.items())
    }


def parse_manifest(data: bytes) -> SiteManifest | None:
    """Read a site manifest object (the strict model of :mod:`.documents`); ``None`` for anything that is not one of ours."""
    from runway_ext.static_site.documents import DocumentError, ManifestDocument, load

    try:
        document = load(data, ManifestDocument, "the site manifest")
    except DocumentError:
        return None
    assert isinstance(document, ManifestDocument)
    objects = {key: ObjectState(**entry.model_dump(exclude={"version_id"})) for key, entry in document.objects.items()}
    lock = None if document.lock is None else SiteLock(**document.lock.model_dump())
    pending = {key: ObjectState(**entry.model_dump(exclude={"version_id"})) for key, entry in document.pending.items()}
    return SiteManifest(
        document.source_hash,
        document.settings_hash,
        objects,
        state=document.state,
        lock=lock,
        vouched_at=document.vouched_at,
        pending=pending,
    )
