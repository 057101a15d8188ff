"""The build's output folder: which folder is synced, which folders the source hash leaves out, and its files.

:func:`resolve_output_dir` picks the folder (``output_dir`` if given, ``out/`` for Next.js, else the
newest of out/build/dist); :func:`scan_build` lists every file in it by site path with the digests the
sync planner compares (sha256 and MD5, each file read once).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hashing import hash_file

from .npm import is_nextjs
from .plan import LocalFile
from .source_hash import OUTPUT_FOLDER_CANDIDATES


def resolve_output_dir(app_path: Path, explicit: Path | None, package: dict[str, Any]) -> Path:
    """The folder to sync: ``output_dir`` if given, ``out/`` for Next.js, else the newest of out/build/dist."""
    if explicit is not None:
        folder = explicit if explicit.is_absolute() else app_path / explicit
        if not folder.is_dir():
            raise HookError(f"output_dir: {folder} does not exist (did the build write it?)")
        return folder
    if is_nextjs(app_path, package):
        folder = app_path / "out"
        if not folder.is_dir():
            raise HookError(f"output_dir: {folder} does not exist; a Next.js app needs output: 'export' in next.config")
        return folder
    found = [app_path / name for name in OUTPUT_FOLDER_CANDIDATES if (app_path / name).is_dir()]
    if not found:
        raise HookError(f"output_dir: none of {', '.join(OUTPUT_FOLDER_CANDIDATES)} exists in {app_path}; set output_dir")
    return max(found, key=lambda folder: folder.stat().st_mtime)


def ignored_output_folders(explicit: Path | None) -> list[str]:
    """Folders (relative to the app) left out of the source hash: the output folder, or every usual one. Pure."""
    if explicit is None:
        return list(OUTPUT_FOLDER_CANDIDATES)
    return [] if explicit.is_absolute() else [explicit.as_posix()]


def scan_build(output_dir: Path) -> dict[str, LocalFile]:
    """Every file of the build by site path (``about/index.html``), with its digests; links to files count as files."""
    files: dict[str, LocalFile] = {}
    for folder, subfolders, names in os.walk(output_dir):
        subfolders.sort()
        relative_folder = Path(folder).relative_to(output_dir).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        for name in sorted(names):
            path = Path(folder) / name
            if not path.is_file():
                continue
            size, (sha256, md5) = hash_file(path, "sha256", "md5")
            files[prefix + name] = LocalFile(prefix + name, size, sha256, md5)
    return files
