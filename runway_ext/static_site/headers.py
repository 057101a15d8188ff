"""HTTP headers of a static site's objects: Content-Type by extension, Cache-Control by glob rules. Pure.

Cache rules are tried in order and the first whose glob matches a file's site path wins. Glob syntax:

* a pattern without ``/`` matches the file name at any depth (``*.html``);
* a pattern with ``/`` matches the whole path from the site root (``_next/static/**``);
* ``**`` spans folders, ``*`` and ``?`` stay inside one path segment, ``{a,b}`` is either word,
  ``[abc]`` is a character class, and ``[hash]`` is a build hash: 8 or more hex digits (at least one
  of them a digit, as webpack/Next.js/CRA write them) or 8 URL-safe base64 characters mixing capitals,
  small letters and digits (as Vite/Rollup write them). Names that merely look like words never match.
"""

from __future__ import annotations

import functools
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass

IMMUTABLE = "public, max-age=31536000, immutable"
"""For files whose name changes with their content: cache for a year, never revalidate."""

NO_CACHE = "no-cache"
"""For HTML and JSON: caches must revalidate before every use (cheap with ETags)."""

REVALIDATE = "public, max-age=0, must-revalidate"
"""For everything else: never served stale after a deploy."""

HASH_PLACEHOLDER = "[hash]"
_HASH_REGEX = (
    r"(?:(?=[a-f]*[0-9])[0-9a-f]{8,}(?![0-9A-Za-z_-])"
    r"|(?=[a-z0-9_-]{0,7}[A-Z])(?=[A-Z0-9_-]{0,7}[a-z])(?=[A-Za-z_-]{0,7}[0-9])[A-Za-z0-9_-]{8}(?![0-9A-Za-z_-]))"
)

_UTF8 = "; charset=utf-8"
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html" + _UTF8,
    ".htm": "text/html" + _UTF8,
    ".css": "text/css" + _UTF8,
    ".js": "text/javascript" + _UTF8,
    ".mjs": "text/javascript" + _UTF8,
    ".cjs": "text/javascript" + _UTF8,
    ".json": "application/json" + _UTF8,
    ".map": "application/json" + _UTF8,
    ".webmanifest": "application/manifest+json" + _UTF8,
    ".txt": "text/plain" + _UTF8,
    ".md": "text/markdown" + _UTF8,
    ".csv": "text/csv" + _UTF8,
    ".xml": "application/xml" + _UTF8,
    ".rss": "application/rss+xml" + _UTF8,
    ".atom": "application/atom+xml" + _UTF8,
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
}
"""Content-Type by file extension (our own table: the ``mimetypes`` module differs between machines)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class CacheRuleError(ValueError):
    """A cache rule glob that cannot be compiled."""


@dataclass(frozen=True)
class CacheRule:
    """One rule: files whose site path matches ``pattern`` get these headers."""

    pattern: str
    cache_control: str
    content_type: str | None = None


DEFAULT_CACHE_RULES: tuple[CacheRule, ...] = (
    CacheRule("*.{html,htm}", NO_CACHE),
    CacheRule("_next/static/**", IMMUTABLE),
    CacheRule("*[.-][hash].*", IMMUTABLE),
    CacheRule("*.json", NO_CACHE),
    CacheRule("**", REVALIDATE),
)
"""Tried after the user's own rules: HTML first (never immutable), then hashed assets, JSON, the rest."""


@dataclass(frozen=True)
class ObjectHeaders:
    """The headers an object should carry."""

    content_type: str
    cache_control: str


def content_type_for(path: str) -> str:
    """The Content-Type of a site path, from its extension (case-insensitive)."""
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    if dot > 0:
        extension = name[dot:]
        if extension in CONTENT_TYPES:
            return CONTENT_TYPES[extension]
        guessed, _ = mimetypes.guess_type(name, strict=True)
        if guessed:
            return guessed + (_UTF8 if guessed.startswith("text/") else "")
    return DEFAULT_CONTENT_TYPE


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile a cache-rule glob (syntax in the module docstring) to a regex over site paths."""
    if not pattern or pattern.startswith("/"):
        raise CacheRuleError(f"invalid pattern {pattern!r}: must be non-empty and relative to the site root")
    anchored = "/" in pattern
    body = _translate(pattern)
    regex = body if anchored else r"(?:.*/)?" + body
    try:
        return re.compile(r"\A" + regex + r"\Z", re.DOTALL)
    except re.error as error:
        raise CacheRuleError(f"invalid pattern {pattern!r}: {error}") from None


def _translate(pattern: str) -> str:
    """Translate glob syntax to a regex body."""
    out: list[str] = []
    index = 0
    depth = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append(r"(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(r".*")
            index += 2
            continue
        if pattern.startswith(HASH_PLACEHOLDER, index):
            out.append(_HASH_REGEX)
            index += len(HASH_PLACEHOLDER)
            continue
        if char == "*":
            out.append(r"[^/]*")
        elif char == "?":
            out.append(r"[^/]")
        elif char == "[":
            end = pattern.find("]", index + 2)
            if end == -1:
                raise CacheRuleError(f"invalid pattern {pattern!r}: unclosed '['")
            inner = pattern[index + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            index = end + 1
            continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        index += 1
    if depth:
        raise CacheRuleError(f"invalid pattern {pattern!r}: unclosed '{{'")
    return "".join(out)


def glob_matches(pattern: str, path: str) -> bool:
    """Whether a site path (``about/index.html``) matches a cache-rule glob."""
    return compile_glob(pattern).match(path) is not None


def headers_for(path: str, rules: Sequence[CacheRule] = (), *, defaults: Sequence[CacheRule] = DEFAULT_CACHE_RULES) -> ObjectHeaders:
    """The headers of the file at site path ``path``: the first matching rule of ``rules`` then ``defaults``."""
    content_type = content_type_for(path)
    for rule in (*rules, *defaults):
        if glob_matches(rule.pattern, path):
            return ObjectHeaders(content_type=rule.content_type or content_type, cache_control=rule.cache_control)
    return ObjectHeaders(content_type=content_type, cache_control=REVALIDATE)
