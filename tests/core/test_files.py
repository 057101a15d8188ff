"""Atomic writes and backups."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runway_ext.core import files
from runway_ext.core.files import atomic_write, backup_file


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_creates_parents_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / ".env"
    atomic_write(target, "X=1\n")
    assert target.read_text() == "X=1\n"
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == [".env"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)  # stand-in for a failing rename: cannot provoke one for real
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "NEW=2\n")
    assert target.read_text() == "OLD=1\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def test_backup_is_a_timestamped_private_copy(tmp_path: Path) -> None:
    target = tmp_path / ".env.local"
    target.write_text("A=1\n")
    os.chmod(target, 0o644)
    backup = backup_file(target, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert backup.name == ".env.local.20260102T030405000000Z.bak"
    assert backup.read_text() == "A=1\n"
    assert mode_of(backup) == 0o600
