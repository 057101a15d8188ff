"""Which keys a site may write: inside its prefix, plain relative paths, never another site's. Pure.

A record read back names the keys a rollback writes, so it is checked before anything is written: every key it
names (objects and forgotten paths) must be the site's prefix followed by a plain relative path (no empty, ``.``
or ``..`` segment, no leading ``/``, no control character, no ``.runway-ext`` segment: this tool's state folders
are never a target; not under ``.runway-ext-releases/``: the atomic releases' objects are no site path), and must not lie in a **neighbour**: a prefix below the site's that holds another site's
state folder (``docs/v2/`` next to ``docs/``, ``b/`` below a root site). A neighbour is never deleted nor
overwritten by the outer site's deploys and rollbacks; a build with files there is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from runway_ext.static_site.layout import RELEASE_OBJECTS_FOLDER, STATE_FOLDER

STATE_SEGMENT = STATE_FOLDER.rstrip("/")

_CONTROL = re.compile("[\x00-\x1f\x7f]")


class ContainmentError(ValueError):
    """A key a record names that the site may not write (one line)."""


def path_problem(path: str) -> str | None:
    """Why ``path`` (a key without the site's prefix) is not a plain relative path a site may hold; None when it is."""
    if not path:
        return "is the prefix itself"
    if path.startswith("/"):
        return "is an absolute path"
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "holds an empty, '.' or '..' segment"
    if _CONTROL.search(path):
        return "holds a control character"
    if STATE_SEGMENT in segments:
        return f"is under a {STATE_FOLDER} state folder"
    if path.startswith(RELEASE_OBJECTS_FOLDER):
        return f"is under {RELEASE_OBJECTS_FOLDER}, where the atomic releases keep their objects"
    return None


def neighbours(keys: Iterable[str], prefix: str) -> list[str]:
    """The prefixes below ``prefix`` that hold another site's state folder (outermost only), sorted."""
    found: set[str] = set()
    marker = "/" + STATE_FOLDER
    for key in keys:
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix) :]
        at = rest.find(marker)
        if at >= 0:
            found.add(prefix + rest[: at + 1])
    ordered = sorted(found)
    return [item for item in ordered if not any(item != other and item.startswith(other) for other in ordered)]


def in_neighbour(key: str, inner: Iterable[str]) -> str | None:
    """The neighbour prefix holding ``key``, if any."""
    return next((item for item in inner if key.startswith(item)), None)


def check_record_keys(keys: Iterable[str], prefix: str, *, what: str, inner: Iterable[str] = ()) -> None:
    """Refuse (:class:`ContainmentError`, one line naming ``what`` and the first bad key) unless every key is the site's."""
    nested = list(inner)
    bad: list[tuple[str, str]] = []
    for key in keys:
        if not key.startswith(prefix):
            bad.append((key, f"is outside the site's prefix {prefix!r}" if prefix else "is outside the site"))
            continue
        problem = path_problem(key[len(prefix) :])
        if problem is None and (neighbour := in_neighbour(key, nested)) is not None:
            problem = f"belongs to another site ({neighbour})"
        if problem is not None:
            bad.append((key, problem))
    if bad:
        key, problem = sorted(bad)[0]
        raise ContainmentError(
            f"{what} names {len(bad)} key(s) this site may not write, e.g. {key[:200]!r}, which {problem}; refused whole, nothing was written"
        )
