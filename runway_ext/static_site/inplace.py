"""The in-place layout: plan an exact, incremental sync of a built static site to its bucket. Pure: no I/O in this module.

Inputs are the local manifest (every built file with its size, sha256 and MD5), the bucket listing
(key, size, ETag) and the site manifest object this tool wrote after its last complete sync (per key:
sha256, ETag, headers). An object is compared by **content**, never by size + modification time:

* its state is known from the site manifest when the manifest's ETag for the key equals the listed
  ETag (so nothing changed the object since), else from a HEAD of the object (the SHA-256 S3
  computed, never the ``sha256`` metadata its writer chose, and its headers) — :func:`keys_to_inspect` names the keys worth a HEAD;
* a single-part ETag is the MD5 of the bytes and settles equality on its own; multipart ETags are
  never compared, the sha256 is.

The plan lists uploads (new or changed bytes), metadata updates (same bytes, other headers: done by a
copy onto itself), deletes and unchanged keys.

**Deletes: what this site published only.** An object under the prefix that the build lacks is deleted only
when a recorded release of this site published it (:mod:`.published` derives that, and since when it is out
of the build, from the release records) and it still has the ETag recorded; each delete is conditional on that
ETag (``If-Match``). Of those, a **page** (a ``.html``/``.htm`` key, or recorded as ``text/html``) goes with the
deploy that dropped it; any other file stays for the skew window, until it has been out of the build for both
more than ``keep_releases`` releases and more than ``keep_days`` days (:func:`~.window.past_skew_window`,
counting the release this deploy records when it records one; ``keep_releases: 0`` records no release, so there
is no window). Objects nobody recorded are **foreign** and never deleted; a published object whose listed ETag
or size is not the recorded one changed behind the tool's back (**drifted**) and is left to whoever changed it.
Without ``delete`` nothing is deleted. Never more than ``max_delete`` objects nor more than
``max_delete_fraction`` of the site: above either cap nothing is deleted and the plan carries the refusal.

**What the site manifest vouches for.** A manifest entry describes a key only while the listing
shows the same ETag and size *and* the object was last modified no later than the manifest's
``vouched_at`` time (S3's clock, whole seconds): an object deleted, overwritten with other bytes, or
rewritten (even with the same bytes and other headers) after that time is not vouched for, so it is
compared again. A manifest in state ``syncing`` (a deploy started and has not finished, or died)
vouches only for the keys that deploy did not plan to touch; see :mod:`.lock`.

**The order of the writes** (:attr:`SyncPlan.waves`). A viewer of an in-place site may load, at any moment,
any URL the site had before the sync, and then every file that file references, recursively (a page, its
stable-named ``/main.js``, the hashed chunk that imports, a sitemap and the pages it lists). The writes go in
waves, each complete (every write in it finished successfully) before the next starts; a failed wave stops the
sync before the next one:

1. **new keys**: every key that does not exist yet, pages included;
2. **overwritten files**: the other files whose bytes or headers change (metadata updates included);
3. **overwritten pages**: HTML pages whose bytes or headers change (metadata updates included);
4. **deletes**.

Why no view misses a file, given that a build's files reference only keys of the same build (whatever the
references: pages, scripts, styles, a sitemap listing pages): until the deletes every key of the old build still
exists, so whatever an old file references is there. No old file references a new key, so a view reaches a
new-build file only through an overwritten key, written after wave 1 completed; by then every key the new build
references exists (it existed before, or wave 1 wrote it). New pages go with the other new keys, so a file
listing them (a sitemap, a feed, a script's router) never points at one not written yet; overwritten pages go
after the other overwritten files, so a page a viewer gets anew loads the new bytes of the stable-named files it
references (from the bucket).

What no order can give in place is one build per view: an old page may load an overwritten file's new bytes,
and a new file may load a stable-named file its sync has not overwritten yet. Ordering the overwritten files
among themselves would need every reference read out of every file (dynamic imports are computed at run time)
and breaks on cycles, and an edge cache may serve a file's old bytes for a while anyway: only the atomic layout
switches every file at once. The deletes come last: they remove keys the old build references, which a view
begun before them may still load. An in-place rollback writes in the same waves (:func:`in_waves`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from runway_ext.static_site.containment import STATE_SEGMENT, in_neighbour, neighbours
from runway_ext.static_site.headers import CacheRule, ObjectHeaders, headers_for
from runway_ext.static_site.layout import is_page, key_problem, site_keys
from runway_ext.static_site.objects import MD5_LIMIT, ObjectState, RemoteObject, is_plain_etag
from runway_ext.static_site.published import Published, PublishedKey
from runway_ext.static_site.records import objects_digest
from runway_ext.static_site.window import past_skew_window, record_time

FRACTION_MIN_SITE = 10
"""Sites with fewer objects than this are exempt from ``max_delete_fraction`` (a share of a handful means little)."""


COPY_LIMIT = 5 * 1024**3
"""CopyObject's size limit: larger objects get their new headers by a re-upload."""


