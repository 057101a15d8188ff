"""The local edge's cache: how long CloudFront keeps an object, and invalidations that clear it.

:func:`edge_ttl` follows CloudFront's rules for a cache policy's TTLs and the origin's headers:
``s-maxage`` wins over ``max-age``, both clamped to [MinTTL, MaxTTL]; ``no-cache``/``no-store``/``private``
mean "not cached" when MinTTL is 0 and "MinTTL" otherwise; ``Expires`` is used when there is no max-age; no
header at all means DefaultTTL. :class:`EdgeCache` keys entries by the path after the viewer-request
function (and the compression variant), and :meth:`EdgeCache.invalidate` matches paths the way CloudFront
invalidations do (exact, or a prefix ending in ``*``; the query string is ignored).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from runway_ext.local.edge_config import CachePolicy

_DIRECTIVE = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*\"?(\d+)\"?)?\s*")


def cache_directives(header: str | None) -> dict[str, int | None]:
    """``Cache-Control`` as {directive: seconds or None}, directive names in lower case."""
    directives: dict[str, int | None] = {}
    for part in (header or "").split(","):
        match = _DIRECTIVE.fullmatch(part)
        if match and match.group(1):
            directives[match.group(1).lower()] = int(match.group(2)) if match.group(2) else None
    return directives


def edge_ttl(policy: CachePolicy, cache_control: str | None, expires: str | None = None, now: float | None = None) -> int:
    """Seconds CloudFront keeps an object with these headers under ``policy`` (0: not cached)."""
    directives = cache_directives(cache_control)
    if {"no-cache", "no-store", "private"} & directives.keys():
        return policy.min_ttl
    age = directives.get("s-maxage", directives.get("max-age"))
    if age is None and expires:
        try:
            age = max(0, int(parsedate_to_datetime(expires).timestamp() - (now if now is not None else time.time())))
        except (TypeError, ValueError):
            age = 0
    if age is None:
        return max(policy.min_ttl, min(policy.default_ttl, policy.max_ttl))
    return max(policy.min_ttl, min(age, policy.max_ttl))


def normalize_path(path: str) -> str:
    """The path part of a URI, percent-decoded, as invalidation paths are compared."""
    return unquote(path.split("?", 1)[0])


def invalidation_matches(pattern: str, path: str) -> bool:
    """Whether an invalidation path (``/a/b.html``, ``/a/*``, ``/*``) covers a cached path."""
    pattern = normalize_path(pattern if pattern.startswith("/") else "/" + pattern)
    if pattern.endswith("*"):
        return normalize_path(path).startswith(pattern[:-1])
    return normalize_path(path) == pattern


@dataclass
class CachedResponse:
    """A response kept by the edge, with when it was stored and how long it may be served."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    ttl: int
    origin_error: bool = False
    """The origin answered 400 or more (a custom error page, if any, stands in for it): no viewer-response function runs."""

    def age(self, now: float) -> int:
        """Seconds since it was stored (the ``Age`` header)."""
        return int(now - self.stored_at)


@dataclass
class EdgeCache:
    """Thread-safe store of cached responses keyed by (path, variant)."""

    clock: Callable[[], float] = time.monotonic
    _entries: dict[tuple[str, str], CachedResponse] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, path: str, variant: str) -> CachedResponse | None:
        """The fresh entry for ``path``/``variant``, or ``None`` (expired entries are dropped)."""
        key = (normalize_path(path), variant)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.clock() - entry.stored_at >= entry.ttl:
                del self._entries[key]
                return None
            return entry

    def put(
        self, path: str, variant: str, status: int, headers: list[tuple[str, str]], body: bytes, ttl: int, *, origin_error: bool = False
    ) -> None:
        """Keep a response for ``ttl`` seconds (nothing is kept when ``ttl`` is 0)."""
        if ttl <= 0:
            return
        with self._lock:
            self._entries[(normalize_path(path), variant)] = CachedResponse(status, list(headers), body, self.clock(), ttl, origin_error)

    def invalidate(self, patterns: Iterable[str]) -> int:
        """Drop every entry an invalidation path covers; return how many were dropped."""
        patterns = list(patterns)
        with self._lock:
            doomed = [key for key in self._entries if any(invalidation_matches(pattern, key[0]) for pattern in patterns)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
