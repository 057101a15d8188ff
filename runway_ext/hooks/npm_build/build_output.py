"""The build's output folder: which folder is synced, which folder the source hash leaves out, and its files.

Which folder (never guessed by modification time):

1. ``output_dir`` when given;
2. else the folder the app's build tool is known to write — Next.js ``out/`` (or ``distDir`` from
   next.config), Vite/Astro/Parcel/Vue CLI ``dist/``, Create React App ``build/``, Gatsby ``public/``,
   Eleventy ``_site/`` — taken from the build script, else from the dependencies; a tool whose output
   folder is configured elsewhere (Vite's ``outDir``) or two tools that disagree are an error asking
   for ``output_dir``;
3. else (a build script of the app's own, e.g. ``node build.mjs``) the one of ``out/``, ``build/``,
   ``dist/`` that exists after the build; none, or more than one, is an error asking for ``output_dir``.

The folder must lie inside the app, must not be the app folder, and must not hold ``package.json``,
``.env*``, ``.git`` or ``node_modules`` (:func:`check_output_dir`). :func:`scan_build` lists every file
by site path with its digests: links whose target stays inside the output folder are followed (files
and folders); a link leading outside it is refused unless ``follow_links``; a broken link, a loop, a
special file or an ``.env`` file anywhere is refused. Each refusal is one line naming the path.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hashing import hash_file
from runway_ext.hooks.npm_build.local_cache import DigestCache, stat_key
from runway_ext.hooks.npm_build.npm import NEXT_CONFIGS, declared_dependencies, is_nextjs
from runway_ext.hooks.npm_build.source_hash import OUTPUT_FOLDER_CANDIDATES
from runway_ext.static_site.inplace import LocalFile
from runway_ext.static_site.objects import MD5_LIMIT

PARALLEL_HASH_MIN = 1024**2
"""Files from this size on that are not in the digest cache are hashed in parallel (:data:`HASH_WORKERS` at once)."""
HASH_WORKERS = max(2, min(4, os.cpu_count() or 1))

KNOWN_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("next", "next build", "out"),
    ("react-scripts", "react-scripts build", "build"),
    ("vite", "vite build", "dist"),
    ("astro", "astro build", "dist"),
    ("parcel", "parcel build", "dist"),
    ("@vue/cli-service", "vue-cli-service build", "dist"),
    ("gatsby", "gatsby build", "public"),
    ("@11ty/eleventy", "eleventy", "_site"),
)
"""(package, its build command, the folder it writes by default)."""

VITE_CONFIGS = ("vite.config.js", "vite.config.mjs", "vite.config.cjs", "vite.config.ts", "vite.config.mts")
PRIVATE_MARKERS = ("package.json", ".git", "node_modules")
"""Entries whose presence shows a folder is an app or a checkout, not a build."""

_DIST_DIR = re.compile(r"""distDir\s*:\s*['"]([^'"]+)['"]""")


def expected_output_dir(app_path: Path, package: dict[str, Any]) -> str | None:
    """The output folder (relative to the app) the build tool is known to write; None when no known tool builds it."""
    if is_nextjs(app_path, package):
        return _nextjs_output(app_path)
    script = str((package.get("scripts") or {}).get("build", "")) if isinstance(package.get("scripts"), dict) else ""
    named = [(name, folder) for name, command, folder in KNOWN_TOOLS if command in script]
    if not named:
        dependencies = set(declared_dependencies(package))
        named = [(name, folder) for name, _, folder in KNOWN_TOOLS if name in dependencies]
    if not named:
        return None
    folders = sorted({folder for _, folder in named})
    if len(folders) > 1:
        tools = ", ".join(name for name, _ in named)
        raise HookError(f"output_dir: {app_path} uses {tools}, which write different folders ({', '.join(folders)}); set output_dir")
    if any(name == "vite" for name, _ in named) and _mentions(app_path, VITE_CONFIGS, "outDir"):
        raise HookError(f"output_dir: the Vite config in {app_path} sets outDir; set output_dir to the same folder")
    return folders[0]


def _nextjs_output(app_path: Path) -> str:
    for name in NEXT_CONFIGS:
        config = app_path / name
        if config.is_file():
            found = _DIST_DIR.search(config.read_text(encoding="utf-8", errors="replace"))
            if found:
                return found.group(1).strip("/") or "out"
    return "out"


def _mentions(app_path: Path, names: tuple[str, ...], word: str) -> bool:
    return any((app_path / name).is_file() and word in (app_path / name).read_text(encoding="utf-8", errors="replace") for name in names)


def resolve_output_dir(app_path: Path, explicit: Path | None, package: dict[str, Any]) -> Path:
    """The folder to sync, after the build (the rules are in the module docstring); it must exist."""
    if explicit is not None:
        folder = explicit if explicit.is_absolute() else app_path / explicit
        if not folder.is_dir():
            raise HookError(f"output_dir: {folder} does not exist (did the build write it?)")
        return check_output_dir(app_path, folder)
    known = expected_output_dir(app_path, package)
    if known is not None:
        folder = app_path / known
        if not folder.is_dir():
            hint = "; a Next.js app needs output: 'export' in next.config" if is_nextjs(app_path, package) else ""
            raise HookError(f"output_dir: {folder} does not exist{hint}")
        return check_output_dir(app_path, folder)
    found = [name for name in OUTPUT_FOLDER_CANDIDATES if (app_path / name).is_dir()]
    if not found:
        raise HookError(f"output_dir: none of {', '.join(OUTPUT_FOLDER_CANDIDATES)} exists in {app_path}; set output_dir")
    if len(found) > 1:
        raise HookError(
            f"output_dir: {app_path} has {' and '.join(found)} and its build script names no known tool; "
            "set output_dir to the folder the build writes"
        )
    return check_output_dir(app_path, app_path / found[0])


def check_output_dir(app_path: Path, folder: Path) -> Path:
    """Refuse an output folder outside the app, equal to it, or holding an app's private files; returns it."""
    app_real = app_path.resolve()
    real = folder.resolve()
    if real == app_real:
        raise HookError(f"output_dir: {folder} is the app folder itself; set output_dir to the folder the build writes")
    if app_real not in real.parents:
        raise HookError(f"output_dir: {folder} is outside the app folder {app_path}")
    private = sorted(
        entry.name for entry in os.scandir(real) if entry.name in PRIVATE_MARKERS or entry.name == ".env" or entry.name.startswith(".env.")
    )
    if private:
        raise HookError(f"output_dir: {folder} holds {', '.join(private)}: not a build output folder; refusing to publish it")
    return folder