UploadReason = Literal["new", "changed", "unverified"]

ItemT = TypeVar("ItemT")

WaveKind = Literal["new keys", "overwritten files", "overwritten pages", "deletes"]


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
class Wave:
    """One step of a sync: its writes run in parallel, and all of them finish before the next wave starts.

    A ``deletes`` wave carries keys to delete; every other wave carries transfers (uploads and metadata updates).
    """

    kind: WaveKind
    transfers: tuple[Upload | MetadataUpdate, ...] = ()
    deletes: tuple[str, ...] = ()


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
    neighbours: tuple[str, ...] = ()
    """Prefixes below the site's holding another site (:mod:`.containment`): never written nor deleted."""
    delete_etags: Mapping[str, str] = field(default_factory=dict)
    """Each delete's recorded ETag: the key is deleted only while it has it."""
    foreign: tuple[str, ...] = ()
    """Keys not in the build that no recorded release of the site published: never deleted."""
    drifted: tuple[str, ...] = ()
    """Published keys not in the build whose ETag or size is not the recorded one (changed behind our back): kept."""
    retained: Mapping[str, PublishedKey] | None = None
    """Published keys not in the build kept in the bucket (the skew window, or ``delete`` off): the retired keys of
    the release this sync records. None: the records could not say (nothing deleted, nothing tracked)."""
    dropped: tuple[str, ...] = ()
    """Keys of the newest release's build that this build lacks: the sync records a release even when it writes nothing."""

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
    def waves(self) -> tuple[Wave, ...]:
        """The writes in the order that keeps every view whole (module docstring); empty waves are left out."""
        transfers: list[Upload | MetadataUpdate] = [*self.uploads, *self.metadata_updates]
        ordered = in_waves(transfers, key=lambda item: item.key, new=lambda item: isinstance(item, Upload) and item.reason == "new")
        waves = [Wave(kind, transfers=tuple(items)) for kind, items in ordered]
        if self.deletes:
            waves.append(Wave("deletes", deletes=self.deletes))
        return tuple(waves)

    @property
    def is_noop(self) -> bool:
        """Whether the sync changes nothing in the bucket."""
        return not (self.uploads or self.metadata_updates or self.deletes)


WRITE_WAVES: tuple[WaveKind, ...] = ("new keys", "overwritten files", "overwritten pages")
"""The waves of an in-place change's writes (uploads, copies), in order; its deletes come after them."""


def in_waves(items: Iterable[ItemT], *, key: Callable[[ItemT], str], new: Callable[[ItemT], bool]) -> list[tuple[WaveKind, list[ItemT]]]:
    """``items`` (writes of one key each) in the waves of the module docstring, in order, each sorted by key; no empty wave.

    ``new``: whether an item writes a key that holds no object yet. The rule of every in-place write: a sync's
    (:attr:`SyncPlan.waves`) and an in-place rollback's.
    """
    by_kind: dict[WaveKind, list[ItemT]] = {kind: [] for kind in WRITE_WAVES}
    for item in sorted(items, key=key):
        by_kind["new keys" if new(item) else "overwritten pages" if is_page(key(item)) else "overwritten files"].append(item)
    return [(kind, found) for kind, found in by_kind.items() if found]


def _same_content(local: LocalFile, remote: RemoteObject) -> bool | None:
    """True/False when the remote bytes are known to equal/differ from the local ones; None when unknown."""
    if remote.size != local.size:
        return False
    if remote.sha256 is not None:
        return remote.sha256 == local.sha256
    if is_plain_etag(remote.etag) and local.md5:
        return remote.etag == local.md5
    return None


