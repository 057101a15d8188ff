"""Pure decisions about releases: which release a rollback targets, what differs, what to copy and delete, what to drop.

Nothing here talks to S3. The current state of the site is given as key → :class:`~.records.ObjectState`
(known bytes and headers) or ``None`` (an object whose content nothing vouches for: it is restored, never trusted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .records import ObjectState, Release, ReleaseError, ReleaseIndex, ReleaseSummary

DiffKind = str
"""``added`` (only in the second), ``removed`` (only in the first), ``changed`` (other bytes), ``headers`` (same bytes)."""


@dataclass(frozen=True)
class DiffEntry:
    """One key that differs between two states."""

    key: str
    kind: DiffKind


def diff_objects(before: Mapping[str, ObjectState | None], after: Mapping[str, ObjectState]) -> list[DiffEntry]:
    """Every key whose existence, bytes or headers differ from ``before`` to ``after``, sorted by key.

    An unknown ``before`` state (``None``) counts as ``changed``.
    """
    entries: list[DiffEntry] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key not in after:
            entries.append(DiffEntry(key, "removed"))
        elif key not in before:
            entries.append(DiffEntry(key, "added"))
        elif old is None or new is None or old.sha256 != new.sha256 or old.size != new.size:
            entries.append(DiffEntry(key, "changed"))
        elif old.headers != new.headers:
            entries.append(DiffEntry(key, "headers"))
    return entries


def changed_paths(keys: Iterable[str]) -> list[str]:
    """Keys as URL paths (``/`` + key, not encoded), sorted: the CloudFront invalidation planner's input."""
    return sorted("/" + key for key in keys)


def find_release(index: ReleaseIndex, wanted: str) -> ReleaseSummary:
    """The release named ``r7`` or ``7``; one line naming what is kept when it is not in the index."""
    text = wanted.strip()
    rid = text if text.startswith("r") else f"r{text}"
    for summary in index.releases:
        if summary.id == rid:
            return summary
    if not index.releases:
        raise ReleaseError(f"release {text}: this site has no recorded releases")
    kept = f"{index.releases[0].id}..{index.releases[-1].id}"
    digits = rid[1:]
    if digits.isdigit() and int(digits) < index.releases[0].seq:
        raise ReleaseError(f"release {rid} is no longer retained (only the last {len(index.releases)} are kept: {kept})")
    raise ReleaseError(f"release {text} does not exist (kept: {kept})")


def choose_target(index: ReleaseIndex, *, to: str | None, steps: int | None) -> ReleaseSummary:
    """The release a rollback restores: ``to`` by id, else ``steps`` (default 1) before the newest."""
    if to is not None:
        return find_release(index, to)
    count = 1 if steps is None else steps
    if len(index.releases) <= count:
        have = len(index.releases)
        raise ReleaseError(
            f"steps: cannot go back {count} release(s): this site has {have} recorded release(s)"
            + (f", the oldest kept is {index.releases[0].id}" if have else "")
        )
    return index.releases[-1 - count]


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback writes: restores (bytes from a retained source), header fixes (copy onto itself), deletes."""

    restores: tuple[str, ...] = ()
    reheaders: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def changed_keys(self) -> list[str]:
        """Every key the rollback writes or deletes, sorted."""
        return sorted({*self.restores, *self.reheaders, *self.deletes})

    @property
    def is_noop(self) -> bool:
        """Whether the site already holds the target release."""
        return not (self.restores or self.reheaders or self.deletes)


def plan_rollback(
    target: Release,
    current: Mapping[str, ObjectState | None],
    *,
    live: Release | None,
) -> RollbackPlan:
    """Make the site (``current``: its keys under the prefix, state folder left out) hold exactly ``target``.

    Keys not in the target are deleted when the target owned the whole prefix (deployed with ``delete``);
    otherwise only those the live release put there, so objects no release ever wrote are left alone.
    """
    restores: list[str] = []
    reheaders: list[str] = []
    unchanged: list[str] = []
    for key, wanted in sorted(target.objects.items()):
        found = current.get(key)
        if found is None or found.sha256 != wanted.sha256 or found.size != wanted.size:
            restores.append(key)
        elif found.headers != wanted.headers:
            reheaders.append(key)
        else:
            unchanged.append(key)
    extra = [key for key in sorted(current) if key not in target.objects]
    if not target.summary.delete:
        owned = set(live.objects) if live is not None else set()
        extra = [key for key in extra if key in owned]
    return RollbackPlan(tuple(restores), tuple(reheaders), tuple(extra), tuple(unchanged))


def with_known_versions(objects: Mapping[str, ObjectState], *known: Release | None) -> dict[str, ObjectState]:
    """``objects`` with the version id a known release recorded for the same key, bytes and ETag (where one did)."""
    result: dict[str, ObjectState] = {}
    for key, state in objects.items():
        version = state.version_id
        for release in known:
            if version is not None or release is None:
                continue
            old = release.objects.get(key)
            if old is not None and old.version_id and (old.etag, old.size, old.sha256) == (state.etag, state.size, state.sha256):
                version = old.version_id
        result[key] = replace(state, version_id=version)
    return result


def pages_last(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """Assets, then HTML pages: a page is written after the assets it may reference."""
    pages = [key for key in keys if key.lower().endswith((".html", ".htm"))]
    return [key for key in keys if key not in set(pages)], pages


def append_release(index: ReleaseIndex, summary: ReleaseSummary, *, keep: int) -> tuple[ReleaseIndex, list[ReleaseSummary]]:
    """The index with ``summary`` appended and trimmed to the last ``keep`` releases, and the releases dropped."""
    releases = [*index.releases, summary]
    dropped = releases[: max(0, len(releases) - keep)]
    kept = releases[len(dropped) :]
    return ReleaseIndex(tuple(kept), max(index.next_seq, summary.seq + 1)), dropped


def unreferenced_contents(dropped: Iterable[Release], kept: Iterable[Release]) -> set[str]:
    """Contents (sha256) retained as copies for the dropped releases that no kept release needs."""
    wanted = {state.sha256 for release in kept if release.summary.retention == "copies" for state in release.objects.values()}
    return {state.sha256 for release in dropped if release.summary.retention == "copies" for state in release.objects.values()} - wanted
