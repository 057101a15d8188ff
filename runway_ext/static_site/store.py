"""The release store in S3: read and append release records, keep copies, find what a release needs, restore it.

I/O only, through the site's one S3 wrapper (:class:`~.s3.S3Site`); decisions are in :mod:`.records`. Writes of the
index are conditional (``If-Match`` on the ETag read, ``If-None-Match: *`` when there is none) and only ever made
while the writer holds the site's lock (:class:`~.lock.SiteLease`), so releases are appended in the order the site
changed. Retained copies are written with ``x-amz-copy-source-if-match`` on the ETag the release records, so a copy
is exactly the bytes the release left, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from runway_ext.core.aws import aws_errors, error_code, is_client_error
from runway_ext.core.errors import HookError
from runway_ext.static_site.containment import ContainmentError, check_record_keys
from runway_ext.static_site.layout import OBJECTS_FOLDER, blob_key, index_key, release_key
from runway_ext.static_site.objects import ObjectState, strip_etag
from runway_ext.static_site.published import Published, published_keys
from runway_ext.static_site.records import (
    Release,
    ReleaseError,
    ReleaseIndex,
    Retention,
    append_release,
    parse_index,
    parse_release,
    render_index,
    render_release,
    unreferenced_contents,
)
from runway_ext.static_site.s3 import S3Site, WriteConflict

APPEND_ATTEMPTS = 5
LIST_INSTEAD_OF_HEADS = 200
"""Above this many contents to look for, one listing of the copies folder (1 request per 1,000) beats a HEAD each."""
MISSING_VERSION_CODES = ("NoSuchKey", "NoSuchVersion", "404", "NotFound", "400", "InvalidArgument", "405", "MethodNotAllowed")


class ReleaseStore:
    """The releases of one site (bucket + prefix)."""

    def __init__(self, site: S3Site) -> None:
        """The releases of ``site`` (its client, bucket, prefix, log and worker count)."""
        self.site = site
        self.client = site.client
        self.bucket = site.bucket
        self.prefix = site.prefix
        self.log = site.log
        self.index_etag: str | None = None

    @property
    def where(self) -> str:
        """``s3://bucket/prefix``."""
        return self.site.where

    # -- reading -----------------------------------------------------------------------------------
    def read_index(self) -> ReleaseIndex:
        """The release index (empty when there is none yet); remembers its ETag for :meth:`append`."""
        found = self.site.get(index_key(self.prefix))
        if found is None:
            self.index_etag = None
            return ReleaseIndex()
        data, self.index_etag = found
        try:
            return parse_index(data)
        except ReleaseError as error:
            raise HookError(f"{self.where}: {error}") from None

    def read_release(self, rid: str) -> Release:
        """One release with its objects."""
        found = self.site.get(release_key(self.prefix, rid))
        if found is None:
            raise HookError(f"release {rid}: its record {release_key(self.prefix, rid)} is missing from s3://{self.bucket}")
        try:
            release = parse_release(found[0], rid)
            check_record_keys(
                [*release.objects, *release.forgotten, *(release.retired or {})], self.prefix, what=f"release {rid}: its record"
            )
        except (ReleaseError, ContainmentError) as error:
            raise HookError(str(error)) from None
        return release

    def published(self, manifest_objects: Mapping[str, ObjectState] | None = None) -> Published:
        """What the site's in-place release records (and the site manifest's ``manifest_objects``) say it published
        (:mod:`.published`). The newest record alone when it tracks retired keys (it then says everything: the
        derivation forgets what came before it), else every record of the index (in parallel). A record that is
        missing or unreadable makes it untracked: a warning, nothing is deleted and the next record tracks nothing."""
        summaries = [summary for summary in self.read_index().releases if summary.layout == "in-place"]
        newest = self.read_release_or_none(summaries[-1].id) if summaries else None
        if newest is not None and newest.retired is not None:
            return published_keys([newest], manifest_objects)
        releases = self.site.run_parallel(
            summaries, lambda summary: self.read_release_or_none(summary.id), what="read", describe=lambda summary: f"release {summary.id}"
        )
        readable = [release for release in releases if release is not None]
        if len(readable) < len(summaries):
            self.log.warning("%s: a release record could not be read: no object that left the build is deleted by this deploy", self.where)
            return Published({}, tracked=False)
        return published_keys(readable, manifest_objects)

    def retention(self) -> Retention:
        """``versions`` when the bucket's versioning is Enabled, else ``copies`` (also when we may not ask)."""
        try:
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("AccessDenied", "403"):
                self.log.debug("may not read the versioning of s3://%s: keeping copies of releases", self.bucket)
                return "copies"
            raise self.site.error("read the bucket's versioning", error) from None
        return "versions" if status == "Enabled" else "copies"

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (full keys).

        ListObjects (v1): the client may be the sync's, which parses ListObjectsV2 pages itself.
        """
        try:
            pages = self.client.get_paginator("list_objects").paginate(Bucket=self.bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]
        except aws_errors() as error:
            raise self.site.error("list the retained copies", error) from None

    def retained_contents(self) -> set[str]:
        """The contents (sha256) of which a copy is kept."""
        folder = self.prefix + OBJECTS_FOLDER
        return {key[len(folder) :] for key in self.list_keys(folder)}

    # -- recording ---------------------------------------------------------------------------------
    def keep_copies(self, objects: Mapping[str, ObjectState], guard: Callable[[], None], *, retained: Iterable[str] = ()) -> int:
        """Copy every content of ``objects`` not yet retained to the copies folder; returns how many were copied.

        ``retained``: contents known to be kept (those of kept releases with copies: a release is recorded only
        after its copies were written, and a copy is deleted only when no kept release needs it). The others are
        looked for: a HEAD each, or one listing of the copies folder when there are more than
        :data:`LIST_INSTEAD_OF_HEADS` of them.
        """
        known = set(retained)
        first_key: dict[str, tuple[str, ObjectState]] = {}
        for key, state in sorted(objects.items()):
            if state.sha256 not in known:
                first_key.setdefault(state.sha256, (key, state))
        if len(first_key) > LIST_INSTEAD_OF_HEADS:
            present = self.retained_contents()
            todo = [item for sha, item in first_key.items() if sha not in present]
        else:
            found = self.site.run_parallel(
                list(first_key.values()), lambda item: (item, self.has_copy(item[1])), what="look for", describe=str
            )
            todo = [item for item, present in found if not present]

        def keep(item: tuple[str, ObjectState]) -> None:
            guard()
            key, state = item
            self.site.copy_state({"Bucket": self.bucket, "Key": key}, blob_key(self.prefix, state.sha256), state, if_match=state.etag)

        if todo:
            self.log.info("keeping copies of %d new contents under %s%s", len(todo), self.where, OBJECTS_FOLDER)
        self.site.run_parallel(todo, keep, what="keep a copy of", describe=lambda item: item[0])
        return len(todo)

    def append(self, release: Release, *, keep: int, guard: Callable[[], None]) -> list[str]:
        """Write the release's record, add it to the index, drop releases beyond ``keep``; returns the ids dropped.

        The caller holds the site's lock, so a conflicting index write can only come from a writer that lost
        it or a hand edit: the index is then read again and the release appended to what is there.
        """
        guard()
        self.site.put_document(release_key(self.prefix, release.id), render_release(release))
        index = None
        for _ in range(APPEND_ATTEMPTS):
            index = self.read_index() if index is None else index
            updated, dropped = append_release(index, release.summary, keep=keep)
            guard()
            try:
                self.index_etag = self.site.put_document(index_key(self.prefix), render_index(updated), condition=self.index_etag or "*")
            except WriteConflict:
                index = None
                continue
            self._forget(dropped_ids := [summary.id for summary in dropped], updated, release)
            return dropped_ids
        raise HookError(f"{self.where}: the release index kept changing while this run recorded {release.id}; rerun it")

    def _forget(self, dropped: Sequence[str], index: ReleaseIndex, new: Release) -> None:
        """Delete the records of dropped releases and the copies only they needed."""
        if not dropped:
            return
        gone = [self.read_release_or_none(rid) for rid in dropped]
        dropped_releases = [release for release in gone if release is not None]
        kept = [new, *(self.read_release_or_none(s.id) for s in index.releases if s.id != new.id)]
        unused = unreferenced_contents(dropped_releases, [release for release in kept if release is not None])
        keys = [release_key(self.prefix, rid) for rid in dropped] + [blob_key(self.prefix, sha) for sha in sorted(unused)]
        self.site.delete(keys, lambda: None)
        self.log.info(
            "dropped release(s) %s (keeping the last %d) and %d retained copies only they needed",
            ", ".join(dropped),
            len(index.releases),
            len(unused),
        )

    def forget_releases(self, rids: Sequence[str], *, guard: Callable[[], None]) -> None:
        """Take ``rids`` out of the index (conditionally, re-read on a conflict), then delete their records."""
        gone = set(rids)
        for _ in range(APPEND_ATTEMPTS):
            index = self.read_index()
            kept = tuple(summary for summary in index.releases if summary.id not in gone)
            guard()
            try:
                self.index_etag = self.site.put_document(
                    index_key(self.prefix), render_index(ReleaseIndex(kept, index.next_seq)), condition=self.index_etag or "*"
                )
            except WriteConflict:
                continue
            self.site.delete([release_key(self.prefix, rid) for rid in rids], guard)
            return
        raise HookError(f"{self.where}: the release index kept changing while this run dropped {', '.join(rids)}; rerun it")

    def read_release_or_none(self, rid: str) -> Release | None:
        """The release, or None (with a warning) when its record is missing or unreadable."""
        try:
            return self.read_release(rid)
        except HookError as error:
            self.log.warning("%s", error)
            return None

    # -- restoring ---------------------------------------------------------------------------------
    def find_version(self, key: str, state: ObjectState) -> str | None:
        """The id of a version of ``key`` holding the release's bytes (same ETag and size), newest first (a listing of its versions)."""
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
            for page in pages:
                for version in page.get("Versions", []):
                    if version["Key"] == key and strip_etag(version.get("ETag", "")) == state.etag and int(version["Size"]) == state.size:
                        return str(version["VersionId"])
        except aws_errors() as error:
            raise self.site.error(f"list the versions of {key}", error) from None
        return None

    def fill_versions(self, objects: Mapping[str, ObjectState]) -> dict[str, ObjectState]:
        """``objects`` with the current version id of each key lacking one (a HEAD each; kept None when the ETag differs)."""

        def head(key: str) -> tuple[str, str | None]:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
            same = strip_etag(response.get("ETag", "")) == objects[key].etag
            version = response.get("VersionId")
            return key, str(version) if same and version and version != "null" else None

        missing = sorted(key for key, state in objects.items() if state.version_id is None)
        found = dict(self.site.run_parallel(missing, head, what="read the version of", describe=str))
        return {key: replace(state, version_id=found.get(key, state.version_id)) for key, state in objects.items()}

    def has_version(self, key: str, state: ObjectState) -> bool:
        """Whether the version the release recorded for ``key`` still exists with its bytes."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=state.version_id)
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in MISSING_VERSION_CODES:
                return False
            raise self.site.error(f"look for a version of {key}", error) from None
        return strip_etag(response.get("ETag", "")) == state.etag and int(response["ContentLength"]) == state.size

    def has_copy(self, state: ObjectState) -> bool:
        """Whether a copy of the content is retained."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=blob_key(self.prefix, state.sha256))
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise self.site.error("look for a retained copy", error) from None
        return int(response["ContentLength"]) == state.size

    def sources(self, keys: Sequence[str], release: Release) -> dict[str, dict[str, str]]:
        """Where each key's bytes come back from (a CopySource); one line naming the first that is no longer retained."""

        def source(key: str) -> tuple[str, dict[str, str] | None]:
            state = release.objects[key]
            order = ("versions", "copies") if release.summary.retention == "versions" else ("copies", "versions")
            for kind in order:
                if kind == "copies" and self.has_copy(state):
                    return key, {"Bucket": self.bucket, "Key": blob_key(self.prefix, state.sha256)}
                if kind == "versions":
                    recorded = state.version_id is not None and self.has_version(key, state)
                    version = state.version_id if recorded else self.find_version(key, state)
                    if version is not None:
                        return key, {"Bucket": self.bucket, "Key": key, "VersionId": version}
            return key, None

        found = dict(self.site.run_parallel(list(keys), source, what="find the retained bytes of", describe=lambda key: key))
        missing = sorted(key for key, where in found.items() if where is None)
        if missing:
            how = (
                "its object versions have expired or were deleted"
                if release.summary.retention == "versions"
                else "its retained copies were deleted"
            )
            raise ReleaseError(
                f"release {release.id} can no longer be restored: {len(missing)} object(s) are no longer retained "
                f"({how}), e.g. {missing[0]}; nothing was changed"
            )
        return {key: where for key, where in found.items() if where is not None}

    def restore(self, key: str, source: Mapping[str, str], state: ObjectState, *, if_match: str | None = None) -> str:
        """Write the release's bytes and headers at ``key`` (only while the source's ETag is ``if_match``, the one
        :mod:`.proof` proved); returns the new ETag."""
        return self.site.copy_state(source, key, state, headers=True, if_match=if_match)

    def reheader(self, key: str, state: ObjectState, etag: str) -> str:
        """Give ``key`` (already holding the right bytes, ETag ``etag``) the release's headers."""
        return self.site.copy_state({"Bucket": self.bucket, "Key": key}, key, state, headers=True, if_match=etag)
