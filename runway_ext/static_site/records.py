"""Release records: what one deploy (or rollback) left in the bucket, the index of the last N, and what differs between two. Pure.

Every sync that writes to a site, and every rollback, is a **release**: a sequence number (``r7``), the time,
the source and settings hashes of the build, who or what deployed it, and the per-key state it left
(key → sha256, size, ETag, Content-Type, Cache-Control — the site manifest's entries). They are kept under
the site's state folder, never served (the CDN blueprint denies ``.runway-ext/`` to the distribution)::

    <prefix>.runway-ext/releases/index.json       the last ``keep_releases`` releases (summaries, newest last)
    <prefix>.runway-ext/releases/r7.json          one release with its objects
    <prefix>.runway-ext/releases/objects/<sha256> retained copies (unversioned buckets only)

Objects are restored from S3 object versions when the bucket was versioned at the release's time
(``retention: versions``), else from the content-addressed copies (``retention: copies``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from runway_ext.core.log import looks_secret
from runway_ext.static_site.objects import ObjectState

RECORD_FORMAT = 1
ATOMIC_RECORD_FORMAT = 2
"""Records of atomic releases: a version that only knows the in-place layout refuses to read them (fails closed)."""
DEFAULT_KEEP = 10

Retention = Literal["versions", "copies", "atomic"]
"""How a release's bytes are kept: object versions or retained copies (in-place), its own release folder (atomic)."""
Layout = Literal["in-place", "atomic"]
Kind = Literal["deploy", "rollback"]


class ReleaseError(ValueError):
    """A release that does not exist or cannot be read (the message is one line)."""


@dataclass(frozen=True)
class ReleaseSummary:
    """A release as the index lists it (no objects)."""

    id: str
    seq: int
    time: str
    source_hash: str
    settings_hash: str
    deployed_by: str
    kind: Kind
    retention: Retention
    files: int
    changed: int | None
    """Keys added, changed (bytes or headers) or removed vs the previous release; None for the first one."""
    delete: bool = True
    """Whether the release owns the whole prefix: then a rollback to it deletes every other key. In-place syncs record
    False: they delete only what the site published (:mod:`.published`), so objects nobody recorded stay."""
    restored_from: str | None = None
    layout: Layout = "in-place"
    """``in-place``: the release was written at the site's own keys; ``atomic``: in its release folder, made live by the pointer."""
    shared: tuple[str, ...] = ()
    """Atomic releases: the shared prefixes (paths under them live in the shared folder)."""


@dataclass(frozen=True)
class Retired:
    """A key the site published that has left its build and is still in the bucket, kept for the skew window."""

    state: ObjectState
    """Its state as last recorded (the delete is conditional on this ETag)."""
    left_seq: int
    """The first release recorded without it."""
    left_time: str
    """That release's time (as :attr:`ReleaseSummary.time`)."""


@dataclass(frozen=True)
class Release:
    """A release with the state of every key it left (full keys, prefix included)."""

    summary: ReleaseSummary
    objects: Mapping[str, ObjectState] = field(default_factory=dict)
    forgotten: Mapping[str, str] = field(default_factory=dict)
    """Key → content (sha256) whose bytes ``site forget`` purged (see :mod:`.forget`): no longer among ``objects``."""
    retired: Mapping[str, Retired] | None = None
    """In-place deploys: the keys the site published that left the build and were kept (:mod:`.published`); None:
    the record does not say (written before keys were tracked, or a rollback's)."""

    @property
    def id(self) -> str:
        """The release id (``r7``)."""
        return self.summary.id


@dataclass(frozen=True)
class ReleaseIndex:
    """The last releases, oldest first, and the next sequence number."""

    releases: tuple[ReleaseSummary, ...] = ()
    next_seq: int = 1

    @property
    def latest(self) -> ReleaseSummary | None:
        """The newest release (what the site holds after the last deploy or rollback), if any."""
        return self.releases[-1] if self.releases else None


