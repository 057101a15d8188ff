"""Writing files so that a crash leaves either the old or the new version, never a partial one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with permission ``mode``.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
    file then replaces ``path`` in one ``os.replace``; the folder entry is synced as well.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def backup_file(path: Path, *, mode: int = 0o600, now: datetime | None = None) -> Path:
    """Copy ``path`` beside itself as ``<name>.<UTC timestamp>.bak`` (atomically) and return the copy's path."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    atomic_write(backup, path.read_bytes(), mode=mode)
    return backup


def _sync_folder(folder: Path) -> None:
    """Flush a folder entry to disk so a rename survives a power cut (best effort)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
