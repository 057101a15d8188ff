"""Pure decisions of a rollback: which release it targets and what it copies and deletes.

Nothing here talks to S3. The current state of the site is given as key → :class:`~runway_ext.static_site.objects.ObjectState`
(known bytes and headers) or ``None`` (an object whose content nothing vouches for: it is restored, never trusted).
Comparing releases (``diff``) lives with the records, in :mod:`runway_ext.static_site.records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release, ReleaseError, ReleaseIndex, ReleaseSummary


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


def choose_target(index: ReleaseIndex, *, to: str | None, steps: int | None, current: str | None = None) -> ReleaseSummary:
    """The release a rollback restores: ``to`` by id, else ``steps`` (default 1) before ``current`` (default: the newest).

    ``current`` is the release the site serves (an atomic site's pointer, which a rollback moves back without
    recording a release); a ``current`` the index does not list counts as the newest.
    """
    if to is not None:
        return find_release(index, to)
    count = 1 if steps is None else steps
    ids = [summary.id for summary in index.releases]
    position = ids.index(current) if current in ids else len(ids) - 1
    if position - count < 0:
        have = position + 1 if ids else 0
        raise ReleaseError(
            f"steps: cannot go back {count} release(s): this site has {have} recorded release(s)"
            + (
                f" up to the one it serves, the oldest kept is {index.releases[0].id}"
                if current in ids and ids
                else (f", the oldest kept is {index.releases[0].id}" if ids else "")
            )
        )
    return index.releases[position - count]


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
    otherwise only those the live release put there, so objects no release ever wrote are left alone. Keys the
    target's record marks forgotten (``site forget``) are left as they are, neither restored nor deleted.
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
    extra = [key for key in sorted(current) if key not in target.objects and key not in target.forgotten]
    if not target.summary.delete:
        owned = set(live.objects) if live is not None else set()
        extra = [key for key in extra if key in owned]
    return RollbackPlan(tuple(restores), tuple(reheaders), tuple(extra), tuple(unchanged))
