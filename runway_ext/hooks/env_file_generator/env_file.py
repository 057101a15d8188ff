"""Reading the .env file that is there and writing the new one: atomically, mode 0600, backed up first."""

from __future__ import annotations

from pathlib import Path

from runway_ext.core.errors import HookError
from runway_ext.core.files import atomic_write, backup_file

FILE_MODE = 0o600
"""Permissions of the written file and of its backup: readable by its owner only."""


def read_existing(path: Path) -> str | None:
    """The file's text, or ``None`` when there is no file; an unreadable file is a :class:`HookError`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, OSError) as error:
        raise HookError(f"output_file: cannot read existing {path}: {error}") from None


def write_env_file(path: Path, content: str, *, backup: bool) -> Path | None:
    """Write ``content`` to ``path`` atomically (0600), copying the current file aside first if ``backup``.

    Returns the backup's path, or ``None`` when none was made.
    """
    copy = backup_file(path, mode=FILE_MODE) if backup else None
    atomic_write(path, content, mode=FILE_MODE)
    return copy
