"""Pure decisions of the ``cloudfront_invalidation`` hook: which paths to send, under which CallerReference.

Normalise what changed, then compact it to fit CloudFront's limits; pure functions over strings
and the hook_data mapping handed in, no I/O (:mod:`.cloudfront` talks to CloudFront). Two kinds of
input paths are accepted:

* **paths a user typed** (the hook's ``paths`` argument): ``/index.html``, ``about/index.html``,
  ``/assets/*``. A trailing ``*`` is a wildcard; a ``*`` anywhere else is an error (CloudFront only
  allows it at the end). Valid ``%XX`` escapes are kept, so a path copied from a browser works.
* **changed object keys** (what a sync reports, e.g. the npm build hook's ``changed_paths``):
  URL paths with a leading ``/`` that are the S3 object keys *as they are*, not percent-encoded
  (``/blog/café/index.html``). Every character is literal: ``%`` is encoded, ``?`` is encoded, and
  a ``*`` inside a key cuts the path there and becomes a wildcard (``/files/a*b`` → ``/files/a*``),
  which still covers the object whatever the edge does with the character.

Normalising adds the leading ``/``, percent-encodes what CloudFront requires (non-ASCII as UTF-8,
control characters, and the characters RFC 1738 calls unsafe: space ``" # % < > [ \\ ] ^ ` { | } ~``;
nothing else, or CloudFront would not match the cached object), adds ``…/`` for every
``…/index.html`` (the directory URL the same page is served under), removes duplicates and paths
already covered by a wildcard in the list, and sorts.

Compacting turns a long list into at most ``max_paths`` paths (never more than CloudFront's 3,000
file paths or 15 wildcard paths) by walking up the directory tree: the deepest directories holding
several changed paths become ``dir/*`` first, level by level, until the list fits; if even the
top-level directories do not fit, the result is ``/*``. Budget left over afterwards is spent on
undoing collapses that turned out to be unnecessary, so what is invalidated stays as narrow as the
budget allows. Every input path is always covered by the output.

The ``CallerReference`` (:func:`caller_reference`) is a hash of the distribution, the sorted paths
and a run token, so a retried request never creates a second invalidation; :func:`canonical_status`
spells a status the AWS way whatever the API's letter case.

Typical use::

    plan = plan_invalidation(changed_keys=["/index.html", "/blog/a/index.html"], max_paths=10)
    plan.paths  # ('/', '/blog/a/', '/blog/a/index.html', '/index.html')
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from runway_ext.core.errors import HookError

__all__ = [
    "DEFAULT_MAX_PATHS",
    "INDEX_DOCUMENT",
    "MAX_FILE_PATHS",
    "MAX_PATH_LENGTH",
    "MAX_WILDCARD_PATHS",
    "WILDCARD",
    "InvalidPath",
    "InvalidationPlan",
    "caller_reference",
    "canonical_status",
    "compact_paths",
    "covers",
    "fits_limits",
    "is_wildcard",
    "normalize_changed_key",
    "normalize_path",
    "normalize_paths",
    "plan_invalidation",
    "atomic_release",
    "plan_request",
    "read_hook_data_paths",
]

MAX_FILE_PATHS = 3000
"""CloudFront: file paths (no wildcard) allowed in progress per distribution."""

MAX_WILDCARD_PATHS = 15
"""CloudFront: wildcard paths allowed in progress per distribution."""

MAX_PATH_LENGTH = 4000
"""CloudFront: longest invalidation path, in characters (after encoding)."""

DEFAULT_MAX_PATHS = 10
"""Default budget per invalidation: 100 deploys a month stay within CloudFront's 1,000 free paths."""

WILDCARD = "*"
INDEX_DOCUMENT = "index.html"

_STATUS_SPELLING = {"completed": "Completed", "inprogress": "InProgress"}
_UNSAFE = frozenset(' "#%<>[\\]^`{|}~')
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_NEEDS_WORK = re.compile(r'[^\x21-\x7e]|[ "#%<>\[\\\]^`{|}~?]')


class InvalidPath(ValueError):
    """A path CloudFront cannot take (the message names the path)."""


# -- normalising -----------------------------------------------------------------------------


def _encode(text: str, *, keep_escapes: bool, encode_query: bool) -> str:
    """Percent-encode exactly what CloudFront requires: non-ASCII, control and RFC 1738 unsafe characters."""
    if not _NEEDS_WORK.search(text):
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%" and keep_escapes and _PERCENT_ESCAPE.match(text, index):
            out.append(text[index : index + 3].upper())
            index += 3
            continue
        code = ord(char)
        if code < 0x21 or code >= 0x7F or char in _UNSAFE or (encode_query and char == "?"):
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _check_length(path: str, raw: str) -> str:
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPath(f"path {raw[:60]!r}… is longer than CloudFront's {MAX_PATH_LENGTH} characters once encoded")
    return path


