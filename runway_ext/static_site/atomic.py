"""The atomic layout: every release in its own folder, made live by one pointer write. Pure: no I/O in this module.

Objects (see :mod:`.layout`): a site path lives at ``{P}.runway-ext-releases/{rid}/{path}``, or, when it starts
with one of the site's shared prefixes, once for every release at ``{P}.runway-ext-releases/shared/{path}``. A
release is written completely (new bytes uploaded, unchanged per-release objects copied server side from an
earlier release's folder, unchanged shared objects left as they are), then recorded, then switched to by one
compare-and-swap of the site's pointer (:mod:`.pointer`). Nothing a viewer can reach changes before that write.

This module decides: what a deploy uploads, copies and leaves (:func:`plan_release`), which releases are retained
and which are pruned (:func:`plan_retention`), and the pointer value of a switch (:func:`pointer_for`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from runway_ext.static_site.headers import CacheRule, ObjectHeaders, headers_for
from runway_ext.static_site.inplace import LocalFile
from runway_ext.static_site.layout import atomic_key, is_shared, key_problem
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.pointer import PointerValue
from runway_ext.static_site.records import Release, ReleaseSummary
from runway_ext.static_site.window import past_skew_window

POINTER_MAX_BYTES = 1000
"""The pointer value's bound (compact JSON), as the contract between deploy and edge sets it."""

DEFAULT_KEEP_DAYS = 7.0


class AtomicPlanError(ValueError):
    """The build cannot be released as it is (one line)."""


@dataclass(frozen=True)
class AtomicUpload:
    """Upload a built file's bytes to ``key`` (its release folder, or the shared folder: then only if absent)."""

    path: str
    key: str
    size: int
    headers: ObjectHeaders
    shared: bool


@dataclass(frozen=True)
class AtomicCopy:
    """Copy ``source_key`` (an earlier release's object, ``source`` its recorded state) to ``key`` server side."""

    path: str
    key: str
    source_key: str
    source: ObjectState


@dataclass(frozen=True)
class ReleasePlan:
    """What deploying release ``rid`` writes; ``known`` are the object states settled without writing (shared, unchanged)."""

    rid: str
    shared: tuple[str, ...]
    uploads: tuple[AtomicUpload, ...] = ()
    copies: tuple[AtomicCopy, ...] = ()
    unchanged: tuple[str, ...] = ()
    known: Mapping[str, ObjectState] = field(default_factory=dict)
    """Site key → state, for the copies (the source's state) and the unchanged shared objects."""

    @property
    def bytes_to_upload(self) -> int:
        """Bytes the uploads send."""
        return sum(upload.size for upload in self.uploads)


