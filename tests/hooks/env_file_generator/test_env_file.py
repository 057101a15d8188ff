"""Reading the current .env file and writing the new one: atomically, 0600, with an optional backup."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.env_file_generator.env_file import FILE_MODE, read_existing, write_env_file


def test_read_existing(tmp_path: Path) -> None:
    assert read_existing(tmp_path / "absent.env") is None
    (tmp_path / ".env").write_text("A='1'\n", encoding="utf-8")
    assert read_existing(tmp_path / ".env") == "A='1'\n"


def test_an_unreadable_file_is_an_error_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(HookError, match=r"^output_file: cannot read existing .*\.env: "):
        read_existing(tmp_path / ".env")


def test_write_creates_folders_and_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "app" / ".env.local"
    assert write_env_file(target, "A='1'\n", backup=False) is None
    assert target.read_text() == "A='1'\n"
    assert stat.S_IMODE(target.stat().st_mode) == FILE_MODE == 0o600


def test_write_with_backup_keeps_the_old_version_beside_it(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")
    target.chmod(0o644)
    backup = write_env_file(target, "NEW='2'\n", backup=True)
    assert backup is not None and backup.parent == tmp_path
    assert backup.name.startswith(".env.") and backup.name.endswith(".bak")
    assert (backup.read_text(), target.read_text()) == ("OLD=1\n", "NEW='2'\n")
    assert stat.S_IMODE(backup.stat().st_mode) == stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))