def release_id(seq: int) -> str:
    """``r<seq>``."""
    return f"r{seq}"


def objects_digest(objects: Mapping[str, ObjectState]) -> str:
    """A digest of keys, bytes and headers: equal digests, equal sites."""
    payload = [[key, state.sha256, state.content_type, state.cache_control] for key, state in sorted(objects.items())]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest()


# -- JSON ---------------------------------------------------------------------------------------------
def _summary_document(summary: ReleaseSummary) -> dict[str, object]:
    document: dict[str, object] = {
        "id": summary.id,
        "seq": summary.seq,
        "time": summary.time,
        "source_hash": summary.source_hash,
        "settings_hash": summary.settings_hash,
        "deployed_by": summary.deployed_by,
        "kind": summary.kind,
        "retention": summary.retention,
        "files": summary.files,
        "changed": summary.changed,
        "delete": summary.delete,
    }
    if summary.restored_from is not None:
        document["restored_from"] = summary.restored_from
    if summary.layout != "in-place":
        document["layout"] = summary.layout
        document["shared"] = list(summary.shared)
    return document


def _summary(document: Mapping[str, object]) -> ReleaseSummary:
    kind = str(document["kind"])
    retention = str(document["retention"])
    layout = str(document.get("layout", "in-place"))
    if kind not in ("deploy", "rollback") or retention not in ("versions", "copies", "atomic") or layout not in ("in-place", "atomic"):
        raise ValueError("unknown kind, retention or layout")
    if (layout == "atomic") != (retention == "atomic"):
        raise ValueError("retention and layout disagree")
    shared = document.get("shared", [])
    if not isinstance(shared, list) or not all(isinstance(item, str) and item.endswith("/") for item in shared):
        raise ValueError("bad shared prefixes")
    changed = document.get("changed")
    restored = document.get("restored_from")
    return ReleaseSummary(
        id=str(document["id"]),
        seq=int(document["seq"]),  # type: ignore[call-overload]
        time=str(document["time"]),
        source_hash=str(document["source_hash"]),
        settings_hash=str(document["settings_hash"]),
        deployed_by=str(document["deployed_by"]),
        kind=kind,  # type: ignore[arg-type]
        retention=retention,  # type: ignore[arg-type]
        files=int(document["files"]),  # type: ignore[call-overload]
        changed=None if changed is None else int(changed),  # type: ignore[call-overload]
        delete=bool(document.get("delete", True)),
        restored_from=None if restored is None else str(restored),
        layout=layout,  # type: ignore[arg-type]
        shared=tuple(shared),
    )


