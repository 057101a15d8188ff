"""Carry out a static-site sync against S3: read the bucket, apply a plan, record the site manifest.

The decisions live in :mod:`runway_ext.hooks.npm_build.plan` (pure); this module talks to S3. Uploads and
metadata updates run in a bounded thread pool — assets first, HTML pages last, so a visitor never gets
a new page that points at an asset not yet uploaded — then deletes, in batches of 1,000 keys. The site
manifest object is written last, and only when everything before it succeeded.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from runway_ext.core.aws import CLIENT_CONFIG, error_code, error_message
from runway_ext.core.errors import HookError

from .plan import (
    LocalFile,
    MetadataUpdate,
    RemoteObject,
    SiteManifest,
    SyncPlan,
    Upload,
    manifest_key,
    parse_manifest,
    render_manifest,
    strip_etag,
)

MULTIPART_THRESHOLD = 16 * 1024**2
"""Files up to this size go up in one PutObject (ETag = MD5); larger ones through s3transfer's multipart upload."""

DELETE_BATCH = 1000
"""DeleteObjects takes at most 1,000 keys per call."""

PROGRESS_INTERVAL = 2.0
"""Seconds between progress log lines while objects are transferred."""

SHA256_METADATA = "sha256"
"""User metadata key (``x-amz-meta-sha256``) holding each object's content hash."""

T = TypeVar("T")


def is_page(key: str) -> bool:
    """Whether a key is an HTML page (uploaded after the assets it may reference)."""
    return key.lower().endswith((".html", ".htm"))


class Progress:
    """Counts finished transfers and logs a line every :data:`PROGRESS_INTERVAL` seconds (and at the end)."""

    def __init__(self, log: logging.Logger, total: int, total_bytes: int, *, interval: float = PROGRESS_INTERVAL) -> None:
        """Track ``total`` transfers of ``total_bytes`` bytes."""
        self.log = log
        self.total = total
        self.total_bytes = total_bytes
        self.interval = interval
        self.done = 0
        self.done_bytes = 0
        self._started = time.monotonic()
        self._last = self._started
        self._lock = threading.Lock()

    def advance(self, size: int) -> None:
        """Record one finished transfer of ``size`` bytes."""
        with self._lock:
            self.done += 1
            self.done_bytes += size
            now = time.monotonic()
            if self.done == self.total or now - self._last >= self.interval:
                self._last = now
                self.log.info(
                    "synced %d/%d objects (%s of %s) in %.1fs",
                    self.done,
                    self.total,
                    format_bytes(self.done_bytes),
                    format_bytes(self.total_bytes),
                    now - self._started,
                )


