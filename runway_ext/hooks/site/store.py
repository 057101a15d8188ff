"""The release store in S3: read and append release records, keep copies, find what a release needs, restore it.

I/O only; decisions are in :mod:`.plan`. Writes of the index are conditional (``If-Match`` on the ETag read,
``If-None-Match: *`` when there is none) and only ever made while the writer holds the site's lock (the sync's
:class:`~runway_ext.hooks.npm_build.s3_site.SiteLease`), so releases are appended in the order the site changed.
Retained copies are written with ``x-amz-copy-source-if-match`` on the ETag the release records, so a copy is
exactly the bytes the release left, or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any, TypeVar

from runway_ext.core.errors import HookError

from .plan import append_release, unreferenced_contents
from .records import (
    OBJECTS_FOLDER,
    ObjectState,
    Release,
    ReleaseError,
    ReleaseIndex,
    Retention,
    blob_key,
    index_key,
    parse_index,
    parse_release,
    release_key,
    render_index,
    render_release,
)

SHA256_METADATA = "sha256"
"""The sync's content hash metadata (``x-amz-meta-sha256``), kept on every restored object."""
COPY_LIMIT = 5 * 1024**3
"""CopyObject's size limit; larger objects are copied in parts."""
DELETE_BATCH = 1000
CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
APPEND_ATTEMPTS = 5
LIST_INSTEAD_OF_HEADS = 200
"""Above this many contents to look for, one listing of the copies folder (1 request per 1,000) beats a HEAD each."""
T = TypeVar("T")


def _code(error: BaseException) -> str:
    from runway_ext.core.aws import error_code

    return error_code(error) if isinstance(error, Exception) else ""


