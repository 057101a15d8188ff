"""Forget site paths: purge every retained byte of their contents and mark them forgotten in every release record.

For bytes published by mistake (a ``config.json`` with a live key): once a deploy has removed the path, the bytes
still live on as what older releases name — a retained copy (``releases/objects/<sha256>``) or a noncurrent object
version — and a rollback would publish them again. :func:`forget_paths`, under the site lock:

1. plans (:func:`plan_forget`, pure): the contents (sha256) the kept records name at those paths; a content the
   live release still serves under another path is **kept** (named, not purged: it is public anyway, and purging
   it would break the live release); every record entry holding a purged content is marked forgotten too (its
   bytes are gone);
2. deletes the current object of a path the skew window still kept in the bucket (it left the build, see
   :mod:`.published`), then rewrites each record concerned (conditionally on the ETag read) so that those keys leave its objects for its
   ``forgotten`` list: a rollback to it restores the rest, leaves those paths as they are, and says so;
3. runs every purger of :data:`PURGERS` (retained copies; the noncurrent versions of the paths and the versions
   the records name; the atomic layout's release objects, every version of each).

On the atomic layout (:mod:`.atomic`) the releases served are the one the live pointer names and each preview's
(:mod:`.previews`): a path one of them serves is refused, a content one of them serves elsewhere is kept. Every
marked entry of an atomic release has its own object (``.runway-ext-releases/{rid}/{path}``, or the shared
``shared/{path}``), deleted with all its versions, and, once a pointer serves the site, so is the plain key
``{P}{path}`` of a forgotten path (an error page's copy, or the root fallback from before the switch). A
rollback to such a release switches to the rest: the edge maps a forgotten path to an object that is gone, and
the distribution answers 404.

Records go first: a run killed between 2 and 3 leaves records that no longer name the bytes, and a rerun purges
them. Refused in one line, nothing written: a path the live release (or a preview's) still serves (deploy without
it first), a path no kept record names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runway_ext.core.aws import aws_errors
from runway_ext.static_site.layout import atomic_key, blob_key, release_key
from runway_ext.static_site.records import Release, render_release
from runway_ext.static_site.s3 import S3Site, WriteConflict


class ForgetError(ValueError):
    """Paths that cannot be forgotten as asked (one line, nothing written)."""


@dataclass(frozen=True)
class ForgetPlan:
    """What forgetting some paths purges and marks."""

    keys: tuple[str, ...]
    """The forgotten keys (prefix + path)."""
    purged: frozenset[str]
    """Contents (sha256) whose retained bytes are purged."""
    kept: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Contents of the paths that the live release serves under other keys (content → those keys): kept."""
    marks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Release id → the keys of its record to mark forgotten."""
    versions: tuple[tuple[str, str], ...] = ()
    """(key, version id) pairs the records name for purged contents."""
    objects: tuple[str, ...] = ()
    """Atomic layout: the objects holding the marked entries (release or shared folder; the plain keys of the
    forgotten paths once a pointer serves the site), each deleted with every version."""
    retired: Mapping[str, str] = field(default_factory=dict)
    """Forgotten keys still in the bucket for the skew window (the live record's ``retired``) → the recorded ETag: their
    current object is deleted (only while it has that ETag) before anything else."""


def plan_forget(
    keys: Sequence[str],
    releases: Iterable[Release],
    live: Release | None,
    *,
    previews: Mapping[str, Release] | None = None,
    prefix: str = "",
) -> ForgetPlan:
    """Plan forgetting ``keys`` (full keys) from the kept ``releases``; :class:`ForgetError` when it may not. Pure.

    ``previews``: preview name → the release it serves (atomic layout), served as the live one is; ``prefix``: the
    site's, to name the atomic releases' objects.
    """
    kept_releases = list(releases)
    live_objects = live.objects if live is not None else {}
    served = sorted(key for key in keys if key in live_objects)
    if served:
        raise ForgetError(
            f"{served[0]} is still served by the live release {live.id if live else ''}: deploy without it first, then forget it; nothing was changed"
        )
    shown = dict(sorted((previews or {}).items()))
    for name, release in shown.items():
        previewed = sorted(key for key in keys if key in release.objects)
        if previewed:
            raise ForgetError(
                f"{previewed[0]} is still served by preview {name} (release {release.id}): delete the preview or deploy it without "
                "the path first, then forget it; nothing was changed"
            )
    contents = {release.objects[key].sha256 for release in kept_releases for key in keys if key in release.objects}
    contents |= {release.forgotten[key] for release in kept_releases for key in keys if key in release.forgotten}  # a rerun
    contents |= {(release.retired or {})[key].state.sha256 for release in kept_releases for key in keys if key in (release.retired or {})}
    named = {
        key
        for release in kept_releases
        for key in keys
        if key in release.objects or key in release.forgotten or key in (release.retired or {})
    }
    unknown = sorted(set(keys) - named)
    if unknown:
        raise ForgetError(f"{unknown[0]} is named by no kept release record; nothing was changed")
    serving = [release for release in (live, *shown.values()) if release is not None]
    live_by_content: dict[str, set[str]] = {}
    for release in serving:
        for key, state in release.objects.items():
            if state.sha256 in contents:
                live_by_content.setdefault(state.sha256, set()).add(key)
    purged = frozenset(contents - set(live_by_content))
    marks: dict[str, frozenset[str]] = {}
    versions: set[tuple[str, str]] = set()
    objects: set[str] = set()
    for release in kept_releases:
        hit = {key for key, state in release.objects.items() if key in keys or state.sha256 in purged}
        hit |= {key for key in keys if key in (release.retired or {})}
        if hit:
            marks[release.id] = frozenset(hit)
        versions.update(
            (key, state.version_id) for key, state in release.objects.items() if state.sha256 in purged and state.version_id is not None
        )
        if release.summary.layout == "atomic":
            gone = hit | {key for key, sha in release.forgotten.items() if key in keys or sha in purged}  # a rerun
            objects.update(_release_object(release, key, prefix) for key in gone)
    if live is not None and live.summary.layout == "atomic":
        objects.update(keys)
    objects -= {_release_object(release, key, prefix) for release in serving for key in release.objects}
    return ForgetPlan(
        keys=tuple(sorted(keys)),
        purged=purged,
        kept={sha: tuple(sorted(found)) for sha, found in sorted(live_by_content.items())},
        marks=marks,
        versions=tuple(sorted(versions)),
        objects=tuple(sorted(objects)),
        retired={key: item.state.etag for key, item in sorted(((live.retired or {}) if live is not None else {}).items()) if key in keys},
    )


def _release_object(release: Release, key: str, prefix: str) -> str:
    """Where a release keeps a site key's bytes: its own key (in-place), its release or the shared folder (atomic)."""
    if release.summary.layout != "atomic":
        return key
    return atomic_key(prefix, release.id, key[len(prefix) :], release.summary.shared)


def forgotten(release: Release, keys: Iterable[str]) -> Release:
    """``release`` with ``keys`` moved from its objects (and its retired keys) to its forgotten list."""
    gone = set(keys)
    objects = {key: state for key, state in release.objects.items() if key not in gone}
    marked = {key: release.objects[key].sha256 for key in gone if key in release.objects}
    retired = None if release.retired is None else {key: item for key, item in release.retired.items() if key not in gone}
    marked |= {key: item.state.sha256 for key, item in (release.retired or {}).items() if key in gone}
    return Release(release.summary, objects, {**release.forgotten, **marked}, retired)


def delete_retired(site: S3Site, plan: ForgetPlan, guard: Callable[[], None]) -> list[str]:
    """Delete the current object of each forgotten key the skew window still kept, while it has the recorded ETag
    (one changed since is kept, with a warning); first, so a run killed later still finds them in the records."""
    deleted: list[str] = []
    for key, etag in sorted(plan.retired.items()):
        guard()
        if site.delete_if(key, etag):
            deleted.append(key)
        else:
            site.log.warning("%s changed after this site recorded it: kept (not the site's bytes any more)", key)
    return deleted


def rewrite_records(site: S3Site, plan: ForgetPlan, releases: Mapping[str, tuple[Release, str]], guard: Callable[[], None]) -> list[str]:
    """Write each marked record (``releases``: id → (release, ETag read)) with If-Match; returns the ids rewritten."""
    written = []
    for rid, keys in sorted(plan.marks.items()):
        release, etag = releases[rid]
        guard()
        try:
            site.put_document(release_key(site.prefix, rid), render_release(forgotten(release, keys)), condition=etag.strip('"'))
        except WriteConflict:
            raise WriteConflict(f"release {rid}: its record changed while this run forgot paths in it; rerun") from None
        written.append(rid)
    return written


Purger = Callable[[S3Site, ForgetPlan, Callable[[], None]], list[str]]
"""Deletes one kind of retained bytes of a plan's purged contents; returns what it deleted (one phrase each)."""


def purge_copies(site: S3Site, plan: ForgetPlan, guard: Callable[[], None]) -> list[str]:
    """Delete the retained copies (``releases/objects/<sha256>``) of the purged contents."""
    keys = [blob_key(site.prefix, sha) for sha in sorted(plan.purged)]
    present = [key for key in keys if _exists(site, key)]
    site.delete(present, guard)
    return present


def purge_versions(site: S3Site, plan: ForgetPlan, guard: Callable[[], None]) -> list[str]:
    """Delete the noncurrent versions of the forgotten keys, and those the records name for purged contents
    (a current version is never deleted: it is what the key serves now)."""
    wanted: set[tuple[str, str]] = set(plan.versions)
    doomed: list[tuple[str, str]] = []
    for key in sorted({*plan.keys, *(key for key, _ in plan.versions)}):
        for version in _versions(site, key):
            if version["IsLatest"]:
                continue
            if key in plan.keys or (key, version["VersionId"]) in wanted:
                doomed.append((key, str(version["VersionId"])))
    for key, version_id in doomed:
        guard()
        try:
            site.client.delete_object(Bucket=site.bucket, Key=key, VersionId=version_id)
        except aws_errors() as error:
            raise site.error(f"delete version {version_id} of {key}", error) from None
    return [f"{key} (version {version_id})" for key, version_id in doomed]


def purge_release_objects(site: S3Site, plan: ForgetPlan, guard: Callable[[], None]) -> list[str]:
    """Delete the atomic layout's objects of the plan, each with every version and delete marker (in an
    unversioned bucket: the object)."""
    deleted: list[str] = []
    for key in plan.objects:
        for version_id in (str(item["VersionId"]) for item in _versions(site, key, markers=True)):
            guard()
            try:
                site.client.delete_object(Bucket=site.bucket, Key=key, VersionId=version_id)
            except aws_errors() as error:
                raise site.error(f"delete version {version_id} of {key}", error) from None
            deleted.append(key if version_id == "null" else f"{key} (version {version_id})")
    return deleted


PURGERS: tuple[Purger, ...] = (purge_copies, purge_versions, purge_release_objects)
"""Every kind of retained bytes: the in-place layout's copies and versions, the atomic layout's release objects."""


def _exists(site: S3Site, key: str) -> bool:
    try:
        site.client.head_object(Bucket=site.bucket, Key=key)
    except aws_errors() as error:
        if getattr(error, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise site.error(f"look for {key}", error) from None
    return True


def _versions(site: S3Site, key: str, *, markers: bool = False) -> list[dict[str, Any]]:
    """The versions of exactly ``key`` (with ``markers``, its delete markers too; ``null``: an unversioned object)."""
    kinds = ("Versions", "DeleteMarkers") if markers else ("Versions",)
    try:
        pages = site.client.get_paginator("list_object_versions").paginate(Bucket=site.bucket, Prefix=key)
        return [item for page in pages for kind in kinds for item in page.get(kind, []) if item["Key"] == key]
    except aws_errors() as error:
        raise site.error(f"list the versions of {key}", error) from None
