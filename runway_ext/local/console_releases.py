"""The console's one door to a site's release records.

Everything the console shows about releases comes through :func:`site_releases`, which reads the records the
static-site hook keeps under the site's state folder (index, then each listed release) with the hook's own
reading functions, and turns them into plain :class:`ReleaseView` rows. Where the record-reading code lives is
known here only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_DIFF_KEYS = 50
"""Keys listed per release diff; the count says how many there are in all."""
MAX_RELEASES = 20
"""Releases shown (the newest); one more record is read for the oldest one's diff."""


@dataclass(frozen=True)
class ReleaseView:
    """One release as the console lists it (newest first); ``diff`` is vs the release before it."""

    id: str
    time: str
    kind: str
    deployed_by: str
    files: int
    source_hash: str
    live: bool
    restored_from: str | None
    diff: tuple[tuple[str, str], ...]
    """(kind, key) pairs: ``added``/``removed``/``changed``/``headers``; at most :data:`MAX_DIFF_KEYS`."""
    diff_total: int | None
    """How many keys differ in all; ``None`` for the first release or when the previous record is gone."""
    previews: tuple[str, ...] = ()
    """The previews whose keys name this release."""


def site_releases(
    s3_client: Any, bucket: str, prefix: str, *, log: logging.Logger, store_keys: Mapping[str, str] | None = None
) -> list[ReleaseView]:
    """The newest :data:`MAX_RELEASES` releases of ``s3://bucket/prefix``, newest first, the live one and previews marked.

    ``store_keys``: the keys of the site's KeyValueStore (atomic layout), which say what is live — the pointer,
    as the edge reads it — and which release each preview serves. Without them (in place, or no store found) the
    live release is the one the last switch or deploy recorded. Raises :class:`~runway_ext.core.errors.HookError`
    (one line) when a record cannot be read or parsed.
    """
    from runway_ext.static_site.kvs import pointer_key
    from runway_ext.static_site.previews import previews_in, release_of
    from runway_ext.static_site.records import diff_objects
    from runway_ext.static_site.s3 import S3Site
    from runway_ext.static_site.store import ReleaseStore
    from runway_ext.static_site.switches import JournalFile

    site = S3Site.with_client(s3_client, bucket, prefix, log=log)
    store = ReleaseStore(site)
    index = store.read_index()
    live = index.latest.id if index.latest else None
    if any(summary.layout == "atomic" for summary in index.releases):
        history = JournalFile(site).journal.history
        live = history[-1].release if history else live  # the release the last switch made live
    previews: dict[str, list[str]] = {}
    if store_keys is not None:
        pointer = store_keys.get(pointer_key(prefix))
        live = release_of(pointer) if pointer is not None else live
        for preview in previews_in(store_keys, prefix, index):
            if preview.release is not None:
                previews.setdefault(preview.release, []).append(preview.name)
    summaries = index.releases[-(MAX_RELEASES + 1) :]
    releases = [store.read_release_or_none(summary.id) for summary in summaries]
    views: list[ReleaseView] = []
    for position, summary in enumerate(summaries):
        if position == 0 and len(summaries) > MAX_RELEASES:
            continue  # read for the next one's diff only
        record, previous = releases[position], releases[position - 1] if position else None
        entries = diff_objects(previous.objects, record.objects) if record is not None and previous is not None else None
        views.append(
            ReleaseView(
                id=summary.id,
                time=summary.time,
                kind=summary.kind,
                deployed_by=summary.deployed_by,
                files=summary.files,
                source_hash=summary.source_hash,
                live=summary.id == live,
                restored_from=summary.restored_from,
                diff=tuple((entry.kind, entry.key) for entry in (entries or [])[:MAX_DIFF_KEYS]),
                diff_total=None if entries is None else len(entries),
                previews=tuple(previews.get(summary.id, ())),
            )
        )
    return views[::-1]