def _check_paths(local: Mapping[str, LocalFile], prefix: str = "", inner: Sequence[str] = ()) -> None:
    for path in sorted(local):
        problem = key_problem(path, prefix)
        if problem:
            raise SyncPlanError(problem)
        if STATE_SEGMENT in path.split("/"):
            raise SyncPlanError(f"the build contains {path!r}, under a {STATE_SEGMENT}/ folder (a site's state folder); rename it")
        neighbour = in_neighbour(prefix + path, inner)
        if neighbour is not None:
            raise SyncPlanError(
                f"the build has files under {neighbour}, which holds another site's {STATE_SEGMENT}/ (another site, "
                f"never overwritten), e.g. {path!r}; nothing was changed"
            )


def missing_pages_problem(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject], *, prefix: str) -> str | None:
    """A refusal when the build has no HTML page while the site in the bucket has some (a broken build). Pure."""
    if any(is_page(path) for path in local):
        return None
    pages = [key for key in site_keys(remote, prefix) if is_page(key)]
    if not pages:
        return None
    return (
        f"the build has no HTML page but the site has {len(pages)} (e.g. {pages[0]}); nothing was changed "
        "(check the build, or set allow_no_pages: true)"
    )


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
    published: Published | None = None,
    window: SkewWindow | None = None,
) -> SyncPlan:
    """Compare the build (``local``, by site path) with the bucket (``remote``, by key) and decide every key.

    Objects whose content is still unknown (not inspected) are uploaded (reason ``unverified``);
    objects with the right bytes but other headers get a metadata update. Remote keys under
    ``prefix`` that the build lacks are deleted only with ``delete``, only when ``published`` (what the
    release records say the site published; None: nothing known, nothing deleted) names them, by the
    rule of the module docstring and the skew ``window``, and only up to ``max_delete`` objects and
    ``max_delete_fraction`` of the site's current objects (sites of at least :data:`FRACTION_MIN_SITE` objects).
    """
    inner = neighbours(remote, prefix)
    _check_paths(local, prefix, inner)
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
    removal = _select_removals(extra, remote, local, wanted, prefix=prefix, delete=delete, published=published, window=window)
    deletes: tuple[str, ...] = ()
    refusal = None
    if removal.deletes:
        count = len(removal.deletes)
        if count > max_delete:
            refusal = (
                f"the sync would delete {count} objects, more than max_delete ({max_delete}); "
                "nothing was changed (raise max_delete or check the build output)"
            )
        elif len(current) >= FRACTION_MIN_SITE and count > max_delete_fraction * len(current):
            refusal = (
                f"the sync would delete {count} of the site's {len(current)} objects, more than "
                f"max_delete_fraction ({max_delete_fraction:g}); nothing was changed (raise max_delete_fraction or check the build output)"
            )
        else:
            deletes = removal.deletes
    return SyncPlan(
        uploads=tuple(uploads),
        metadata_updates=tuple(updates),
        unchanged=tuple(unchanged),
        deletes=deletes,
        extra_remote=tuple(extra),
        delete_refusal=refusal,
        headers=wanted,
        neighbours=tuple(inner),
        delete_etags={key: removal.etags[key] for key in deletes},
        foreign=removal.foreign,
        drifted=removal.drifted,
        retained=removal.retained,
        dropped=removal.dropped,
    )


@dataclass(frozen=True)
class SkewWindow:
    """How long published non-page files that left the build stay (:mod:`.window`), and the time now (epoch seconds)."""

    keep_releases: int = 0
    """0: no window (a site that records no release cannot count one)."""
    keep_days: float = 0.0
    now: float = 0.0


@dataclass(frozen=True)
class _Removals:
    deletes: tuple[str, ...] = ()
    etags: Mapping[str, str] = field(default_factory=dict)
    foreign: tuple[str, ...] = ()
    drifted: tuple[str, ...] = ()
    retained: Mapping[str, PublishedKey] | None = None
    dropped: tuple[str, ...] = ()


def _is_page_state(key: str, state: ObjectState) -> bool:
    """Whether a published object is a page: an HTML key, or recorded as served as ``text/html``."""
    return is_page(key) or state.content_type.split(";")[0].strip().lower() == "text/html"


