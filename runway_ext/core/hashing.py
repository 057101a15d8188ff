"""Content hashes of files, read once in fixed-size chunks (the one place the package hashes a file)."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_SIZE = 1 << 20
"""Bytes read at a time: large files never sit in memory whole."""


def hash_file(path: Path, *algorithms: str) -> tuple[int, list[str]]:
    """``(size, [hex digest per algorithm])`` of a file, reading it once (``"sha256"``, ``"md5"``, …).

    MD5 is computed with ``usedforsecurity=False``: it only ever matches S3 ETags.
    """
    digests = [hashlib.new(name, usedforsecurity=name != "md5") for name in algorithms or ("sha256",)]
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            size += len(chunk)
            for digest in digests:
                digest.update(chunk)
    return size, [digest.hexdigest() for digest in digests]


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    return hash_file(path, "sha256")[1][0]