class ReleaseStore:
    """The releases of one site (bucket + prefix)."""

    def __init__(self, client: Any, bucket: str, prefix: str, *, log: logging.Logger, workers: int = 16) -> None:
        """Use ``client`` (a boto3 S3 client) for ``s3://bucket/prefix``."""
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.log = log
        self.workers = workers
        self.index_etag: str | None = None

    @property
    def where(self) -> str:
        """``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{self.prefix}"

    # -- reading -----------------------------------------------------------------------------------
    def _get(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read(), str(response.get("ETag", ""))
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404"):
                return None
            raise self.error(f"read {key}", error) from None
        except BotoCoreError as error:
            raise self.error(f"read {key}", error) from None

    def read_index(self) -> ReleaseIndex:
        """The release index (empty when there is none yet); remembers its ETag for :meth:`append`."""
        found = self._get(index_key(self.prefix))
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
        found = self._get(release_key(self.prefix, rid))
        if found is None:
            raise HookError(f"release {rid}: its record {release_key(self.prefix, rid)} is missing from s3://{self.bucket}")
        try:
            return parse_release(found[0], rid)
        except ReleaseError as error:
            raise HookError(str(error)) from None

    def retention(self) -> Retention:
        """``versions`` when the bucket's versioning is Enabled, else ``copies`` (also when we may not ask)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as error:
            if _code(error) in ("AccessDenied", "403"):
                self.log.debug("may not read the versioning of s3://%s: keeping copies of releases", self.bucket)
                return "copies"
            raise self.error("read the bucket's versioning", error) from None
        except BotoCoreError as error:
            raise self.error("read the bucket's versioning", error) from None
        return "versions" if status == "Enabled" else "copies"

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (full keys).

        ListObjects (v1): the client may be the sync's, which parses ListObjectsV2 pages itself.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_objects").paginate(Bucket=self.bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as error:
            raise self.error("list the retained copies", error) from None

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
            found = self.run_parallel(list(first_key.values()), lambda item: (item, self.has_copy(item[1])), what="look for", describe=str)
            todo = [item for item, present in found if not present]

        def keep(item: tuple[str, ObjectState]) -> None:
            guard()
            key, state = item
            self._copy_bytes({"Bucket": self.bucket, "Key": key}, blob_key(self.prefix, state.sha256), state, if_match=state.etag)

        if todo:
            self.log.info("keeping copies of %d new contents under %s%s", len(todo), self.where, OBJECTS_FOLDER)
        self.run_parallel(todo, keep, what="keep a copy of", describe=lambda item: item[0])
        return len(todo)

    def append(self, release: Release, *, keep: int, guard: Callable[[], None]) -> list[str]:
        """Write the release's record, add it to the index, drop releases beyond ``keep``; returns the ids dropped.

        The caller holds the site's lock, so a conflicting index write can only come from a writer that lost
        it or a hand edit: the index is then read again and the release appended to what is there.
        """
        guard()
        self._put(release_key(self.prefix, release.id), render_release(release))
        index = None
        for _ in range(APPEND_ATTEMPTS):
            index = self.read_index() if index is None else index
            updated, dropped = append_release(index, release.summary, keep=keep)
            guard()
            try:
                self._put(index_key(self.prefix), render_index(updated), condition=self.index_etag or "*")
            except _Conflict:
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
        self.delete(keys, lambda: None)
        self.log.info(
            "dropped release(s) %s (keeping the last %d) and %d retained copies only they needed",
            ", ".join(dropped),
            len(index.releases),
            len(unused),
        )

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
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
            for page in pages:
                for version in page.get("Versions", []):
                    if version["Key"] == key and version.get("ETag", "").strip('"') == state.etag and int(version["Size"]) == state.size:
                        return str(version["VersionId"])
        except (ClientError, BotoCoreError) as error:
            raise self.error(f"list the versions of {key}", error) from None
        return None

    def fill_versions(self, objects: Mapping[str, ObjectState]) -> dict[str, ObjectState]:
        """``objects`` with the current version id of each key lacking one (a HEAD each; kept None when the ETag differs)."""

        def head(key: str) -> tuple[str, str | None]:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
            same = str(response.get("ETag", "")).strip('"') == objects[key].etag
            version = response.get("VersionId")
            return key, str(version) if same and version and version != "null" else None

        missing = sorted(key for key, state in objects.items() if state.version_id is None)
        found = dict(self.run_parallel(missing, head, what="read the version of", describe=str))
        return {key: replace(state, version_id=found.get(key, state.version_id)) for key, state in objects.items()}

    def has_version(self, key: str, state: ObjectState) -> bool:
        """Whether the version the release recorded for ``key`` still exists with its bytes."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=state.version_id)
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "NoSuchVersion", "404", "NotFound", "400", "InvalidArgument", "405", "MethodNotAllowed"):
                return False
            raise self.error(f"look for a version of {key}", error) from None
        except BotoCoreError as error:
            raise self.error(f"look for a version of {key}", error) from None
        return str(response.get("ETag", "")).strip('"') == state.etag and int(response["ContentLength"]) == state.size

    def has_copy(self, state: ObjectState) -> bool:
        """Whether a copy of the content is retained."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.head_object(Bucket=self.bucket, Key=blob_key(self.prefix, state.sha256))
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise self.error("look for a retained copy", error) from None
        except BotoCoreError as error:
            raise self.error("look for a retained copy", error) from None
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

        found = dict(self.run_parallel(list(keys), source, what="find the retained bytes of", describe=lambda key: key))
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

    def restore(self, key: str, source: Mapping[str, str], state: ObjectState) -> str:
        """Write the release's bytes and headers at ``key``; returns the new ETag."""
        return self._copy_bytes(dict(source), key, state, headers=True)

    def reheader(self, key: str, state: ObjectState, etag: str) -> str:
        """Give ``key`` (already holding the right bytes, ETag ``etag``) the release's headers."""
        return self._copy_bytes({"Bucket": self.bucket, "Key": key}, key, state, headers=True, if_match=etag)

    def delete(self, keys: Sequence[str], guard: Callable[[], None]) -> None:
        """Delete ``keys`` in batches of 1,000."""
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(keys), DELETE_BATCH):
            guard()
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            except (ClientError, BotoCoreError) as error:
                raise self.error("delete objects", error) from None
            failed = response.get("Errors", [])
            if failed:
                raise HookError(
                    f"could not delete {len(failed)} objects from s3://{self.bucket}; first: {failed[0].get('Key')}: {failed[0].get('Code')}"
                )

    # -- plumbing ----------------------------------------------------------------------------------
    def _copy_bytes(
        self, source: dict[str, str], key: str, state: ObjectState, *, headers: bool = False, if_match: str | None = None
    ) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, Any] = {}
        if headers:
            extra = {"ContentType": state.content_type, "CacheControl": state.cache_control, "Metadata": {SHA256_METADATA: state.sha256}}
        try:
            if state.size > COPY_LIMIT:
                self.client.copy(source, self.bucket, key, ExtraArgs=extra)
                return str(self.client.head_object(Bucket=self.bucket, Key=key).get("ETag", "")).strip('"')
            conditions = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
            response = self.client.copy_object(
                Bucket=self.bucket, Key=key, CopySource=source, MetadataDirective="REPLACE" if headers else "COPY", **extra, **conditions
            )
        except ClientError as error:
            if if_match and _code(error) in CONFLICT_CODES:
                raise HookError(
                    f"{source['Key']} in s3://{self.bucket} changed while this run copied it; nothing was recorded (rerun)"
                ) from None
            raise self.error(f"copy {source['Key']} to {key}", error) from None
        except BotoCoreError as error:
            raise self.error(f"copy {source['Key']} to {key}", error) from None
        return str(response.get("CopyObjectResult", {}).get("ETag", "")).strip('"')

    def _put(self, key: str, body: bytes, *, condition: str | None = None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, str] = {}
        if condition == "*":
            extra["IfNoneMatch"] = "*"
        elif condition:
            extra["IfMatch"] = condition
        try:
            response = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", CacheControl="no-store", **extra
            )
        except ClientError as error:
            if condition and _code(error) in CONFLICT_CODES | {"NoSuchKey", "404"}:
                raise _Conflict() from None
            raise self.error(f"write {key}", error) from None
        except BotoCoreError as error:
            raise self.error(f"write {key}", error) from None
        if key == index_key(self.prefix):
            self.index_etag = str(response.get("ETag", ""))

    def run_parallel(self, items: Sequence[Any], action: Callable[[Any], T], *, what: str, describe: Callable[[Any], str]) -> list[T]:
        """``action`` on every item, at most ``workers`` at once; the first failure stops the rest and is raised."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items)), thread_name_prefix="runway-ext-site") as pool:
            futures = {pool.submit(action, item): item for item in items}
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            results: list[T] = []
            for future, item in futures.items():
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    results.append(future.result())
                elif isinstance(error, (ClientError, BotoCoreError)):
                    raise self.error(f"{what} {describe(item)}", error) from None
                else:
                    raise error
        return results

    def error(self, action: str, error: BaseException) -> HookError:
        """One line for an S3 failure, naming the bucket."""
        from runway_ext.core.aws import error_message

        code = _code(error)
        if code == "NoSuchBucket":
            return HookError(f"bucket: bucket {self.bucket!r} does not exist")
        if code in ("AccessDenied", "403"):
            return HookError(f"bucket: access denied to s3://{self.bucket} (could not {action})")
        message = error_message(error) if isinstance(error, Exception) else str(error)
        return HookError(f"could not {action} in s3://{self.bucket}: {message}")


class _Conflict(Exception):
    """A conditional write failed."""


def states_of(entries: Mapping[str, Any]) -> dict[str, ObjectState]:
    """Site manifest entries (sha256, size, etag, content_type, cache_control) as release object states."""
    return {key: ObjectState(e.sha256, e.size, e.etag, e.content_type, e.cache_control) for key, e in entries.items()}


def unique(items: Iterable[str]) -> list[str]:
    """Items without repeats, in order."""
    return list(dict.fromkeys(items))