def format_bytes(count: int) -> str:
    """A byte count for people (``12.3 MB``)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"


class S3Site:
    """One bucket (and key prefix) holding a static site."""

    def __init__(self, session: Any, bucket: str, prefix: str, *, log: logging.Logger, workers: int, region: str | None = None) -> None:
        """Use ``session`` (a boto3 session) for ``bucket``; ``workers`` bounds the parallel requests."""
        self.bucket = bucket
        self.prefix = prefix
        self.log = log
        self.workers = workers
        config = CLIENT_CONFIG.merge(Config(max_pool_connections=max(10, workers + 2)))
        self.client = session.client("s3", region_name=region or session.region_name, config=config)
        self._manifest_bytes: bytes | None = None

    # -- reading ---------------------------------------------------------------------------------
    def read_manifest(self) -> SiteManifest | None:
        """The site manifest of the last complete sync, or ``None`` (none yet, or not ours)."""
        key = manifest_key(self.prefix)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            data = response["Body"].read()
            self._manifest_bytes = data
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise self._error("read the site manifest", error) from None
        except BotoCoreError as error:
            raise self._error("read the site manifest", error) from None
        manifest = parse_manifest(data)
        if manifest is None:
            self.log.warning("s3://%s/%s is not a site manifest this version can read; comparing every object", self.bucket, key)
        return manifest

    def list_objects(self) -> list[RemoteObject]:
        """Every object under the prefix (key, size, ETag)."""
        objects: list[RemoteObject] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    objects.append(RemoteObject(item["Key"], int(item["Size"]), strip_etag(item.get("ETag", ""))))
        except (ClientError, BotoCoreError) as error:
            raise self._error("list the bucket", error) from None
        return objects

    def inspect(self, keys: Sequence[str]) -> dict[str, RemoteObject]:
        """HEAD each key (in parallel): its size, ETag, our sha256 metadata and its headers."""

        def head(key: str) -> RemoteObject:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
            return RemoteObject(
                key=key,
                size=int(response["ContentLength"]),
                etag=strip_etag(response.get("ETag", "")),
                sha256=response.get("Metadata", {}).get(SHA256_METADATA),
                content_type=response.get("ContentType"),
                cache_control=response.get("CacheControl"),
                headers_known=True,
            )

        if keys:
            self.log.info("inspecting %d objects the site manifest does not vouch for", len(keys))
        results = self._run_parallel(keys, head, what="inspect", describe=lambda key: key)
        return {item.key: item for item in results}

    # -- writing ---------------------------------------------------------------------------------
    def apply(self, plan: SyncPlan, local: Mapping[str, LocalFile], output_dir: Path) -> dict[str, str]:
        """Upload, update metadata, then delete, as planned; returns the new ETag of each written key."""
        transfers: list[Upload | MetadataUpdate] = [*plan.uploads, *plan.metadata_updates]
        total_bytes = sum(local[t.path].size for t in plan.uploads)
        progress = Progress(self.log, len(transfers), total_bytes)
        etags: dict[str, str] = {}

        def transfer(item: Upload | MetadataUpdate) -> tuple[str, str]:
            if isinstance(item, Upload):
                etag = self._upload(item, local[item.path], output_dir / item.path)
                progress.advance(item.size)
            else:
                etag = self._copy(item, local[item.path])
                progress.advance(0)
            return item.key, etag

        assets = [t for t in transfers if not is_page(t.key)]
        pages = [t for t in transfers if is_page(t.key)]
        for wave in (assets, pages):
            for key, etag in self._run_parallel(wave, transfer, what="upload", describe=lambda t: t.key):
                if etag:
                    etags[key] = etag
        self._delete(plan.deletes)
        return etags

    def write_manifest(self, manifest: SiteManifest, *, written_by: str) -> None:
        """Record the completed sync (one PutObject: readers see the old or the new manifest, never a mix).

        Not rewritten when it would hold the same bytes as the manifest read at the start.
        """
        key = manifest_key(self.prefix)
        body = render_manifest(manifest, written_by=written_by)
        if body == self._manifest_bytes:
            self.log.debug("site manifest unchanged")
            return
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                CacheControl="no-store",
            )
        except (ClientError, BotoCoreError) as error:
            raise self._error("write the site manifest", error) from None

    def _upload(self, upload: Upload, file: LocalFile, path: Path) -> str:
        extra = {
            "ContentType": upload.headers.content_type,
            "CacheControl": upload.headers.cache_control,
            "Metadata": {SHA256_METADATA: file.sha256},
        }
        if file.size <= MULTIPART_THRESHOLD:
            body = path.read_bytes()
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=upload.key,
                Body=body,
                ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode("ascii"),
                **extra,
            )
            return strip_etag(response.get("ETag", ""))
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, max_concurrency=4, use_threads=True)
        self.client.upload_file(str(path), self.bucket, upload.key, ExtraArgs=extra, Config=config)
        return strip_etag(self.client.head_object(Bucket=self.bucket, Key=upload.key).get("ETag", ""))

    def _copy(self, update: MetadataUpdate, file: LocalFile) -> str:
        response = self.client.copy_object(
            Bucket=self.bucket,
            Key=update.key,
            CopySource={"Bucket": self.bucket, "Key": update.key},
            MetadataDirective="REPLACE",
            ContentType=update.headers.content_type,
            CacheControl=update.headers.cache_control,
            Metadata={SHA256_METADATA: file.sha256},
        )
        return strip_etag(response.get("CopyObjectResult", {}).get("ETag", ""))

    def _delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            except (ClientError, BotoCoreError) as error:
                raise self._error("delete objects", error) from None
            failed = response.get("Errors", [])
            if failed:
                first = failed[0]
                raise HookError(
                    f"could not delete {len(failed)} objects from s3://{self.bucket}; first: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )
            self.log.info("deleted %d objects", min(start + DELETE_BATCH, len(keys)))

    def _run_parallel(
        self,
        items: Iterable[Any],
        action: Callable[[Any], T],
        *,
        what: str,
        describe: Callable[[Any], str],
    ) -> list[T]:
        """Run ``action`` on every item with at most ``workers`` at once; the first failure stops the rest."""
        items = list(items)
        if not items:
            return []
        results: list[T] = []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items)), thread_name_prefix="runway-ext-s3") as pool:
            futures: dict[Future[T], Any] = {pool.submit(action, item): item for item in items}
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in futures:
                if future.cancelled():
                    continue
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    if isinstance(error, HookError):
                        raise error
                    if isinstance(error, (ClientError, BotoCoreError, OSError)):
                        raise self._error(f"{what} {describe(futures[future])}", error) from None
                    raise error
                results.append(future.result())
        return results

    def _error(self, action: str, error: BaseException) -> HookError:
        """One clear line for an S3 failure, naming the bucket."""
        code = error_code(error) if isinstance(error, Exception) else ""
        if code == "NoSuchBucket":
            return HookError(f"bucket_name: bucket {self.bucket!r} does not exist")
        if code in ("AccessDenied", "403"):
            return HookError(f"bucket_name: access denied to s3://{self.bucket} (could not {action})")
        message = error_message(error) if isinstance(error, Exception) else str(error)
        return HookError(f"could not {action} in s3://{self.bucket}: {message}")
