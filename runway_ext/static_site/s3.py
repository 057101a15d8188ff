"""The one S3 wrapper of a static site: read the bucket, apply a sync plan, read and write the site manifest.

Every S3 request of the site code (the sync, the release store, rollbacks) goes through :class:`S3Site`, so one
client, one error wording (naming ``bucket_name``) and one bounded thread pool (:func:`run_parallel`) serve them
all. The decisions live in :mod:`.inplace` and :mod:`.manifest` (pure); this module talks to S3. A sync plan
is carried out wave by wave, in the order :attr:`~.inplace.SyncPlan.waves` gives (new keys, overwritten files,
overwritten pages, deletes: the rule and why no view misses a file are in :mod:`.inplace`): the
uploads and metadata updates of a wave run in a bounded thread pool, and a wave starts only once every write of
the one before has succeeded (a failure ends the sync there). Deletes go last, each only while the object has the
ETag this site recorded (DeleteObject ``If-Match``): one changed behind the tool's back is kept and reported. The site
manifest is only ever written conditionally (``If-Match`` on the ETag last read or written, or
``If-None-Match: *`` when there was none), so a concurrent writer is detected instead of overwritten;
:class:`~.lock.SiteLease` holds and renews a deploy's lock while it writes (the protocol: :mod:`.lock`).

AWS S3 answers a failed condition with 412 PreconditionFailed, and with 409 ConditionalRequestConflict
when two conditional writes of one key are in flight at once; both mean "another writer won" here.

**Reading the bucket fast.** The listing is what verifies a deploy, so it is made cheap on our side.
botocore still signs, sends, retries and checks every ListObjectsV2 page, but a ``before-parse``
handler takes the page's ``<Contents>`` elements out of the body before botocore's generic parser
sees them (that parser costs ~0.3 ms per object, ten times :func:`parse_contents`, an ElementTree
walk). A page in any other shape (no ``<Contents>``, an error, another S3 implementation's layout) is
left to botocore. The key space is listed in ranges at once (:meth:`S3Site.list_objects`), cut where
the site manifest says one page of keys ends, so a large site is not read one page after another.
boto3 and botocore are imported by the first S3 call, never by importing this module.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote_plus
from xml.etree import ElementTree

from runway_ext.core.aws import aws_errors, client_config, error_code, error_message, is_client_error, share_model_loader
from runway_ext.core.errors import HookError
from runway_ext.static_site.checksums import full_object_sha256, sha256_base64
from runway_ext.static_site.inplace import COPY_LIMIT, LocalFile, MetadataUpdate, SyncPlan, Upload
from runway_ext.static_site.layout import SHA256_METADATA, STATE_FOLDER, manifest_key
from runway_ext.static_site.manifest import SiteManifest, parse_manifest, render_manifest
from runway_ext.static_site.objects import MD5_LIMIT, ObjectState, RemoteObject, strip_etag

MULTIPART_THRESHOLD = MD5_LIMIT
"""Files up to this size go up in one PutObject (ETag = MD5); larger ones through s3transfer's multipart upload."""

MULTIPART_CHUNK = 16 * 1024**2
MULTIPART_CONCURRENCY = 10
"""Parts of a large file go up this many at a time (as ``aws s3 cp`` does)."""

CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})

DELETE_BATCH = 1000
"""DeleteObjects takes at most 1,000 keys per call."""

PROGRESS_INTERVAL = 2.0
"""Seconds between progress log lines while objects are transferred."""

LISTING_CONCURRENCY = 8
"""Ranges of the key space listed at once."""

PAGE_KEYS = 1000
"""Keys per ListObjectsV2 page (S3's maximum)."""

RANGE_KEYS = 990
"""Expected keys per listing range: one page reaches just past the range's end."""

RANGE_SLACK = 10
"""Keys asked for beyond a range's expected end, so that its first page shows where it ends."""

RAW_CONTENTS = "RunwayExtRawContents"
"""Key, in a parsed ListObjectsV2 response, of the page's ``<Contents>`` elements as raw XML bytes."""

_CONTENTS_OPEN = b"<Contents>"
_CONTENTS_CLOSE = b"</Contents>"

