"""Previews of an atomic site: a release served at ``NAME.<preview domain>`` by its own pointer key, never the live one.

A preview's pointer is the key ``{P}preview/{name}`` of the store holding the live pointer ``{P}live``; the edge
serves Host ``NAME.<preview domain>`` from it (:mod:`.kvs` names the key and the name rule). This module:

- :func:`deploy_preview`: write the build as release ``r<next>`` (uploads and server-side copies, under the site
  lock, as a live deploy does: release ids and the index are the site's), then ONE compare-and-swap of the preview's
  key only. The live pointer, the live journal, the error pages and the cache are not touched, and nothing is pruned.
- :func:`list_previews`: every preview key of the site prefix, its release, and that release's record (when, by whom).
- :func:`promote_preview`: the live pointer moves to the preview's release (the exact bytes reviewed: 0 objects
  uploaded or copied), written with the store's ``IfMatch`` taken while the preview key still held what the caller
  listed, so a preview changed meanwhile switches nothing.
- :func:`delete_preview`: the key goes (only while it holds what was read); its release is then prunable by the
  usual rule (more than ``keep_releases`` back and ``keep_days`` old).
- :func:`preview_releases`: the releases the preview keys name, which a live deploy's prune keeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway_ext.core.errors import HookError
from runway_ext.static_site.atomic import pointer_for
from runway_ext.static_site.atomic_deploy import AtomicSettings, SiteState, _write, plan_next, read_site, switch_to
from runway_ext.static_site.inplace import LocalFile
from runway_ext.static_site.kvs import CAS_ATTEMPTS, KvsClient, KvsError, ReleasePointer, preview_key, preview_name_problem
from runway_ext.static_site.lock import holding, new_lock, run_waiting_for_others
from runway_ext.static_site.manifest import SiteManifest
from runway_ext.static_site.pointer import KvsPointerStore, PointerConflict, PointerValue
from runway_ext.static_site.records import Release, ReleaseIndex, ReleaseSummary, deployed_by
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore

if TYPE_CHECKING:
    import boto3

KEEP_ALL = 1_000_000


def preview_url(name: str, domain: str | None) -> str | None:
    """``https://NAME.DOMAIN/`` (``http://`` for the local edge's ``*.localhost``), or None without a domain."""
    if not domain:
        return None
    domain = domain.strip().strip(".").lower()
    scheme = "http" if domain == "localhost" or domain.endswith(".localhost") or ":" in domain else "https"
    return f"{scheme}://{name}.{domain}/"


def check_preview_name(name: str, field: str = "preview") -> str:
    """``name`` if it is a preview name; else :class:`HookError`, one line naming ``field``."""
    problem = preview_name_problem(name)
    if problem:
        raise HookError(f"{field}: {problem}")
    return name


class PreviewPointerStore(KvsPointerStore):
    """A preview's pointer key ``{P}preview/{name}``, read and swapped as the live one is."""

    def __init__(self, session: boto3.Session, arn: str, site_prefix: str, name: str) -> None:
        """The key of preview ``name`` of ``site_prefix`` in store ``arn``."""
        super().__init__(session, arn, site_prefix)
        self.name = name
        self.key = preview_key(site_prefix, name)


@dataclass
class PreviewOutcome:
    """What a preview deploy did."""

    release: str
    uploaded: int = 0
    copied: int = 0
    unchanged: int = 0
    bytes_uploaded: int = 0
    switch_seconds: float = 0.0


def deploy_preview(
    site: S3Site,
    live: KvsPointerStore,
    preview: PreviewPointerStore,
    local: Mapping[str, LocalFile],
    output_dir: Path,
    *,
    source_hash: str,
    settings_hash: str,
    settings: AtomicSettings,
    written_by: str,
    log: logging.Logger,
) -> PreviewOutcome:
    """Record the build as a new release and point the preview's key at it (module docstring); the live site is untouched.

    A run of the live site or of another preview holding the site is waited for (``settings.lock_wait``), then the
    site is read again; a run of this same preview holding it fails this one (one of two wins).
    """
    expected_raw, _ = preview.read()
    return run_waiting_for_others(
        site,
        purpose=f"preview:{preview.name}",
        timeout=settings.lock_wait,
        log=log,
        read=lambda: read_site(site, live, take_over=False, log=log),
        attempt=lambda state: _deploy_preview_once(
            site,
            state,
            preview,
            expected_raw,
            local,
            output_dir,
            source_hash=source_hash,
            settings_hash=settings_hash,
            settings=settings,
            written_by=written_by,
            log=log,
        ),
    )