def normalize_shared(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Shared prefixes tidied (``assets`` → ``assets/``), sorted and without repeats; refuses unclean ones."""
    result: set[str] = set()
    for prefix in prefixes:
        cleaned = prefix.strip().strip("/")
        if not cleaned or any(segment in ("", ".", "..") for segment in cleaned.split("/")) or any(ch in cleaned for ch in " ?#*\\"):
            raise ValueError(
                f"invalid shared prefix {prefix!r}: a relative folder such as _next/static/ (no '.', '..', spaces, ?, #, * or \\)"
            )
        result.add(cleaned + "/")
    return tuple(sorted(result))


def plan_release(
    local: Mapping[str, LocalFile],
    *,
    prefix: str,
    rid: str,
    shared: Sequence[str],
    rules: Sequence[CacheRule],
    earlier: Sequence[Release],
) -> ReleasePlan:
    """Decide every path of the build for release ``rid``.

    ``earlier``: retained atomic releases, preferred sources first (the live one, then the newest). A per-release
    path whose bytes and headers an earlier release has is copied from that release's folder; a shared path an
    earlier release recorded with the same bytes and headers is unchanged; with other bytes or headers the build is
    refused (a shared object is immutable: releases still reachable use it).
    """
    uploads: list[AtomicUpload] = []
    copies: list[AtomicCopy] = []
    unchanged: list[str] = []
    known: dict[str, ObjectState] = {}
    for path in sorted(local):
        problem = key_problem(path, prefix)
        if problem:
            raise AtomicPlanError(problem)
        file = local[path]
        headers = headers_for(path, rules)
        site_key = prefix + path
        key = atomic_key(prefix, rid, path, shared)
        if is_shared(path, shared):
            recorded = [
                (release, release.objects[site_key])
                for release in earlier
                if site_key in release.objects and is_shared(path, release.summary.shared)
            ]
            for release, state in recorded:
                if state.sha256 != file.sha256 or state.size != file.size:
                    raise AtomicPlanError(
                        f"{path} is under a shared prefix and release {release.id} has other bytes there; shared objects are "
                        "never overwritten: give the file a content-hashed name, or take its folder out of shared_prefixes"
                    )
                if state.headers != (headers.content_type, headers.cache_control):
                    raise AtomicPlanError(
                        f"{path} is under a shared prefix and release {release.id} serves it with other headers; shared objects "
                        "are never rewritten: keep the cache rules of shared paths unchanged, or take its folder out of shared_prefixes"
                    )
            if recorded:
                unchanged.append(path)
                known[site_key] = recorded[0][1]
            else:
                uploads.append(AtomicUpload(path, key, file.size, headers, shared=True))
            continue
        source = _copy_source(earlier, site_key, file, headers, prefix=prefix, path=path)
        if source is None:
            uploads.append(AtomicUpload(path, key, file.size, headers, shared=False))
        else:
            release, state = source
            copies.append(AtomicCopy(path, key, atomic_key(prefix, release.id, path, release.summary.shared), state))
            known[site_key] = state
    return ReleasePlan(rid, tuple(shared), tuple(uploads), tuple(copies), tuple(unchanged), known)


def _copy_source(
    earlier: Sequence[Release], site_key: str, file: LocalFile, headers: ObjectHeaders, *, prefix: str, path: str
) -> tuple[Release, ObjectState] | None:
    for release in earlier:
        state = release.objects.get(site_key)
        if state is None or state.checksum is None or is_shared(path, release.summary.shared):
            continue
        if (state.sha256, state.size) == (file.sha256, file.size) and state.headers == (headers.content_type, headers.cache_control):
            return release, state
    return None


@dataclass(frozen=True)
class RetentionPlan:
    """Which atomic releases stay and which go (ids, newest first), and why each one goes."""

    retained: tuple[str, ...]
    pruned: tuple[str, ...]


def plan_retention(
    releases: Sequence[ReleaseSummary],
    *,
    live: str,
    pinned: Iterable[str] = (),
    last_live: Mapping[str, float],
    now: float,
    keep_releases: int,
    keep_days: float,
) -> RetentionPlan:
    """The prune rule over the atomic ``releases`` (oldest first, as the index lists them).

    A release stays while a pointer names it (``live``, ``pinned``), and after it was last live (``last_live``: the
    time it stopped being live; a release never live counts from its record's time, given there too) until it is
    both more than ``keep_releases`` releases back and more than ``keep_days`` days old (:func:`~.window.past_skew_window`). Releases newer than the live
    one always stay (a rollback made them not live; a roll-forward may want them).
    """
    atomic = [summary for summary in releases if summary.layout == "atomic"]
    newest_first = list(reversed(atomic))
    named = {live, *pinned}
    live_seq = next((summary.seq for summary in atomic if summary.id == live), None)
    retained: list[str] = []
    pruned: list[str] = []
    for back, summary in enumerate(newest_first):
        age_days = (now - last_live.get(summary.id, now)) / 86400
        if summary.id in named or (live_seq is not None and summary.seq > live_seq):
            retained.append(summary.id)
        elif past_skew_window(releases_out=back, days_out=age_days, keep_releases=keep_releases, keep_days=keep_days):
            pruned.append(summary.id)
        else:
            retained.append(summary.id)
    return RetentionPlan(tuple(retained), tuple(pruned))


def pointer_for(rid: str, shared: Sequence[str], retained: Sequence[str]) -> PointerValue:
    """The pointer value switching to ``rid``: ``k`` = the other retained releases, newest first, as many as fit."""
    kept: list[str] = []
    for other in retained:
        if other == rid:
            continue
        trial = PointerValue(rid, tuple(shared), (*kept, other))
        if len(render_pointer(trial).encode("utf-8")) > POINTER_MAX_BYTES:
            break
        kept.append(other)
    value = PointerValue(rid, tuple(shared), tuple(kept))
    if len(render_pointer(value).encode("utf-8")) > POINTER_MAX_BYTES:
        raise AtomicPlanError(
            f"shared_prefixes: the pointer value would exceed {POINTER_MAX_BYTES} bytes; use fewer or shorter shared prefixes"
        )
    return value


def render_pointer(value: PointerValue) -> str:
    """The compact JSON of a pointer value (the edge's model renders the same bytes; this is for sizing and logs)."""
    return json.dumps({"v": 1, "r": value.release, "s": list(value.shared), "k": list(value.kept)}, separators=(",", ":"))


def unreferenced_shared(pruned: Iterable[Release], retained: Iterable[Release], *, prefix: str) -> dict[str, ObjectState]:
    """Shared site keys of the pruned releases that no retained release uses, with the state a pruned one recorded."""

    def shared_keys(release: Release) -> list[str]:
        return [key for key in release.objects if key.startswith(prefix) and is_shared(key[len(prefix) :], release.summary.shared)]

    wanted = {key for release in retained for key in shared_keys(release)}
    found: dict[str, ObjectState] = {}
    for release in pruned:
        for key in shared_keys(release):
            if key not in wanted:
                found.setdefault(key, release.objects[key])
    return found