def ignored_output_folders(explicit: Path | None, expected: str | None = None, remembered: str = "") -> list[str]:
    """Folders (relative to the app) left out of the source hash: the output folder only. Pure.

    ``explicit`` is ``output_dir``, ``expected`` the build tool's folder, ``remembered`` the folder the
    app's build wrote last time on this machine (for a build script naming no known tool).
    """
    if explicit is not None:
        return [] if explicit.is_absolute() else [explicit.as_posix()]
    if expected is not None:
        return [expected]
    return [remembered] if remembered else []


def scan_build(output_dir: Path, *, follow_links: bool = False, cache: DigestCache | None = None) -> dict[str, LocalFile]:
    """Every file of the build by site path (``about/index.html``), with its digests (see the module docstring)."""
    root = output_dir.resolve()
    files: dict[str, LocalFile] = {}

    def walk(folder: str, site_prefix: str, ancestors: tuple[Path, ...]) -> None:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            site_path = site_prefix + entry.name
            if entry.name == ".env" or entry.name.startswith(".env."):
                raise HookError(f"output_dir: {_shown(entry.path)} is an env file; refusing to publish it")
            if entry.is_symlink():
                path = Path(entry.path)
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    raise HookError(f"output_dir: {_shown(path)} is a broken link") from None
                if target != root and root not in target.parents and not follow_links:
                    raise HookError(
                        f"output_dir: {_shown(path)} links outside the output folder (to {_shown(target)}); "
                        "remove the link or set follow_links: true"
                    )
                if target.is_dir():
                    if target in ancestors:
                        raise HookError(f"output_dir: {_shown(path)} links to a folder that contains it (a loop)")
                    walk(entry.path, site_path + "/", (*ancestors, target))
                elif target.is_file():
                    add(site_path, entry.path)
                else:
                    raise HookError(f"output_dir: {_shown(path)} links to something that is not a file or folder")
            elif entry.is_dir(follow_symlinks=False):
                walk(entry.path, site_path + "/", (*ancestors, ancestors[-1] / entry.name))
            elif entry.is_file(follow_symlinks=False):
                add(site_path, entry.path)
            else:
                raise HookError(f"output_dir: {_shown(entry.path)} is not a regular file (a socket, pipe or device)")

    def add(site_path: str, path: str) -> None:
        before = os.stat(path)
        stat = stat_key(before)
        cached = cache.get(site_path, stat) if cache is not None else None
        if cached is not None:
            sha256, md5 = cached
            files[site_path] = LocalFile(site_path, before.st_size, sha256, md5)
            return
        if before.st_size >= PARALLEL_HASH_MIN:
            large.append((site_path, path, before))
            return
        digest(site_path, path, before)

    def digest(site_path: str, path: str, before: os.stat_result) -> None:
        stat = stat_key(before)
        if before.st_size <= MD5_LIMIT:
            size, (sha256, md5) = hash_file(Path(path), "sha256", "md5")
        else:
            size, (sha256,) = hash_file(Path(path), "sha256")
            md5 = ""
        files[site_path] = LocalFile(site_path, size, sha256, md5)
        if cache is not None and size == before.st_size and stat_key(os.stat(path)) == stat:
            cache.put(site_path, stat, sha256, md5)

    large: list[tuple[str, str, os.stat_result]] = []
    walk(os.fspath(output_dir), "", (root,))
    if large:
        # hashlib lets go of the GIL on large buffers: big files are hashed side by side
        with ThreadPoolExecutor(max_workers=min(HASH_WORKERS, len(large)), thread_name_prefix="runway-ext-digest") as pool:
            for done in [pool.submit(digest, *item) for item in large]:
                done.result()
    return files


def _shown(path: Path | str) -> str:
    """A path for a one-line message: undecodable bytes and control characters escaped."""
    return repr(os.fsencode(path))[2:-1] if _odd(str(path)) else str(path)


def _odd(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F or 0xDC80 <= ord(char) <= 0xDCFF for char in text)