def normalize_path(raw: str) -> str:
    """Normalise one path a user typed: leading ``/``, encoding; a ``*`` is allowed only at the end.

    Raises :class:`InvalidPath` for an empty path, a ``*`` before the end, or a path too long.
    """
    if not isinstance(raw, str) or raw == "":
        raise InvalidPath("empty path")
    wildcard = raw.endswith(WILDCARD)
    body = raw[:-1] if wildcard else raw
    if WILDCARD in body:
        raise InvalidPath(f"path {raw!r}: '*' is allowed only at the end of a path")
    if not body.startswith("/"):
        body = "/" + body
    path = _encode(body, keep_escapes=True, encode_query=False) + (WILDCARD if wildcard else "")
    return _check_length(path, raw)


def normalize_changed_key(key: str) -> str:
    """Normalise one changed object key (or ``/`` + key): every character is literal.

    A ``*`` inside the key cuts the path there and becomes a wildcard that covers the object.
    """
    if not isinstance(key, str) or key == "":
        raise InvalidPath("empty path")
    body, star, _ = key.partition(WILDCARD)
    if not body.startswith("/"):
        body = "/" + body
    path = _encode(body, keep_escapes=False, encode_query=True) + star
    return _check_length(path, key)


def _with_directory_urls(paths: Iterable[str], index_document: str) -> set[str]:
    """The paths plus ``…/`` for every ``…/index.html``."""
    result: set[str] = set()
    suffix = "/" + index_document
    for path in paths:
        result.add(path)
        if index_document and path.endswith(suffix):
            result.add(path[: -len(index_document)])
    return result


def is_wildcard(path: str) -> bool:
    """Whether ``path`` ends with the ``*`` wildcard."""
    return path.endswith(WILDCARD)


def covers(pattern: str, path: str) -> bool:
    """Whether invalidating ``pattern`` also invalidates ``path`` (both normalised).

    A wildcard covers every path (or narrower wildcard) starting with its prefix; ``*`` matches
    zero or more characters, so ``/a/*`` covers ``/a/`` too.
    """
    if not is_wildcard(pattern):
        return pattern == path
    target = path[:-1] if is_wildcard(path) else path
    return target.startswith(pattern[:-1])


def _drop_covered(paths: set[str]) -> list[str]:
    """Sorted paths without those a *different* wildcard in the set already covers."""
    prefixes = {path[:-1] for path in paths if is_wildcard(path)}
    if not prefixes:
        return sorted(paths)
    kept: list[str] = []
    for path in paths:
        target = path[:-1] if is_wildcard(path) else path
        # the shortest covering prefix of a wildcard is its own prefix; anything shorter covers it
        limit = len(target) if not is_wildcard(path) else len(target) - 1
        if any(target[:length] in prefixes for length in range(limit + 1)):
            continue
        kept.append(path)
    return sorted(kept)


def normalize_paths(
    paths: Iterable[str] = (),
    *,
    changed_keys: Iterable[str] = (),
    index_document: str = INDEX_DOCUMENT,
) -> list[str]:
    """Normalise user ``paths`` and literal ``changed_keys`` into one sorted, duplicate-free list.

    Adds the directory URL of every ``…/<index_document>`` and drops paths that a wildcard in the
    list already covers. Raises :class:`InvalidPath` naming the first bad path.
    """
    normalised = [normalize_path(path) for path in paths]
    normalised += [normalize_changed_key(key) for key in changed_keys]
    return _drop_covered(_with_directory_urls(normalised, index_document))


# -- compacting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limits:
    """The most paths, and the most wildcard paths, one invalidation may hold."""

    total: int
    wildcards: int

    @classmethod
    def for_budget(cls, max_paths: int, max_wildcards: int) -> _Limits:
        """The budget capped by CloudFront's own limits."""
        if max_paths < 1:
            raise ValueError("max_paths must be at least 1")
        if max_wildcards < 1:
            raise ValueError("max_wildcards must be at least 1")
        return cls(
            total=min(max_paths, MAX_FILE_PATHS + MAX_WILDCARD_PATHS),
            wildcards=min(max_paths, max_wildcards, MAX_WILDCARD_PATHS),
        )

    def allows_counts(self, total: int, wildcards: int) -> bool:
        """Whether ``total`` paths of which ``wildcards`` are wildcards fit."""
        return total <= self.total and wildcards <= self.wildcards and total - wildcards <= MAX_FILE_PATHS

    def allows(self, paths: Iterable[str]) -> bool:
        """Whether ``paths`` fit."""
        paths = list(paths)
        return self.allows_counts(len(paths), sum(1 for path in paths if is_wildcard(path)))