def _records_new_release(published: Published, local: Mapping[str, LocalFile], wanted: Mapping[str, ObjectHeaders], prefix: str) -> bool:
    """Whether the sync records a release: the build's keys, bytes or headers are not the newest release's."""
    if published.latest_objects is None:
        return True
    build = {
        prefix + path: ObjectState(file.sha256, file.size, "", wanted[prefix + path].content_type, wanted[prefix + path].cache_control)
        for path, file in local.items()
    }
    return objects_digest(build) != objects_digest(published.latest_objects)


def _select_removals(
    extra: Sequence[str],
    remote: Mapping[str, RemoteObject],
    local: Mapping[str, LocalFile],
    wanted: Mapping[str, ObjectHeaders],
    *,
    prefix: str,
    delete: bool,
    published: Published | None,
    window: SkewWindow | None,
) -> _Removals:
    """Sort the keys not in the build into deletes, foreign, drifted and retained (the module docstring's rule)."""
    if published is None or not published.tracked:
        return _Removals()
    window = window or SkewWindow()
    recording = _records_new_release(published, local, wanted, prefix) if extra else False
    deletes: list[str] = []
    foreign: list[str] = []
    drifted: list[str] = []
    retained: dict[str, PublishedKey] = {}
    for key in extra:
        item = published.keys.get(key)
        found = remote[key]
        if item is None:
            foreign.append(key)
        elif (found.etag, found.size) != (item.state.etag, item.state.size):
            drifted.append(key)
        elif delete and (_is_page_state(key, item.state) or window.keep_releases == 0 or _past_window(item, published, window, recording)):
            deletes.append(key)
        else:
            retained[key] = item
    newest = published.latest_objects or {}
    return _Removals(
        tuple(deletes),
        {key: published.keys[key].state.etag for key in deletes},
        tuple(foreign),
        tuple(drifted),
        retained,
        tuple(key for key in extra if key in newest),
    )


def _past_window(item: PublishedKey, published: Published, window: SkewWindow, recording: bool) -> bool:
    """Whether a published file out of the build has been out long enough: releases recorded without it (and the one
    this sync records, if it records one) and days since the first of them."""
    if item.left_seq is None:
        releases_out, days_out = 0, 0.0
    else:
        releases_out = published.latest_seq - item.left_seq + 1
        days_out = (window.now - record_time(item.left_time or "", default=window.now)) / 86400
    releases_out += int(recording)
    return past_skew_window(releases_out=releases_out, days_out=days_out, keep_releases=window.keep_releases, keep_days=window.keep_days)


def manifest_after_sync(
    plan: SyncPlan,
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    new_etags: Mapping[str, str],
    *,
    prefix: str = "",
) -> dict[str, ObjectState]:
    """The per-key state the bucket holds once ``plan`` has been carried out.

    ``new_etags`` are the ETags S3 returned for uploaded and copied keys; a key without one (e.g. a
    multipart upload whose ETag was not read back) is left out, so the next sync inspects it.
    """
    objects: dict[str, ObjectState] = {}
    unchanged = set(plan.unchanged)
    for path, file in local.items():
        key = prefix + path
        etag = new_etags.get(key) or (remote[key].etag if key in unchanged and key in remote else None)
        if not etag:
            continue
        headers = plan.headers[key]
        objects[key] = ObjectState(file.sha256, file.size, etag, headers.content_type, headers.cache_control)
    return objects


def entries_before_sync(plan: SyncPlan, remote: Mapping[str, RemoteObject]) -> dict[str, ObjectState]:
    """What a ``syncing`` manifest may vouch for: the keys the plan leaves untouched, as they are now."""
    objects: dict[str, ObjectState] = {}
    for key in plan.unchanged:
        found = remote.get(key)
        if found is None or found.sha256 is None or found.content_type is None or found.cache_control is None:
            continue
        objects[key] = ObjectState(found.sha256, found.size, found.etag, found.content_type, found.cache_control)
    return objects


def pending_writes(plan: SyncPlan, local: Mapping[str, LocalFile]) -> dict[str, ObjectState]:
    """The objects the plan's single-part uploads leave, as a ``syncing`` manifest names them (their ETag is the MD5,
    known before the upload): the site's even when the deploy is killed before its release records them."""
    objects: dict[str, ObjectState] = {}
    for upload in plan.uploads:
        file = local[upload.path]
        if file.md5 and file.size <= MD5_LIMIT:
            objects[upload.key] = ObjectState(file.sha256, file.size, file.md5, upload.headers.content_type, upload.headers.cache_control)
    return objects