T = TypeVar("T")
ItemT = TypeVar("ItemT")


class ManifestConflict(HookError):
    """A conditional write of the site manifest failed: another deploy wrote it since this one read it."""


class _Exists(Exception):
    """An object is already at the key an upload may only create."""


def crc64nvme_of(path: Path) -> str:
    """The CRC64NVME of a file as S3 writes it (base64 of the 8 big-endian bytes); needs the AWS CRT (``botocore[crt]``)."""
    try:
        from awscrt.checksums import crc64nvme
    except ImportError:
        raise HookError("key_value_store_arn: atomic releases need the AWS CRT: pip install 'botocore[crt]'") from None
    value = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            value = crc64nvme(block, value)
    return base64.b64encode(value.to_bytes(8, "big")).decode("ascii")


class WriteConflict(HookError):
    """A conditional write of another document of this tool failed (it changed since it was read)."""


def _server_time(metadata: Mapping[str, Any]) -> float | None:
    """S3's clock from a response's Date header (seconds since the epoch)."""
    value = metadata.get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def stash_listing_contents(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """botocore ``before-parse`` handler for ListObjectsV2: move a page's ``<Contents>`` out of the body.

    Only for a 200 answer whose ``<Contents>`` elements form one run (nothing else among them); the bytes land in the parsed response under :data:`RAW_CONTENTS` and everything else
    (``IsTruncated``, ``NextContinuationToken``, ``EncodingType`` ...) is parsed by botocore as usual.
    """
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes):
        return
    first = body.find(_CONTENTS_OPEN)
    if first < 0:
        return
    end = body.rfind(_CONTENTS_CLOSE) + len(_CONTENTS_CLOSE)
    segment = body[first:end]
    pieces = segment.split(_CONTENTS_CLOSE)
    if pieces[-1].strip() or not all(piece.lstrip().startswith(_CONTENTS_OPEN) for piece in pieces[:-1]):
        return  # something else among the <Contents> elements
    customized_response_dict[RAW_CONTENTS] = segment
    response_dict["body"] = body[:first] + body[end:]


def parse_contents(segment: bytes, *, url_encoded: bool) -> list[RemoteObject]:
    """The objects of a run of ListObjectsV2 ``<Contents>`` elements (keys URL-decoded when ``url_encoded``)."""
    try:
        # No DTD can reach the parser (the prolog is cut off and a DOCTYPE after <Page> is a parse
        # error), so no entity expansion: the same parser botocore uses on the whole page.
        root = ElementTree.fromstring(b"<Page>" + segment + b"</Page>")  # noqa: S314
    except ElementTree.ParseError as error:
        raise HookError(f"could not read a page of the bucket listing: {error}") from None
    objects: list[RemoteObject] = []
    times: dict[str, float] = {}
    for element in root:
        key = size = etag = modified = None
        for field in element:
            tag = field.tag
            if tag == "Key":
                key = field.text or ""
            elif tag == "Size":
                size = field.text
            elif tag == "ETag":
                etag = field.text
            elif tag == "LastModified":
                modified = field.text
        if element.tag != "Contents" or key is None or size is None:
            raise HookError("could not read a page of the bucket listing: an entry without Key or Size")
        stamp = None
        if modified:
            stamp = times.get(modified)
            if stamp is None:
                stamp = times[modified] = _timestamp(modified)
        objects.append(RemoteObject(unquote_plus(key) if url_encoded else key, int(size), strip_etag(etag or ""), last_modified=stamp))
    return objects


def _timestamp(text: str) -> float:
    """Seconds since the epoch of an S3 ISO 8601 time (``2026-12-02T15:31:26.000Z``)."""
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text).timestamp()
    except ValueError:
        raise HookError(f"could not read a page of the bucket listing: bad LastModified {text[:40]!r}") from None


