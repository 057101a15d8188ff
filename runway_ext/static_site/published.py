"""What an in-place site published, read from its release records: per key, its recorded state and since when it left the build. Pure.

The in-place sync deletes a key only when this site published it (:mod:`.inplace`); this module says which keys
those are and, for each one no longer in the newest release's build, the first release recorded without it and
that release's time — what the skew window (:mod:`.window`) counts from. Input is the in-place releases of the
index, oldest first, as :func:`~.records.parse_release` read them through the strict models of :mod:`.documents`
(a record that does not fit is refused whole, never half used), and the site manifest's objects.

**The derivation.** The releases are walked oldest to newest, keeping per key its last recorded state and where it
stands:

* a key among a release's ``objects`` is in that release's build;
* a key in a release's ``retired`` map had left the build and was still kept for the skew window: the entry
  carries its state and since when (``left_seq``, ``left_time``), so the knowledge outlives the release that last
  had the key in its build, which the index drops after ``keep_releases`` releases;
* a key a release does not mention at all: when the release tracks retired keys (its record has a ``retired``
  map, even an empty one), the key is no longer the site's — it was deleted, or it changed behind the tool's back
  and was left to whoever changed it — and is forgotten; when the release does not track them (a record written
  before they were tracked, or a rollback's), a key that was in the build of the release before left the build
  at this one (``left_seq`` = its seq, ``left_time`` = its time), and a key already out stays as it was.

Last, the site manifest's objects (what the last sync wrote; a site with ``keep_releases: 0`` has no records but
this) and its ``pending`` ones (what a deploy killed before recording was writing, its ETags known in advance) are
keys in the newest build too. A key this returns with no ``left_seq`` is in the newest build: if the
build being deployed lacks it, it leaves the build now. Every other key under the prefix is **foreign** — put
there by someone else, or by this site before its oldest kept record — and never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release


@dataclass(frozen=True)
class PublishedKey:
    """A key this site published: its state as last recorded, and since when it is out of the build (None: it is in the newest)."""

    state: ObjectState
    left_seq: int | None = None
    """The first release recorded without the key."""
    left_time: str | None = None
    """That release's time (as a record writes it)."""


@dataclass(frozen=True)
class Published:
    """What the records say the site published, with what the skew window needs about the newest release."""

    keys: Mapping[str, PublishedKey]
    latest_seq: int = 0
    """The newest in-place release's sequence number (0: none recorded)."""
    latest_objects: Mapping[str, ObjectState] | None = None
    """The newest release's objects (None: none recorded), to tell whether this deploy records a new release."""
    tracked: bool = True
    """False when a record could not be read: nothing is known well enough to delete, and the new record tracks nothing."""


def published_keys(releases: Sequence[Release], manifest_objects: Mapping[str, ObjectState] | None = None) -> Published:
    """Walk ``releases`` (in-place ones, oldest first) and the manifest's objects as the module docstring says."""
    keys: dict[str, PublishedKey] = {}
    in_build: set[str] = set()
    ordered = sorted((release for release in releases if release.summary.layout == "in-place"), key=lambda release: release.summary.seq)
    for release in ordered:
        summary = release.summary
        mentioned = set(release.objects)
        if release.retired is not None:
            mentioned |= set(release.retired)
            for key in [key for key in keys if key not in mentioned]:
                del keys[key]
            for key, item in release.retired.items():
                keys[key] = PublishedKey(item.state, item.left_seq, item.left_time)
        else:
            for key in in_build - mentioned:
                keys[key] = PublishedKey(keys[key].state, summary.seq, summary.time)
        for key, state in release.objects.items():
            keys[key] = PublishedKey(state)
        in_build = set(release.objects)
    for key, state in (manifest_objects or {}).items():
        keys[key] = PublishedKey(state)
    latest = ordered[-1] if ordered else None
    return Published(
        keys,
        latest_seq=latest.summary.seq if latest is not None else 0,
        latest_objects=latest.objects if latest is not None else None,
    )
