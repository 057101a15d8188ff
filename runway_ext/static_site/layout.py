"""Where a static site's objects live in its bucket: the site prefix, the state folder, every key this tool names. Pure.

A site is a bucket and a key prefix P (``""`` or ending in ``/``). Under P:

* ``{P}{path}``: the site's objects in the **in-place** layout (what a sync writes; also the atomic layout's
  fallback, see :mod:`.atomic`);
* ``{P}.runway-ext-releases/``: the **atomic** layout's objects (``{rid}/{path}`` per release, ``shared/{path}``
  for paths under the site's shared prefixes), served through the release pointer (:mod:`.atomic`);
* ``{P}.runway-ext/``: this tool's state folder, never served, never synced from nor deleted by a sync:
  the site manifest (``site-manifest.json``), the release records (``releases/index.json``, ``releases/r7.json``)
  and, in unversioned buckets, retained copies of released bytes (``releases/objects/<sha256>``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

STATE_FOLDER = ".runway-ext/"
"""Folder, under the prefix, of this tool's own objects (never uploaded from, nor deleted by, a sync)."""


MANIFEST_NAME = STATE_FOLDER + "site-manifest.json"
"""Where, under the prefix, the site manifest object lives."""


MAX_KEY_BYTES = 1024
"""S3's limit on a key's length in UTF-8 bytes."""


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


_UNCLEAN_SEGMENT = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)")
"""An empty, ``.`` or ``..`` segment of a ``/``-separated path."""
RELEASES_FOLDER = STATE_FOLDER + "releases/"
INDEX_NAME = RELEASES_FOLDER + "index.json"
OBJECTS_FOLDER = RELEASES_FOLDER + "objects/"

RELEASE_OBJECTS_FOLDER = ".runway-ext-releases/"
"""Folder, under the prefix, of the atomic layout's objects: ``{rid}/{path}`` per release, ``shared/{path}`` shared."""
SHARED_FOLDER = RELEASE_OBJECTS_FOLDER + "shared/"

SHA256_METADATA = "sha256"
"""User metadata key (``x-amz-meta-sha256``) holding each object's content hash (written by this tool; a hint, never proof)."""


def normalize_prefix(prefix: str) -> str:
    """``""`` or a key prefix ending in ``/`` (leading/trailing slashes tidied); refuses ``..`` and empty segments."""
    cleaned = prefix.strip().strip("/")
    if not cleaned:
        return ""
    segments = cleaned.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(f"invalid prefix {prefix!r}: no empty, '.' or '..' segments")
    return cleaned + "/"


def manifest_key(prefix: str) -> str:
    """The key of the site manifest object for a (normalised) prefix."""
    return prefix + MANIFEST_NAME


def is_state_key(key: str, prefix: str) -> bool:
    """Whether a key is one of this tool's own objects under the prefix (state folder or atomic releases: never synced, never deleted by a sync)."""
    return key.startswith((prefix + STATE_FOLDER, prefix + RELEASE_OBJECTS_FOLDER))


def is_shared(path: str, shared_prefixes: Iterable[str]) -> bool:
    """Whether a site path lives in the atomic layout's shared folder (it starts with one of the shared prefixes)."""
    return any(path.startswith(shared) for shared in shared_prefixes)


def atomic_key(prefix: str, rid: str, path: str, shared_prefixes: Iterable[str]) -> str:
    """Where release ``rid`` keeps site path ``path`` in the atomic layout: its own folder, or the shared one."""
    if is_shared(path, shared_prefixes):
        return f"{prefix}{SHARED_FOLDER}{path}"
    return f"{prefix}{RELEASE_OBJECTS_FOLDER}{rid}/{path}"


def release_folder(prefix: str, rid: str) -> str:
    """The folder of release ``rid``'s own objects in the atomic layout."""
    return f"{prefix}{RELEASE_OBJECTS_FOLDER}{rid}/"


def site_keys(remote: Iterable[str], prefix: str) -> list[str]:
    """The keys under the prefix that belong to the site, sorted: this tool's own objects and every key of a
    neighbour site (a prefix below holding another state folder, see :mod:`.containment`) left out."""
    from runway_ext.static_site.containment import in_neighbour, neighbours

    keys = [key for key in remote if key.startswith(prefix) and not is_state_key(key, prefix)]
    inner = neighbours(keys, prefix)
    return sorted(key for key in keys if not inner or in_neighbour(key, inner) is None)


def key_problem(path: str, prefix: str = "") -> str | None:
    """Why a site path cannot be published as an S3 key (None: it can), in words that fit one line. Pure."""
    try:
        encoded = (prefix + path).encode("utf-8")
    except UnicodeEncodeError:
        return f"cannot publish {os.fsencode(path)!r}: the name is not valid UTF-8 (S3 keys are UTF-8 text); rename it"
    if _CONTROL_CHARACTER.search(path):
        return f"cannot publish {path!r}: the name holds a control character (newline, tab, ...); rename it"
    if not path or path.startswith("/") or _UNCLEAN_SEGMENT.search(path):
        return f"cannot sync {path!r}: not a clean relative path"
    if len(encoded) > MAX_KEY_BYTES:
        return f"cannot publish {path[:60]!r}...: the key is {len(encoded)} bytes, S3 allows {MAX_KEY_BYTES}"
    if path.startswith(STATE_FOLDER):
        return f"the build contains {path!r}, under {STATE_FOLDER} where this tool keeps its site manifest"
    if path.startswith(RELEASE_OBJECTS_FOLDER):
        return f"the build contains {path!r}, under {RELEASE_OBJECTS_FOLDER} where this tool keeps atomic releases"
    return None


def is_page(key: str) -> bool:
    """Whether a key or path is an HTML page (written after the assets it may reference)."""
    return key.lower().endswith((".html", ".htm"))


def index_key(prefix: str) -> str:
    """The index object's key."""
    return prefix + INDEX_NAME


def release_key(prefix: str, rid: str) -> str:
    """The key of one release's record."""
    return f"{prefix}{RELEASES_FOLDER}{rid}.json"


def blob_key(prefix: str, sha256: str) -> str:
    """The key of a retained copy of content ``sha256``."""
    return f"{prefix}{OBJECTS_FOLDER}{sha256}"
