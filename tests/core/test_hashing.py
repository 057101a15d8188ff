"""The one file hasher: one read, several digests, large files in chunks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from runway_ext.core.hashing import CHUNK_SIZE, file_sha256, hash_file


def test_digests_match_hashlib_across_chunk_boundaries(tmp_path: Path) -> None:
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 7)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    size, (sha256, md5) = hash_file(path, "sha256", "md5")
    assert size == len(data)
    assert sha256 == hashlib.sha256(data).hexdigest() == file_sha256(path)
    assert md5 == hashlib.md5(data).hexdigest()


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hash_file(path) == (0, [hashlib.sha256(b"").hexdigest()])
