"""A local cache of the build's file digests, so an unchanged file is never read twice.

One JSON file per app folder under the user's cache folder (``$RUNWAY_EXT_CACHE_DIR``, else
``$XDG_CACHE_HOME/runway-ext``, else ``~/.cache/runway-ext``), ``sync/<digest of the app's real path>.json``.
An entry is used only when the file's size, modification time, change time, inode and device are all
exactly what they were when it was hashed; the change time cannot be set by any program (``touch``,
``cp -p`` and ``utime`` set it to now), so rewriting a file with the same modification time still
misses the cache. Entries of files changed less than :data:`RACY_WINDOW_NS` before they were hashed are
not kept (a write in the same clock tick as the hash would not show in the times). The cache also
remembers which output folder the app's build wrote, for the source hash of an app whose build tool
names none. A cache that cannot be read or written is ignored: it only ever saves work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from runway_ext.core.files import atomic_write

RACY_WINDOW_NS = 2_000_000_000
"""Files changed this recently (before the scan started) are hashed but not cached."""

CACHE_FORMAT = 1

Stat = tuple[int, int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode, device)."""


def cache_folder() -> Path:
    """Where runway_ext keeps local caches."""
    explicit = os.environ.get("RUNWAY_EXT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "runway-ext"


def stat_key(result: os.stat_result) -> Stat:
    """The parts of a stat that change whenever a file's content may have changed."""
    return (result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_ino, result.st_dev)


class DigestCache:
    """Digests of an app's built files by site path, valid only while the file's stat is unchanged."""

    def __init__(self, path: Path | None, *, output_dir: Path | None = None, log: logging.Logger | None = None) -> None:
        """Load the cache at ``path`` (None: a cache that keeps nothing) for the build in ``output_dir``."""
        self.path = path
        self.log = log
        self.output_dir = str(output_dir.resolve()) if output_dir is not None else ""
        self.started_ns = time.time_ns()
        self.remembered_output = ""
        self._old: dict[str, list[object]] = {}
        self._new: dict[str, list[object]] = {}
        self._loaded_output: str | None = None
        self.hits = 0
        if path is None:
            return
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(document, dict) and document.get("format") == CACHE_FORMAT:
                self.remembered_output = str(document.get("output_dir", ""))
                if document.get("folder") == self.output_dir and isinstance(document.get("files"), dict):
                    self._old = document["files"]
                    self._loaded_output = self.remembered_output
        except (OSError, ValueError):
            pass

    @classmethod
    def for_app(cls, app_path: Path, output_dir: Path | None = None, *, log: logging.Logger | None = None) -> DigestCache:
        """The cache of the app at ``app_path``."""
        name = hashlib.sha256(os.fsencode(app_path.resolve())).hexdigest()[:32]
        return cls(cache_folder() / "sync" / f"{name}.json", output_dir=output_dir, log=log)

    def get(self, site_path: str, stat: Stat) -> tuple[str, str] | None:
        """``(sha256, md5)`` of the file at ``site_path`` if it is cached with exactly this stat."""
        entry = self._old.get(site_path)
        if entry is None or len(entry) != 7 or tuple(entry[:5]) != stat:
            return None
        self.hits += 1
        self._new[site_path] = entry
        return str(entry[5]), str(entry[6])

    def put(self, site_path: str, stat: Stat, sha256: str, md5: str) -> None:
        """Remember a file's digests (unless it changed too recently to be sure of its stat)."""
        if max(stat[1], stat[2]) >= self.started_ns - RACY_WINDOW_NS:
            return
        self._new[site_path] = [*stat, sha256, md5]

    def save(self, output_relative: str = "") -> None:
        """Write the entries used or made by this scan (and the app's output folder), atomically.

        Not rewritten when it would hold what it held (a no-change rerun reads the cache, never writes it).
        """
        if self.path is None or (self._loaded_output == output_relative and self._new == self._old):
            return
        document = {"format": CACHE_FORMAT, "folder": self.output_dir, "output_dir": output_relative, "files": self._new}
        try:
            atomic_write(self.path, json.dumps(document, separators=(",", ":")), mode=0o600)
        except OSError as error:
            if self.log is not None:
                self.log.debug("digest cache not written (%s)", error)