def fits_limits(paths: Sequence[str], *, max_paths: int, max_wildcards: int = MAX_WILDCARD_PATHS) -> bool:
    """Whether ``paths`` can be sent as one invalidation within the budget and CloudFront's limits."""
    return _Limits.for_budget(max_paths, max_wildcards).allows(paths)


def _directory_of(path: str) -> str:
    """The folder a path sits in, ending with ``/`` (a wildcard's folder is that of its prefix)."""
    target = path[:-1] if is_wildcard(path) else path
    return target[: target.rfind("/") + 1]


def _ancestor(directory: str, depth: int) -> str:
    """The ancestor of ``directory`` that has ``depth`` segments (``/a/b/c/``, 2 → ``/a/b/``)."""
    parts = directory.split("/")
    return "/".join(parts[: depth + 1]) + "/"


def _depth(directory: str) -> int:
    """Segments in a folder path: ``/`` → 0, ``/a/`` → 1, ``/a/b/`` → 2."""
    return directory.count("/") - 1


def compact_paths(
    paths: Sequence[str],
    *,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_wildcards: int = MAX_WILDCARD_PATHS,
) -> list[str]:
    """Compact normalised ``paths`` to at most ``max_paths`` paths that cover all of them.

    ``paths`` must come from :func:`normalize_paths`. The result also keeps at most
    ``min(max_paths, max_wildcards, 15)`` wildcards and 3,000 file paths, and is sorted.
    """
    limits = _Limits.for_budget(max_paths, max_wildcards)
    original = _drop_covered(set(paths))
    if not original or limits.allows(original):
        return original
    if "/*" in original:
        return ["/*"]
    collapsed = _walk_up(set(original), limits)
    if collapsed is None:
        return ["/*"]
    return _spend_leftover_budget(collapsed, original, limits)


def _walk_up(current: set[str], limits: _Limits) -> set[str] | None:
    """Collapse the deepest folders first, level by level, until ``current`` fits (``None``: it never does).

    Within a level the folders that save the most paths go first. Folders at the same depth do
    not overlap, so each collapse changes the counts independently of the others.
    """
    total = len(current)
    wildcards = sum(1 for path in current if is_wildcard(path))
    deepest = max(_depth(_directory_of(path)) for path in current)
    for depth in range(deepest, 0, -1):
        members: dict[str, list[str]] = defaultdict(list)
        for path in current:
            directory = _directory_of(path)
            if _depth(directory) >= depth:
                members[_ancestor(directory, depth)].append(path)
        candidates = [(folder, items) for folder, items in members.items() if len(items) >= 2]
        candidates.sort(key=lambda item: (-len(item[1]), -sum(map(is_wildcard, item[1])), item[0]))
        for folder, items in candidates:
            current.difference_update(items)
            current.add(folder + WILDCARD)
            total -= len(items) - 1
            wildcards += 1 - sum(1 for path in items if is_wildcard(path))
            if limits.allows_counts(total, wildcards):
                return current
    return None


def _spend_leftover_budget(current: set[str], original: list[str], limits: _Limits) -> list[str]:
    """Undo collapses the budget can afford (narrowest first), so no more is invalidated than needed.

    ``original`` is sorted, so the paths a wildcard covers (those starting with its prefix) are
    one contiguous run of it.
    """
    original_set = set(original)
    expansions = []
    for wildcard in sorted(path for path in current if is_wildcard(path) and path not in original_set):
        prefix = wildcard[:-1]
        start = bisect.bisect_left(original, prefix)
        end = bisect.bisect_left(original, prefix + "\U0010ffff", lo=start)
        expansions.append((end - start, wildcard, original[start:end]))
    for _, wildcard, covered in sorted(expansions):
        trial = (current - {wildcard}) | set(covered)
        if limits.allows(trial):
            current = trial
    return sorted(current)


# -- the plan the hook carries out -----------------------------------------------------------


@dataclass(frozen=True)
class InvalidationPlan:
    """What to send to CloudFront, and how it was derived from the request."""

    paths: tuple[str, ...]
    """The paths to invalidate (sorted)."""

    requested: int
    """How many paths were asked for (before normalising)."""

    normalized: int
    """How many distinct paths normalising produced (directory URLs included)."""

    compacted: bool
    """Whether compaction replaced some of the normalised paths by wildcards."""

    @property
    def wildcard_count(self) -> int:
        """Wildcard paths in the plan."""
        return sum(1 for path in self.paths if is_wildcard(path))

    @property
    def file_count(self) -> int:
        """File (non-wildcard) paths in the plan."""
        return len(self.paths) - self.wildcard_count