def _deploy_preview_once(
    site: S3Site,
    state: SiteState,
    preview: PreviewPointerStore,
    expected_raw: str | None,
    local: Mapping[str, LocalFile],
    output_dir: Path,
    *,
    source_hash: str,
    settings_hash: str,
    settings: AtomicSettings,
    written_by: str,
    log: logging.Logger,
) -> PreviewOutcome:
    plan = plan_next(state, local, prefix=site.prefix, settings=settings)
    before = state.manifest
    lock = new_lock(ttl=settings.lock_timeout, what=f"preview {preview.name}", purpose=f"preview:{preview.name}")
    marker = SiteManifest(source_hash, settings_hash, {}, state="syncing", lock=lock)
    with holding(site, marker, written_by=written_by, ttl=settings.lock_timeout) as lease:
        objects = _write(site, plan, local, output_dir, lease.check, workers=settings.workers, log=log)
        summary = ReleaseSummary(
            id=plan.rid,
            seq=state.index.next_seq,
            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            source_hash=source_hash,
            settings_hash=settings_hash,
            deployed_by=deployed_by(),
            kind="deploy",
            retention="atomic",
            files=len(objects),
            changed=None,
            delete=True,
            layout="atomic",
            shared=settings.shared,
        )
        ReleaseStore(site).append(Release(summary, objects), keep=KEEP_ALL, guard=lease.check)
        lease.check()
        started = time.monotonic()
        try:
            preview.swap(pointer_for(plan.rid, settings.shared, ()), expected_raw)
        except PointerConflict as error:
            raise HookError(
                f"preview: another deploy changed {preview.key!r} while this one ran ({error}); release {plan.rid} was recorded, "
                "the preview and the live site were not switched"
            ) from None
        _, back = preview.read()
        if back is None or back.release != plan.rid:
            raise HookError(f"preview: {preview.key!r} was written but reads back as {back}; check the store")
        seconds = round(time.monotonic() - started, 3)
        # the manifest goes back to the live build's: a preview is no deploy of the site's own keys
        lease.finish(
            SiteManifest(before.source_hash, before.settings_hash, {})
            if before is not None
            else SiteManifest(source_hash, settings_hash, {})
        )
    log.info("preview %s of %s now serves release %s", preview.key, site.where, plan.rid)
    return PreviewOutcome(
        plan.rid,
        uploaded=len(plan.uploads),
        copied=len(plan.copies),
        unchanged=len(plan.unchanged),
        bytes_uploaded=plan.bytes_to_upload,
        switch_seconds=seconds,
    )


@dataclass(frozen=True)
class PreviewEntry:
    """One preview: its name, key, raw value and release (None: a value the edge ignores), and that release's record."""

    name: str
    key: str
    raw: str
    release: str | None
    summary: ReleaseSummary | None


def _preview_prefix(site_prefix: str) -> str:
    return preview_key(site_prefix, "x")[:-1]


def list_previews(client: KvsClient, arn: str, site_prefix: str, index: ReleaseIndex) -> list[PreviewEntry]:
    """The site prefix's preview keys, sorted by name, each with the record of the release it names (None: pruned or unknown)."""
    return previews_in(client.list_keys(arn), site_prefix, index)


def previews_in(keys: Mapping[str, str], site_prefix: str, index: ReleaseIndex) -> list[PreviewEntry]:
    """The previews of ``site_prefix`` among a store's ``keys`` (key → value), sorted by name. Pure."""
    folder = _preview_prefix(site_prefix)
    summaries = {summary.id: summary for summary in index.releases}
    entries: list[PreviewEntry] = []
    for key, raw in sorted(keys.items()):
        name = key[len(folder) :]
        if not key.startswith(folder) or preview_name_problem(name):
            continue
        release = release_of(raw)
        entries.append(PreviewEntry(name, key, raw, release, summaries.get(release) if release else None))
    return entries


def release_of(raw: str) -> str | None:
    """The release a pointer value names (None: a value the edge ignores). Pure."""
    try:
        return ReleasePointer.from_value(raw).r
    except ValueError:
        return None


def preview_releases(pointer: object) -> tuple[str, ...]:
    """The releases the preview keys beside ``pointer`` (the live one) name: kept by the prune rule while the key exists.

    Only a KeyValueStore holds preview keys: for another pointer store there are none.
    """
    if not isinstance(pointer, KvsPointerStore):
        return ()
    folder = _preview_prefix(pointer.key[: -len("live")])
    found = {release_of(raw) for key, raw in pointer.client.list_keys(pointer.arn).items() if key.startswith(folder)}
    return tuple(sorted(release for release in found if release is not None))