@dataclass(frozen=True)
class KeyRange:
    """Keys after ``after`` (None: from the first) and up to ``upto`` (None: to the last; ``inclusive`` or not).

    ``expected`` is how many keys the site manifest puts there: the first page asks for that many
    and :data:`RANGE_SLACK` more (None: a full page), so a correct prediction is one small request.
    """

    after: str | None
    upto: str | None
    inclusive: bool = True
    expected: int | None = None

    def holds(self, key: str) -> bool:
        """Whether ``key`` is not beyond the range's end (listings start after ``after``)."""
        if self.upto is None:
            return True
        return key <= self.upto if self.inclusive else key < self.upto

    def first_page_keys(self) -> int:
        """MaxKeys of the range's first request."""
        return PAGE_KEYS if self.expected is None else min(PAGE_KEYS, self.expected + RANGE_SLACK)


def listing_ranges(expected_keys: Iterable[str], *, per_range: int, state_prefix: str) -> list[KeyRange]:
    """Ranges of ``per_range`` of the expected keys each, leaving out every key under ``state_prefix``. Pure.

    Each range ends (inclusive) at its last expected key; the last range is open. The keys under
    ``state_prefix`` are exactly those in ``[state_prefix, state_prefix + U+10FFFF]`` (the highest code
    point; a key there beyond it would still be a state key, listed and ignored): the range holding
    them is cut in two around them.
    """
    ordered = sorted(expected_keys)
    ends = ordered[per_range - 1 : -1 : per_range] if per_range > 0 else []
    state_end = state_prefix + "\U0010ffff"
    ranges: list[KeyRange] = []
    for number, (after, upto) in enumerate(zip([None, *ends], [*ends, None], strict=True)):
        share = min(per_range, len(ordered) - number * per_range) if upto is not None else None
        if (after is None or after < state_prefix) and (upto is None or upto >= state_prefix):
            before_state = bisect_left(ordered, state_prefix) - number * per_range
            ranges.append(KeyRange(after, state_prefix, inclusive=False, expected=before_state))
            ranges.append(KeyRange(state_end, upto, expected=None if share is None else share - before_state))
        else:
            ranges.append(KeyRange(after, upto, expected=share))
    return ranges


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
        from botocore.config import Config

        config = client_config().merge(Config(max_pool_connections=max(10, workers + 2)))
        share_model_loader(session)
        self.client = session.client("s3", region_name=region or session.region_name, config=config)
        self.client.meta.events.register("before-parse.s3.ListObjectsV2", stash_listing_contents)
        self.stop_listing = threading.Event()
        """Set to make a running :meth:`list_objects` stop after its current page (it then raises)."""
        self._manifest_bytes: bytes | None = None
        self.manifest: SiteManifest | None = None
        """The site manifest last read (its keys decide how the bucket is listed)."""
        self.manifest_etag: str | None = None
        """ETag of the site manifest as last read or written by this object (None: there was none)."""
        self.manifest_time: float | None = None
        """Last modification of the manifest read (S3's clock)."""
        self.server_time: float | None = None
        """S3's clock when the manifest was read."""
        self.listed_at: float | None = None
        """S3's clock when the listing started."""

    @classmethod
    def with_client(cls, client: Any, bucket: str, prefix: str, *, log: logging.Logger, workers: int = 16) -> S3Site:
        """A site read and written through a boto3 S3 client the caller owns (its listing parser is left as it is)."""
        site = cls.__new__(cls)
        site.bucket, site.prefix, site.log, site.workers, site.client = bucket, prefix, log, workers, client
        site.stop_listing = threading.Event()
        site._manifest_bytes = None
        site.manifest = site.manifest_etag = None
        site.manifest_time = site.server_time = site.listed_at = None
        return site

    # -- reading ---------------------------------------------------------------------------------
    def check_bucket(self) -> None:
        """Learn, by one HeadBucket, that the bucket exists and this account may use it; else a :class:`HookError` naming ``bucket_name``."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("404", "NotFound", "NoSuchBucket"):
                raise HookError(f"bucket_name: bucket {self.bucket!r} does not exist") from None
            raise self.error("reach the bucket", error) from None

    def read_manifest(self) -> SiteManifest | None:
        """The site manifest (``None``: none yet, or not ours); remembers its ETag and time for conditional writes."""
        return self.manifest_from(self.fetch_manifest())

    def fetch_manifest(self) -> bytes | None:
        """GET the site manifest's bytes (``None``: there is none); remembers its ETag and times.

        A deploy lists the bucket only once this has returned (a listing started earlier could miss
        the writes of a deploy that finished in between, whose manifest this one then trusts).
        """
        key = manifest_key(self.prefix)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            data = response["Body"].read()
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("NoSuchKey", "404"):
                self.server_time = _server_time(getattr(error, "response", {}).get("ResponseMetadata", {}))
                return None
            raise self.error("read the site manifest", error) from None
        self._manifest_bytes = data
        self.manifest_etag = response.get("ETag")
        modified = response.get("LastModified")
        self.manifest_time = modified.timestamp() if modified is not None else None
        self.server_time = _server_time(response.get("ResponseMetadata", {}))
        return bytes(data)

    def manifest_from(self, data: bytes | None) -> SiteManifest | None:
        """The site manifest in the bytes :meth:`fetch_manifest` returned (warns about one it cannot read)."""
        if data is None:
            return None
        manifest = self.manifest = parse_manifest(data)
        if manifest is None:
            self.log.warning(
                "s3://%s/%s is not a site manifest this version can read; comparing every object", self.bucket, manifest_key(self.prefix)
            )
        return manifest

    def list_objects(self) -> list[RemoteObject]:
        """Every object of the site under the prefix (key, size, ETag, last modified), in key order.

        This tool's own objects (under ``<prefix>.runway-ext/``: the manifest, release records and
        copies) are not listed: no decision looks at them, and they may outnumber the site.
        The key space is cut into ranges (:func:`listing_ranges`) listed at once, up to
        :data:`LISTING_CONCURRENCY` at a time, each read page by page from its start key
        (``StartAfter``) until a key beyond its end shows up or the listing ends. Whatever the bucket
        holds, the ranges cover every key exactly once; when it holds what the manifest last read
        says, each range is one request.
        """
        expected = self.manifest.objects if self.manifest is not None else ()
        ranges = listing_ranges(expected, per_range=RANGE_KEYS, state_prefix=self.prefix + STATE_FOLDER)
        failed = threading.Event()
        times: list[float] = []
        try:
            with ThreadPoolExecutor(max_workers=min(LISTING_CONCURRENCY, len(ranges)), thread_name_prefix="runway-ext-listing") as pool:
                futures = [pool.submit(self._list_range, key_range, failed, times) for key_range in ranges]
                objects: list[RemoteObject] = []
                for future in futures:
                    objects.extend(future.result())
        except aws_errors() as error:
            raise self.error("list the bucket", error) from None
        finally:
            failed.set()
        self.listed_at = min(times) if len(times) == len(ranges) else None
        return objects

    def _list_range(self, key_range: KeyRange, failed: threading.Event, times: list[float]) -> list[RemoteObject]:
        """The objects in ``key_range``; ``times`` gets S3's clock at its first page."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": key_range.first_page_keys()}
        if key_range.after is not None:
            params["StartAfter"] = key_range.after
        objects: list[RemoteObject] = []
        first = True
        try:
            while True:
                if self.stop_listing.is_set() or failed.is_set():
                    raise HookError(f"the listing of s3://{self.bucket} was stopped")
                page = self.client.list_objects_v2(**params)
                if first:
                    stamp = _server_time(page.get("ResponseMetadata", {}))
                    if stamp is not None:
                        times.append(stamp)
                    first = False
                raw = page.get(RAW_CONTENTS)
                if raw is not None:
                    items = parse_contents(raw, url_encoded=page.get("EncodingType") == "url")
                else:
                    items = [_listed_object(item) for item in page.get("Contents", [])]
                if items and not key_range.holds(items[-1].key):
                    objects.extend(item for item in items if key_range.holds(item.key))
                    return objects
                objects.extend(items)
                if not page.get("IsTruncated"):
                    return objects
                token = page.get("NextContinuationToken")
                if not token:
                    raise HookError(f"could not list the bucket s3://{self.bucket}: a truncated page without a continuation token")
                params["ContinuationToken"] = token
                params["MaxKeys"] = PAGE_KEYS
        except BaseException:
            failed.set()
            raise

    def inspect(self, keys: Sequence[str]) -> dict[str, RemoteObject]:
        """HEAD each key (in parallel): its size, ETag, the SHA-256 S3 computed (:mod:`.checksums`) and its headers."""

        def head(key: str) -> RemoteObject:
            response = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            return RemoteObject(
                key=key,
                size=int(response["ContentLength"]),
                etag=strip_etag(response.get("ETag", "")),
                sha256=full_object_sha256(response),  # S3's, never the x-amz-meta-sha256 its writer chose
                content_type=response.get("ContentType"),
                cache_control=response.get("CacheControl"),
                headers_known=True,
                last_modified=response["LastModified"].timestamp() if response.get("LastModified") else None,
            )

        if keys:
            self.log.info("inspecting %d objects the site manifest does not vouch for", len(keys))
        results = self.run_parallel(keys, head, what="inspect", describe=lambda key: key)
        return {item.key: item for item in results}

    # -- writing ---------------------------------------------------------------------------------
    def apply(
        self, plan: SyncPlan, local: Mapping[str, LocalFile], output_dir: Path, *, guard: Callable[[], None] | None = None
    ) -> dict[str, str]:
        """Carry out the plan's waves in order, each complete before the next; returns the new ETag of each written key.

        The first failed write raises once the writes of its wave that had started have ended: no later wave
        starts. ``guard`` runs before every write and stops the sync by raising (the lease's check).
        """
        check = guard or (lambda: None)
        total_bytes = sum(local[t.path].size for t in plan.uploads)
        progress = Progress(self.log, len(plan.uploads) + len(plan.metadata_updates), total_bytes)
        etags: dict[str, str] = {}

        def transfer(item: Upload | MetadataUpdate) -> tuple[str, str]:
            check()
            if isinstance(item, Upload):
                etag = self._upload(item, local[item.path], output_dir / item.path)
                progress.advance(item.size)
            else:
                etag = self._copy(item, local[item.path])
                progress.advance(0)
            return item.key, etag

        waves = plan.waves
        for number, wave in enumerate(waves, 1):
            self.log.debug("wave %d of %d: %s (%d)", number, len(waves), wave.kind, len(wave.transfers) + len(wave.deletes))
            if wave.deletes:
                self.delete_unchanged(wave.deletes, plan.delete_etags, check)
                continue
            for key, etag in self.run_parallel(wave.transfers, transfer, what="upload", describe=lambda t: t.key):
                if etag:
                    etags[key] = etag
        return etags

    def write_manifest(self, manifest: SiteManifest, *, written_by: str) -> None:
        """Record ``manifest`` if the manifest is still the one last read or written (else :class:`ManifestConflict`).

        One PutObject, so readers see the old or the new manifest, never a mix. Not rewritten when it
        would hold the same bytes as the manifest read at the start.
        """
        body = render_manifest(manifest, written_by=written_by)
        if body == self._manifest_bytes:
            self.log.debug("site manifest unchanged")
            return
        self.put_manifest(body)

    def put_manifest(self, body: bytes) -> str:
        """Write the manifest's bytes conditionally on :attr:`manifest_etag`; returns (and remembers) the new ETag."""
        condition = {"IfMatch": self.manifest_etag} if self.manifest_etag else {"IfNoneMatch": "*"}
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=manifest_key(self.prefix),
                Body=body,
                ContentType="application/json",
                CacheControl="no-store",
                **condition,
            )
        except aws_errors() as error:
            if is_client_error(error) and (
                error_code(error) in CONFLICT_CODES or (self.manifest_etag and error_code(error) in ("NoSuchKey", "404"))
            ):
                raise ManifestConflict(
                    f"s3://{self.bucket}/{self.prefix}: another deploy wrote the site manifest while this one ran; "
                    "this deploy stopped (rerun it once the other has finished)"
                ) from None
            raise self.error("write the site manifest", error) from None
        self.manifest_etag = response.get("ETag")
        self._manifest_bytes = body
        return str(self.manifest_etag)

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
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=sha256_base64(file.sha256),  # S3 checks it and keeps it (.checksums)
                **extra,
            )
            return strip_etag(response.get("ETag", ""))
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNK,
            max_concurrency=MULTIPART_CONCURRENCY,
            use_threads=True,
        )
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

    def delete(self, keys: Sequence[str], check: Callable[[], None]) -> None:
        """Delete ``keys`` in batches of 1,000 (``check`` before each batch); one line naming the first that failed."""
        for start in range(0, len(keys), DELETE_BATCH):
            check()
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            except aws_errors() as error:
                raise self.error("delete objects", error) from None
            failed = response.get("Errors", [])
            if failed:
                first = failed[0]
                raise HookError(
                    f"could not delete {len(failed)} objects from s3://{self.bucket}; first: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )
            self.log.info("deleted %d objects", min(start + DELETE_BATCH, len(keys)))

    def delete_unchanged(self, keys: Sequence[str], etags: Mapping[str, str], check: Callable[[], None]) -> list[str]:
        """Delete each key only while it has the ETag ``etags`` records for it (DeleteObject ``If-Match``, in parallel);
        returns the keys kept because they changed since, named in one warning line."""

        def remove(key: str) -> tuple[str, bool]:
            check()
            return key, self.delete_if(key, etags[key])

        kept = sorted(key for key, deleted in self.run_parallel(keys, remove, what="delete", describe=str) if not deleted)
        if keys:
            self.log.info("deleted %d objects", len(keys) - len(kept))
        if kept:
            self.log.warning(
                "kept %d object(s) that changed after this site recorded them (not deleted; now left to whoever changed them): %s",
                len(kept),
                ", ".join(kept[:5]) + (", ..." if len(kept) > 5 else ""),
            )
        return kept

    def run_parallel(self, items: Iterable[ItemT], action: Callable[[ItemT], T], *, what: str, describe: Callable[[ItemT], str]) -> list[T]:
        """Run ``action`` on every item with at most ``workers`` at once; the first failure stops the rest and is raised.

        An S3 or file failure becomes one line (:meth:`error`) naming ``what`` and the item ``describe`` names.
        """
        return run_parallel(
            items,
            action,
            workers=self.workers,
            translate=lambda item, error: (
                self.error(f"{what} {describe(item)}", error) if isinstance(error, (*aws_errors(), OSError)) else None
            ),
        )

    # -- plain object I/O (the release store's) -------------------------------------------------------
    def get(self, key: str) -> tuple[bytes, str] | None:
        """The bytes and ETag of ``key`` (None: no such key)."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read(), str(response.get("ETag", ""))
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("NoSuchKey", "404"):
                return None
            raise self.error(f"read {key}", error) from None

    def put_document(self, key: str, body: bytes, *, condition: str | None = None) -> str:
        """PutObject a JSON document of this tool (never cached); returns its ETag.

        ``condition``: ``*`` (the key must not exist) or an ETag it must still have; a failed condition raises
        :class:`WriteConflict`.
        """
        extra: dict[str, str] = {}
        if condition == "*":
            extra["IfNoneMatch"] = "*"
        elif condition:
            extra["IfMatch"] = condition
        try:
            response = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", CacheControl="no-store", **extra
            )
        except aws_errors() as error:
            if condition and is_client_error(error) and error_code(error) in CONFLICT_CODES | {"NoSuchKey", "404"}:
                raise WriteConflict(f"{key} in s3://{self.bucket} changed while this run wrote it") from None
            raise self.error(f"write {key}", error) from None
        return str(response.get("ETag", ""))

    def copy_state(
        self, source: Mapping[str, str], key: str, state: ObjectState, *, headers: bool = False, if_match: str | None = None
    ) -> str:
        """Server-side copy of ``source`` (a CopySource) to ``key``; returns the new ETag.

        ``headers``: give the copy the state's Content-Type, Cache-Control and sha256 metadata (else keep the
        source's); ``if_match``: copy only while the source still has this ETag (else one line, nothing written).
        """
        extra: dict[str, Any] = {}
        if headers:
            extra = {"ContentType": state.content_type, "CacheControl": state.cache_control, "Metadata": {SHA256_METADATA: state.sha256}}
        extra["ChecksumAlgorithm"] = "SHA256"  # S3 computes the copy's SHA-256: what a restore proves bytes by (.proof)
        try:
            if state.size > COPY_LIMIT:
                large = {**extra, **({"CopySourceIfMatch": f'"{if_match}"'} if if_match else {})}
                self.client.copy(dict(source), self.bucket, key, ExtraArgs=large)
                return strip_etag(self.client.head_object(Bucket=self.bucket, Key=key).get("ETag", ""))
            conditions = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
            response = self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource=dict(source),
                MetadataDirective="REPLACE" if headers else "COPY",
                **extra,
                **conditions,
            )
        except aws_errors() as error:
            if if_match and is_client_error(error) and error_code(error) in CONFLICT_CODES:
                raise HookError(
                    f"{source['Key']} in s3://{self.bucket} changed while this run copied it; nothing was recorded (rerun)"
                ) from None
            raise self.error(f"copy {source['Key']} to {key}", error) from None
        return strip_etag(response.get("CopyObjectResult", {}).get("ETag", ""))

    def head_state(self, key: str) -> ObjectState:
        """A HEAD of ``key`` as an :class:`ObjectState` (sha256 from our metadata, empty when absent)."""
        response = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectState(
            sha256=str(response.get("Metadata", {}).get(SHA256_METADATA, "")),
            size=int(response["ContentLength"]),
            etag=strip_etag(response.get("ETag", "")),
            content_type=str(response.get("ContentType", "")),
            cache_control=str(response.get("CacheControl", "")),
        )

    # -- the atomic layout's writes: every object carries an S3-stored CRC64NVME ---------------------------
    def put_release_object(self, key: str, path: Path, state: ObjectState, *, if_absent: bool = False) -> ObjectState:
        """Upload ``path`` to ``key`` with the state's headers and a CRC64NVME S3 checks and stores; returns the state written.

        ``if_absent``: only if no object is there (``If-None-Match: *``); when one is, it is kept if S3's checksum of
        it equals this file's (the same bytes, e.g. from a run that was killed), else one line and nothing written.
        """
        checksum = crc64nvme_of(path)
        extra = {
            "ContentType": state.content_type,
            "CacheControl": state.cache_control,
            "Metadata": {SHA256_METADATA: state.sha256},
            "ChecksumAlgorithm": "CRC64NVME",
        }
        try:
            if state.size <= MULTIPART_THRESHOLD:
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=path.read_bytes(),
                    ChecksumCRC64NVME=checksum,
                    **extra,
                    **({"IfNoneMatch": "*"} if if_absent else {}),
                )
                etag, stored = strip_etag(response.get("ETag", "")), response.get("ChecksumCRC64NVME")
            else:
                if if_absent and self.checksum_of(key) is not None:
                    raise _Exists()
                from boto3.s3.transfer import TransferConfig

                config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK, use_threads=True)
                self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=config)
                etag, stored = self._etag_and_checksum(key)
        except _Exists:
            etag, stored = self._existing(key, checksum)
        except aws_errors() as error:
            if if_absent and is_client_error(error) and error_code(error) in CONFLICT_CODES:
                etag, stored = self._existing(key, checksum)
            else:
                raise self.error(f"upload {key}", error) from None
        if stored != checksum:
            raise HookError(
                f"s3://{self.bucket}/{key}: S3 stored checksum {stored} for a file whose CRC64NVME is {checksum}; nothing was switched"
            )
        return replace(state, etag=etag, checksum=checksum)

    def _existing(self, key: str, checksum: str) -> tuple[str, str]:
        etag, stored = self._etag_and_checksum(key)
        if stored != checksum:
            raise HookError(
                f"s3://{self.bucket}/{key} already holds other bytes (CRC64NVME {stored}, the build's is {checksum}); "
                "shared objects are never overwritten: nothing was switched"
            )
        return etag, stored

    def _etag_and_checksum(self, key: str) -> tuple[str, str | None]:
        response = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        return strip_etag(response.get("ETag", "")), response.get("ChecksumCRC64NVME")

    def copy_release_object(self, source_key: str, key: str, source: ObjectState, *, headers: bool = False) -> ObjectState:
        """Server-side copy of a release's object (while it has the recorded ETag), checked by S3's checksum.

        ``headers``: set the recorded headers on the copy (else they are copied with the bytes).
        """
        extra: dict[str, Any] = {"MetadataDirective": "COPY"}
        if headers:
            extra = {
                "MetadataDirective": "REPLACE",
                "ContentType": source.content_type,
                "CacheControl": source.cache_control,
                "Metadata": {SHA256_METADATA: source.sha256},
            }
        try:
            response = self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": source_key},
                CopySourceIfMatch=f'"{source.etag}"',
                ChecksumAlgorithm="CRC64NVME",
                **extra,
            )
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in CONFLICT_CODES:
                raise HookError(
                    f"s3://{self.bucket}/{source_key} changed since its release was recorded; nothing was switched "
                    "(deploy with force: true to upload it again)"
                ) from None
            raise self.error(f"copy {source_key} to {key}", error) from None
        result = response.get("CopyObjectResult", {})
        stored = result.get("ChecksumCRC64NVME")
        if stored != source.checksum:
            raise HookError(f"s3://{self.bucket}/{source_key}: its copy has CRC64NVME {stored}, its release recorded {source.checksum}")
        return replace(source, etag=strip_etag(result.get("ETag", "")))

    def checksum_of(self, key: str) -> str | None:
        """S3's CRC64NVME of ``key`` (a HEAD with checksum mode); None when there is no such object (or no checksum)."""
        try:
            return self._etag_and_checksum(key)[1]
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self.error(f"inspect {key}", error) from None

    def list_folder(self, folder: str) -> list[tuple[str, str, int]]:
        """(key, ETag, size) of every object under ``folder`` (ListObjects v1 pages: the v2 parser is the sync's)."""
        try:
            pages = self.client.get_paginator("list_objects").paginate(Bucket=self.bucket, Prefix=folder)
            return [
                (item["Key"], strip_etag(item.get("ETag", "")), int(item["Size"])) for page in pages for item in page.get("Contents", [])
            ]
        except aws_errors() as error:
            raise self.error(f"list {folder}", error) from None

    def delete_if(self, key: str, etag: str) -> bool:
        """Delete ``key`` only while it has ``etag`` (DeleteObject ``If-Match``); False when it changed (it is kept)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=f'"{etag}"')
        except aws_errors() as error:
            if is_client_error(error) and error_code(error) in CONFLICT_CODES:
                return False
            if is_client_error(error) and error_code(error) in ("NoSuchKey", "404"):
                return True
            raise self.error(f"delete {key}", error) from None
        return True

    @property
    def where(self) -> str:
        """``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{self.prefix}"

    def error(self, action: str, error: BaseException) -> HookError:
        """One clear line for an S3 failure, naming the bucket (and the ``bucket_name`` field where it is the cause)."""
        code = error_code(error) if isinstance(error, Exception) else ""
        if code == "NoSuchBucket":
            return HookError(f"bucket_name: bucket {self.bucket!r} does not exist")
        if code in ("AccessDenied", "403"):
            return HookError(f"bucket_name: access denied to s3://{self.bucket} (could not {action})")
        message = error_message(error) if isinstance(error, Exception) else str(error)
        return HookError(f"could not {action} in s3://{self.bucket}: {message}")


def run_parallel(
    items: Iterable[ItemT],
    action: Callable[[ItemT], T],
    *,
    workers: int,
    translate: Callable[[ItemT, BaseException], BaseException | None] = lambda item, error: None,
) -> list[T]:
    """``action`` on every item, at most ``workers`` at once, results in the items' order.

    The first failure cancels what has not started and is raised once the running ones end: as
    ``translate(item, error)`` returns it (None: the error itself). A :class:`HookError` is raised as it is.
    """
    items = list(items)
    if not items:
        return []
    results: list[T] = []
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="runway-ext-s3") as pool:
        futures: dict[Future[T], ItemT] = {pool.submit(action, item): item for item in items}
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future, item in futures.items():
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:
                if isinstance(error, HookError):
                    raise error
                translated = translate(item, error)
                if translated is not None:
                    raise translated from None
                raise error
            results.append(future.result())
    return results


def _listed_object(item: Mapping[str, Any]) -> RemoteObject:
    """An object of a listing page botocore parsed itself."""
    modified = item.get("LastModified")
    return RemoteObject(
        item["Key"],
        int(item["Size"]),
        strip_etag(item.get("ETag", "")),
        last_modified=modified.timestamp() if modified is not None else None,
    )
