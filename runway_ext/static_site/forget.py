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
   the records name). A layout that keeps release bytes elsewhere adds one purger.

Records go first: a run killed between 2 and 3 leaves records that no longer name the bytes, and a rerun purges
them. Refused in one line, nothing written: a path the live release still serves (deploy without it first), a
path no kept record names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runway_ext.core.aws import aws_errors
from runway_ext.static_site.layout import blob_key, release_key
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
    retired: Mapping[str, str] = field(default_factory=dict)
    """Forgotten keys still in the bucket for the skew window (the live record's ``retired``) → the recorded ETag: their
    current object is deleted (only while it has that ETag) before anything else."""


def plan_forget(keys: Sequence[str], releases: Iterable[Release], live: Release | None) -> ForgetPlan:
    """Plan forgetting ``keys`` (full keys) from the kept ``releases``; :class:`ForgetError` when it may not. Pure."""
    kept_releases = list(releases)
    live_objects = live.objects if live is not None else {}
    served = sorted(key for key in keys if key in live_objects)
    if served:
        raise ForgetError(
            f"{served[0]} is still served by the live release {live.id if live else ''}: deploy without it first, then forget it; nothing was changed"
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
    live_by_content: dict[str, list[str]] = {}
    for key, state in live_objects.items():
        if state.sha256 in contents:
            live_by_content.setdefault(state.sha256, []).append(key)
    purged = frozenset(contents - set(live_by_content))
    marks: dict[str, frozenset[str]] = {}
    versions: set[tuple[str, str]] = set()
    for release in kept_releases:
        hit = {key for key, state in release.objects.items() if key in keys or state.sha256 in purged}
        hit |= {key for key in keys if key in (release.retired or {})}
        if hit:
            marks[release.id] = frozenset(hit)
        versions.update(
            (key, state.version_id) for key, state in release.objects.items() if state.sha256 in purged and state.version_id is not None
        )
    return ForgetPlan(
        keys=tuple(sorted(keys)),
        purged=purged,
        kept={sha: tuple(sorted(found)) for sha, found in sorted(live_by_content.items())},
        marks=marks,
        versions=tuple(sorted(versions)),
        retired={key: item.state.etag for key, item in sorted(((live.retired or {}) if live is not None else {}).items()) if key in keys},
    )


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


PURGERS: tuple[Purger, ...] = (purge_copies, purge_versions)
"""Every kind of retained bytes of the in-place layout."""


def _exists(site: S3Site, key: str) -> bool:
    try:
        site.client.head_object(Bucket=site.bucket, Key=key)
    except aws_errors() as error:
        if getattr(error, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise site.error(f"look for {key}", error) from None
    return True


def _versions(site: S3Site, key: str) -> list[dict[str, Any]]:
    try:
        pages = site.client.get_paginator("list_object_versions").paginate(Bucket=site.bucket, Prefix=key)
        return [item for page in pages for item in page.get("Versions", []) if item["Key"] == key]
    except aws_errors() as error:
        raise site.error(f"list the versions of {key}", error) from None