class GuardedLivePointer:
    """The live pointer, written only while a preview key still holds ``preview_raw`` (one ``UpdateKeys``, ``IfMatch``).

    The store has one ETag: reading the preview key, then the live key, with the same ETag before and after, shows
    both values at one moment; the write naming that ETag succeeds only if no key of the store changed since. When
    another key changed, both are read again and the write retried (at most :data:`~.kvs.CAS_ATTEMPTS` times).
    """

    def __init__(self, live: KvsPointerStore, preview_key_name: str, preview_raw: str) -> None:
        """Guard ``live``'s writes by the preview key ``preview_key_name`` holding ``preview_raw``."""
        self.live = live
        self.key = live.key
        self.preview_key = preview_key_name
        self.preview_raw = preview_raw

    def read(self) -> tuple[str | None, PointerValue | None]:
        """The live pointer."""
        return self.live.read()

    def remove(self, expected_raw: str) -> None:  # pragma: no cover - a promote never removes the live pointer
        """Not used by a promote."""
        raise HookError("a promote never removes the live pointer")

    def swap(self, value: PointerValue, expected_raw: str | None) -> str:
        """Write the live pointer if it holds ``expected_raw`` and the preview key still holds what was listed."""
        client, arn = self.live.client, self.live.arn
        raw = ReleasePointer(v=1, r=value.release, s=value.shared, k=value.kept).to_value()
        for _attempt in range(CAS_ATTEMPTS):
            preview_now, etag = client.get_key(arn, self.preview_key)
            live_now, etag_after = client.get_key(arn, self.key)
            if preview_now != self.preview_raw:
                raise PointerConflict(
                    f"preview: {self.preview_key!r} changed since it was read (now {'gone' if preview_now is None else preview_now}); nothing was switched"
                )
            if live_now != expected_raw:
                raise PointerConflict(f"key_value_store_arn: the live pointer {self.key!r} changed while promoting; nothing was switched")
            if etag != etag_after:
                continue
            if client.put_key_if_match(arn, self.key, raw, etag) is not None:
                return str(raw)
        raise KvsError(f"key value store {arn}: other keys kept changing; the live pointer was not written after {CAS_ATTEMPTS} attempts")


@dataclass
class PromoteOutcome:
    """What a promote did."""

    release: str
    previous: str | None
    switched: bool
    switch_seconds: float | None
    files: int


def promote_preview(
    site: S3Site,
    live: KvsPointerStore,
    name: str,
    *,
    expect_release: str | None,
    settings: AtomicSettings,
    written_by: str,
    log: logging.Logger,
    verify: Any,
) -> PromoteOutcome:
    """Switch the live pointer to the release preview ``name`` serves (nothing uploaded or copied; refusals in one line).

    ``expect_release``: the release the caller saw listed (refused when the key names another); ``verify(release)``
    returns the problems of the release's objects (S3's checksums), any of which refuses the promote.
    """
    key = preview_key(site.prefix, name)
    raw, _ = live.client.get_key(live.arn, key)
    if raw is None:
        raise HookError(f"name: there is no preview {name!r} of {site.where} (no key {key!r}); nothing was switched")
    rid = release_of(raw)
    if rid is None:
        raise HookError(f"name: the key {key!r} holds a value the edge ignores; nothing was switched")
    if expect_release is not None and rid != expect_release:
        raise HookError(f"release: preview {name!r} now serves {rid}, not {expect_release} as listed; nothing was switched")
    state: SiteState = read_site(site, live, take_over=False, log=log)
    release = state.records.get(rid)
    if release is None:
        raise HookError(f"name: preview {name!r} names release {rid}, which was pruned (no record in {site.where}); nothing was switched")
    problems = verify(release)
    if problems:
        raise HookError(f"name: release {rid} of preview {name!r} is no longer intact (e.g. {problems[0]}); nothing was switched")
    previous = state.pointer.release if state.pointer is not None else None
    if previous == rid:
        log.info("%s already serves release %s (preview %r): nothing to do", site.where, rid, name)
        return PromoteOutcome(rid, previous, False, None, len(release.objects))
    guarded = GuardedLivePointer(live, key, raw)
    from runway_ext.static_site.atomic_deploy import AtomicOutcome

    outcome = AtomicOutcome(rid)
    marker = SiteManifest(
        release.summary.source_hash,
        release.summary.settings_hash,
        {},
        state="syncing",
        lock=new_lock(ttl=settings.lock_timeout, what="promote"),
    )
    with holding(site, marker, written_by=written_by, ttl=settings.lock_timeout) as lease:
        switch_to(site, guarded, state, release, kind="promote", settings=settings, guard=lease.check, log=log, outcome=outcome)
        lease.finish(SiteManifest(release.summary.source_hash, release.summary.settings_hash, {}))
    log.info("promoted preview %r of %s: release %s is live (was %s)", name, site.where, rid, previous)
    return PromoteOutcome(rid, previous, True, outcome.switch_seconds, len(release.objects))


def delete_preview(client: KvsClient, arn: str, site_prefix: str, name: str) -> tuple[bool, str | None]:
    """Delete preview ``name``'s key (only while it holds what was just read): (whether a key was deleted, the release it named)."""
    key = preview_key(site_prefix, name)
    raw, _ = client.get_key(arn, key)
    if raw is None:
        return False, None
    try:
        client.delete_key_if(arn, key, raw)
    except KvsError as error:
        raise HookError(f"name: {error}") from None
    return True, release_of(raw)