def plan_invalidation(
    paths: Iterable[str] = (),
    *,
    changed_keys: Iterable[str] = (),
    max_paths: int = DEFAULT_MAX_PATHS,
    max_wildcards: int = MAX_WILDCARD_PATHS,
    index_document: str = INDEX_DOCUMENT,
) -> InvalidationPlan:
    """Normalise and compact ``paths`` (typed by a user) and ``changed_keys`` (literal object keys)."""
    paths = list(paths)
    changed_keys = list(changed_keys)
    normalised = normalize_paths(paths, changed_keys=changed_keys, index_document=index_document)
    compacted = compact_paths(normalised, max_paths=max_paths, max_wildcards=max_wildcards)
    return InvalidationPlan(
        paths=tuple(compacted),
        requested=len(paths) + len(changed_keys),
        normalized=len(normalised),
        compacted=compacted != normalised,
    )


def plan_request(
    *,
    paths: Sequence[str],
    hook_data_key: str | None,
    hook_data: Mapping[str, Any] | None,
    max_paths: int,
) -> InvalidationPlan | None:
    """The invalidation the hook's arguments ask for; ``None`` when the changed-path list is empty.

    ``paths`` are used unless ``hook_data_key`` names a list of changed paths in ``hook_data``
    (``None`` outside a Runway deploy, where asking for it is an error).
    """
    if hook_data_key is None:
        return plan_invalidation(paths, max_paths=max_paths)
    if hook_data is None:
        raise HookError("paths_from_hook_data: only available inside a Runway deploy (the CLI has no hook_data); use --paths")
    changed = read_hook_data_paths(hook_data, hook_data_key)
    if not changed:
        return None
    try:
        return plan_invalidation(changed_keys=changed, max_paths=max_paths)
    except InvalidPath as error:
        raise HookError(f"paths_from_hook_data: {error}") from None


def atomic_release(hook_data: Mapping[str, Any] | None, dotted_key: str | None) -> str | None:
    """The release named by the hook_data dict holding ``dotted_key`` when its ``layout`` is ``atomic``, else ``None``.

    An atomic deploy (e.g. the npm build hook with ``key_value_store_arn``) writes each release under its own
    keys and switches a pointer, so CloudFront caches nothing stale and there is nothing to invalidate. Only the
    dict that holds the last part of the key is looked at; anything missing or of another shape is ``None``
    (and is then reported by :func:`read_hook_data_paths`).
    """
    if hook_data is None or dotted_key is None:
        return None
    node: Any = hook_data
    for part in dotted_key.split(".")[:-1]:
        if isinstance(node, BaseModel):
            node = node.model_dump()
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, BaseModel):
        node = node.model_dump()
    if not isinstance(node, Mapping) or node.get("layout") != "atomic":
        return None
    release = node.get("release")
    return release if isinstance(release, str) and release else "(unnamed)"


def read_hook_data_paths(hook_data: Mapping[str, Any], dotted_key: str) -> list[str]:
    """The list of paths stored at ``dotted_key`` in ``hook_data`` (a clear error if absent or not a list of strings)."""
    node: Any = hook_data
    walked: list[str] = []
    for part in dotted_key.split("."):
        if isinstance(node, BaseModel):
            node = node.model_dump()
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(walked) or "hook_data"
            known = sorted(node) if isinstance(node, Mapping) else []
            hint = f" (it has: {', '.join(map(str, known))})" if known else ""
            raise HookError(f"paths_from_hook_data: no {part!r} in {where}{hint}; did the hook that sets {dotted_key} run before this one?")
        node = node[part]
        walked.append(part)
    if isinstance(node, (str, bytes)) or not isinstance(node, (list, tuple)):
        raise HookError(f"paths_from_hook_data: {dotted_key} is a {type(node).__name__}, not a list of paths")
    bad = [item for item in node if not isinstance(item, str) or not item]
    if bad:
        raise HookError(f"paths_from_hook_data: {dotted_key} holds {bad[0]!r}, not a path")
    return list(node)


# -- the request's identity and status -------------------------------------------------------


def caller_reference(distribution_id: str, paths: Sequence[str], run_token: str) -> str:
    """A CallerReference that is the same for the same distribution, paths (in any order) and run token."""
    digest = hashlib.sha256("\n".join([distribution_id, run_token, *sorted(paths)]).encode("utf-8")).hexdigest()
    return f"runway-ext-{digest[:40]}"


def canonical_status(status: str) -> str:
    """``COMPLETED``/``completed`` → ``Completed``; unknown spellings are kept as given."""
    return _STATUS_SPELLING.get(status.replace("_", "").replace(" ", "").lower(), status)
