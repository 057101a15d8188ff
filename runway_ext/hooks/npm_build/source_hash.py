"""A content hash of a web app's sources: what decides whether a new build could differ from the last one.

Every file under the app folder counts (its path relative to the app and its bytes; symbolic links by
their target), except folders that hold dependencies, build caches or build output. So the env file the
build reads (``.env.local``, written from ``.env.<environment>`` before hashing) and the lockfile are
part of the hash, while ``node_modules`` and the output folder are not. Modification times never count:
rewriting a file with the same bytes leaves the hash unchanged.

The build's environment counts too (:func:`build_environment_digest`): the variables bundlers inline into
the output by convention (``NEXT_PUBLIC_*``, ``VITE_*``, ``REACT_APP_*``, ``VUE_APP_*``, ``GATSBY_*``,
``PUBLIC_*``, ``NUXT_PUBLIC_*``, ``NODE_ENV``) and any the user names in ``build_env``. Only a digest
of their values is kept, never a value.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

from runway_ext.core.hashing import file_sha256

IGNORED_FOLDERS: frozenset[str] = frozenset(
    {"node_modules", ".git", ".hg", ".svn", ".next", ".nuxt", ".svelte-kit", ".turbo", ".parcel-cache", ".vercel"}
)
"""Folder names skipped at any depth: dependencies, version control, framework build caches."""

OUTPUT_FOLDER_CANDIDATES: tuple[str, ...] = ("out", "build", "dist")
"""Where a build script naming no known tool may write (it must be exactly one of them)."""

INLINED_ENV_PREFIXES: tuple[str, ...] = ("NEXT_PUBLIC_", "VITE_", "REACT_APP_", "VUE_APP_", "GATSBY_", "PUBLIC_", "NUXT_PUBLIC_")
"""Environment variables with these prefixes are compiled into the output by the usual bundlers."""

INLINED_ENV_NAMES: tuple[str, ...] = ("NODE_ENV",)


def build_environment_digest(environ: Mapping[str, str], extra_names: Iterable[str] = ()) -> str:
    """A digest of the environment variables the build's output may depend on (names and values). Pure."""
    extra = set(extra_names)
    digest = hashlib.sha256()
    for name in sorted(environ):
        if name in extra or name in INLINED_ENV_NAMES or name.startswith(INLINED_ENV_PREFIXES):
            digest.update(name.encode("utf-8", "surrogateescape") + b"=" + environ[name].encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(extra - set(environ)):
        digest.update(name.encode("utf-8", "surrogateescape") + b" unset\0")
    return digest.hexdigest()


def is_ignored(relative_path: str, ignored_top_level: Iterable[str] = ()) -> bool:
    """Whether a path relative to the app (``src/page.js``) is left out of the hash. Pure."""
    parts = PurePosixPath(relative_path).parts
    if not parts:
        return False
    return _top_level_ignored(relative_path, _normalize_tops(ignored_top_level)) or any(part in IGNORED_FOLDERS for part in parts)


def _normalize_tops(ignored_top_level: Iterable[str]) -> tuple[str, ...]:
    return tuple(top for top in (PurePosixPath(entry).as_posix().strip("/") for entry in ignored_top_level) if top and top != ".")


def _top_level_ignored(relative_path: str, tops: tuple[str, ...]) -> bool:
    return any(relative_path == top or relative_path.startswith(top + "/") for top in tops)


def combine(entries: Iterable[tuple[str, str]]) -> str:
    """Fold ``(relative path, content digest)`` pairs into one hex digest, independent of their order. Pure."""
    digest = hashlib.sha256()
    for path, content in sorted(entries):
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        digest.update(content.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def iter_source_files(app_path: Path, ignored_top_level: Iterable[str] = ()) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative posix path, path)`` for every file that counts, without following folder links."""
    for relative, entry in _walk(app_path, ignored_top_level):
        yield relative, Path(entry.path)


def _walk(app_path: Path, ignored_top_level: Iterable[str]) -> Iterator[tuple[str, os.DirEntry[str]]]:
    tops = _normalize_tops(ignored_top_level)
    pending = [(str(app_path), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda item: item.name):
                relative = prefix + entry.name
                if entry.name in IGNORED_FOLDERS or _top_level_ignored(relative, tops):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + "/"))
                else:
                    yield relative, entry


def hash_app_sources(app_path: Path, ignored_top_level: Iterable[str] = ()) -> tuple[str, int]:
    """Return ``(hex digest, number of files hashed)`` for the app at ``app_path``.

    ``ignored_top_level`` names folders relative to the app (the output folder) that do not count.
    """
    entries: list[tuple[str, str]] = []
    for relative, entry in _walk(app_path, ignored_top_level):
        if entry.is_symlink():
            target = os.readlink(entry.path).encode("utf-8", "surrogateescape")
            entries.append((relative, "link:" + hashlib.sha256(target).hexdigest()))
        elif entry.is_file():
            entries.append((relative, file_sha256(Path(entry.path))))
    return combine(entries), len(entries)
