"""A content hash of a web app's sources: what decides whether a new build could differ from the last one.

Every file under the app folder counts (its path relative to the app and its bytes; symbolic links by
their target), except folders that hold dependencies, build caches or build output. So the env file the
build reads (``.env.local``, written from ``.env.<environment>`` before hashing) and the lockfile are
part of the hash, while ``node_modules`` and the output folder are not. Modification times never count:
rewriting a file with the same bytes leaves the hash unchanged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

IGNORED_FOLDERS: frozenset[str] = frozenset(
    {"node_modules", ".git", ".hg", ".svn", ".next", ".nuxt", ".svelte-kit", ".turbo", ".parcel-cache", ".vercel"}
)
"""Folder names skipped at any depth: dependencies, version control, framework build caches."""

OUTPUT_FOLDER_CANDIDATES: tuple[str, ...] = ("out", "build", "dist")
"""Where static builds land (Next.js export first); skipped at the app's top level when the output folder is automatic."""

_CHUNK = 1 << 20


def is_ignored(relative_path: str, ignored_top_level: Iterable[str] = ()) -> bool:
    """Whether a path relative to the app (``src/page.js``) is left out of the hash. Pure."""
    parts = PurePosixPath(relative_path).parts
    if not parts:
        return False
    tops = {PurePosixPath(top).as_posix().strip("/") for top in ignored_top_level}
    if any(relative_path == top or relative_path.startswith(top + "/") for top in tops if top):
        return True
    return any(part in IGNORED_FOLDERS for part in parts[:-1]) or parts[-1] in IGNORED_FOLDERS


def combine(entries: Iterable[tuple[str, str]]) -> str:
    """Fold ``(relative path, content digest)`` pairs into one hex digest, independent of their order. Pure."""
    digest = hashlib.sha256()
    for path, content in sorted(entries):
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        digest.update(content.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_source_files(app_path: Path, ignored_top_level: Iterable[str] = ()) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative posix path, path)`` for every file that counts, without following folder links."""
    tops = tuple(ignored_top_level)
    for folder, subfolders, files in os.walk(app_path):
        relative_folder = Path(folder).relative_to(app_path).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        subfolders[:] = sorted(name for name in subfolders if not is_ignored(prefix + name, tops))
        for name in files:
            relative = prefix + name
            if not is_ignored(relative, tops):
                yield relative, Path(folder) / name
        for name in list(subfolders):
            candidate = Path(folder) / name
            if candidate.is_symlink():
                yield prefix + name, candidate
                subfolders.remove(name)


def hash_app_sources(app_path: Path, ignored_top_level: Iterable[str] = ()) -> tuple[str, int]:
    """Return ``(hex digest, number of files hashed)`` for the app at ``app_path``.

    ``ignored_top_level`` names folders relative to the app (the output folder) that do not count.
    """
    entries: list[tuple[str, str]] = []
    for relative, path in iter_source_files(app_path, ignored_top_level):
        if path.is_symlink():
            entries.append((relative, "link:" + hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()))
        elif path.is_file():
            entries.append((relative, file_digest(path)))
    return combine(entries), len(entries)