def _dumps(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def render_index(index: ReleaseIndex) -> bytes:
    """The index object's bytes."""
    return _dumps({"format": RECORD_FORMAT, "next_seq": index.next_seq, "releases": [_summary_document(s) for s in index.releases]})


def parse_index(data: bytes) -> ReleaseIndex:
    """Read the index (the strict model of :mod:`.documents`); :class:`ReleaseError` when it is not one this version can read."""
    from runway_ext.static_site.documents import DocumentError, IndexDocument, load

    try:
        document = load(data, IndexDocument, "the release index")
    except DocumentError as error:
        raise ReleaseError(f"{error} (not an index this version of runway_ext can read)") from None
    assert isinstance(document, IndexDocument)
    return ReleaseIndex(tuple(_summary(item.model_dump()) for item in document.releases), document.next_seq)


def render_release(release: Release) -> bytes:
    """One release record's bytes."""
    document = _summary_document(release.summary)
    document["format"] = ATOMIC_RECORD_FORMAT if release.summary.layout == "atomic" else RECORD_FORMAT
    document["objects"] = {key: _state_document(state) for key, state in sorted(release.objects.items())}
    if release.forgotten:
        document["forgotten"] = dict(sorted(release.forgotten.items()))
    if release.retired is not None:
        document["retired"] = {
            key: {**_state_document(item.state), "left_seq": item.left_seq, "left_time": item.left_time}
            for key, item in sorted(release.retired.items())
        }
    return _dumps(document)


def _state_document(state: ObjectState) -> dict[str, object]:
    document: dict[str, object] = {
        "sha256": state.sha256,
        "size": state.size,
        "etag": state.etag,
        "content_type": state.content_type,
        "cache_control": state.cache_control,
    }
    if state.version_id is not None:
        document["version_id"] = state.version_id
    if state.checksum is not None:
        document["checksum"] = state.checksum
    return document


def parse_release(data: bytes, rid: str) -> Release:
    """Read one release record (the strict model of :mod:`.documents`); :class:`ReleaseError` naming it when unreadable."""
    from runway_ext.static_site.documents import DocumentError, RecordDocument, SummaryDocument, load

    try:
        document = load(data, RecordDocument, f"release {rid}: its record")
    except DocumentError as error:
        raise ReleaseError(f"{error} (not a record this version of runway_ext can read)") from None
    assert isinstance(document, RecordDocument)
    objects = {key: ObjectState(**entry.model_dump()) for key, entry in document.objects.items()}
    retired = None
    if document.retired is not None:
        retired = {
            key: Retired(ObjectState(**entry.model_dump(exclude={"left_seq", "left_time"})), entry.left_seq, entry.left_time)
            for key, entry in document.retired.items()
        }
    try:
        summary = _summary(document.model_dump(include=set(SummaryDocument.model_fields)))
    except ValueError as error:
        raise ReleaseError(f"release {rid}: its record: {error}") from None
    if (summary.layout == "atomic") != (document.format == ATOMIC_RECORD_FORMAT) or summary.id != rid:
        raise ReleaseError(
            f"release {rid}: its record: its format, layout or id is not {rid}'s (not a record this version of runway_ext can read)"
        )
    return Release(summary, objects, dict(document.forgotten), retired)


def with_summary(release: Release, **changes: object) -> Release:
    """The release with some summary fields replaced."""
    return Release(replace(release.summary, **changes), release.objects, release.forgotten, release.retired)  # type: ignore[arg-type]


# -- comparing releases -------------------------------------------------------------------------------
DiffKind = str
"""``added`` (only in the second), ``removed`` (only in the first), ``changed`` (other bytes), ``headers`` (same bytes)."""


@dataclass(frozen=True)
class DiffEntry:
    """One key that differs between two states."""

    key: str
    kind: DiffKind


def diff_objects(before: Mapping[str, ObjectState | None], after: Mapping[str, ObjectState]) -> list[DiffEntry]:
    """Every key whose existence, bytes or headers differ from ``before`` to ``after``, sorted by key.

    An unknown ``before`` state (``None``) counts as ``changed``.
    """
    entries: list[DiffEntry] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key not in after:
            entries.append(DiffEntry(key, "removed"))
        elif key not in before:
            entries.append(DiffEntry(key, "added"))
        elif old is None or new is None or old.sha256 != new.sha256 or old.size != new.size:
            entries.append(DiffEntry(key, "changed"))
        elif old.headers != new.headers:
            entries.append(DiffEntry(key, "headers"))
    return entries


def changed_paths(keys: Iterable[str]) -> list[str]:
    """Keys as URL paths (``/`` + key, not encoded), sorted: the CloudFront invalidation planner's input."""
    return sorted("/" + key for key in keys)


def with_known_versions(objects: Mapping[str, ObjectState], *known: Release | None) -> dict[str, ObjectState]:
    """``objects`` with the version id a known release recorded for the same key, bytes and ETag (where one did)."""
    result: dict[str, ObjectState] = {}
    for key, state in objects.items():
        version = state.version_id
        for release in known:
            if version is not None or release is None:
                continue
            old = release.objects.get(key)
            if old is not None and old.version_id and (old.etag, old.size, old.sha256) == (state.etag, state.size, state.sha256):
                version = old.version_id
        result[key] = replace(state, version_id=version)
    return result


def append_release(index: ReleaseIndex, summary: ReleaseSummary, *, keep: int) -> tuple[ReleaseIndex, list[ReleaseSummary]]:
    """The index with ``summary`` appended and its in-place releases trimmed to the last ``keep``, and those dropped.

    Atomic releases are never dropped here: the atomic prune rule (:func:`~.atomic.plan_retention`) decides them.
    """
    releases = [*index.releases, summary]
    in_place = [release for release in releases if release.layout != "atomic"]
    dropped = in_place[: max(0, len(in_place) - keep)]
    gone = {release.id for release in dropped}
    kept = [release for release in releases if release.id not in gone]
    return ReleaseIndex(tuple(kept), max(index.next_seq, summary.seq + 1)), dropped


def unreferenced_contents(dropped: Iterable[Release], kept: Iterable[Release]) -> set[str]:
    """Contents (sha256) retained as copies for the dropped releases that no kept release needs."""
    wanted = {state.sha256 for release in kept if release.summary.retention == "copies" for state in release.objects.values()}
    return {state.sha256 for release in dropped if release.summary.retention == "copies" for state in release.objects.values()} - wanted


# -- who deployed -------------------------------------------------------------------------------------
_CI_SYSTEMS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    # (marker variable, name, actor variables, run variables, commit variables)
    ("GITHUB_ACTIONS", "github-actions", ("GITHUB_ACTOR",), ("GITHUB_RUN_ID",), ("GITHUB_SHA",)),
    ("GITLAB_CI", "gitlab-ci", ("GITLAB_USER_LOGIN",), ("CI_PIPELINE_ID",), ("CI_COMMIT_SHA",)),
    ("CODEBUILD_BUILD_ID", "codebuild", ("CODEBUILD_INITIATOR",), ("CODEBUILD_BUILD_ID",), ("CODEBUILD_RESOLVED_SOURCE_VERSION",)),
    ("CIRCLECI", "circleci", ("CIRCLE_USERNAME",), ("CIRCLE_BUILD_NUM",), ("CIRCLE_SHA1",)),
    ("BUILDKITE", "buildkite", ("BUILDKITE_BUILD_CREATOR",), ("BUILDKITE_BUILD_NUMBER",), ("BUILDKITE_COMMIT",)),
    ("BITBUCKET_BUILD_NUMBER", "bitbucket", ("BITBUCKET_STEP_TRIGGERER_UUID",), ("BITBUCKET_BUILD_NUMBER",), ("BITBUCKET_COMMIT",)),
    ("JENKINS_URL", "jenkins", ("BUILD_USER_ID",), ("BUILD_TAG",), ("GIT_COMMIT",)),
    ("TF_BUILD", "azure-pipelines", ("BUILD_REQUESTEDFOR",), ("BUILD_BUILDID",), ("BUILD_SOURCEVERSION",)),
)
MAX_WHO = 200


def _value(environ: Mapping[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        value = environ.get(name, "").strip()
        if value and not looks_secret(name, value) and all(ch.isprintable() for ch in value):
            return value
    return ""


def deployed_by(environ: Mapping[str, str] | None = None, *, user: str | None = None, host: str | None = None) -> str:
    """Who or what deploys: the CI system with its actor, run and commit where set, else ``user@host``.

    Only named, non-secret variables are read; a value shaped like a credential is left out.
    """
    env = os.environ if environ is None else environ
    for marker, name, actors, runs, commits in _CI_SYSTEMS:
        if env.get(marker):
            parts = [name]
            actor, run, commit = _value(env, actors), _value(env, runs), _value(env, commits)
            if actor:
                parts.append(actor)
            if run:
                parts.append(f"run {run}")
            if commit:
                parts.append(f"commit {commit[:12]}")
            return " ".join(parts)[:MAX_WHO]
    if user is None:
        try:
            import getpass

            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"{user}@{host or socket.gethostname()}"[:MAX_WHO]
