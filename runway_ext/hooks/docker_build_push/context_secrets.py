"""Files of a build context that would carry secrets into the image, found before docker runs.

Contract: :func:`scan_context` reads (at most :data:`MAX_SCANNED_BYTES` of) each regular file of the
context the builder would send — the very list the content hash covers, so a file left out by the
ignore file is never reported — and writes nothing. The rules are the shared secret rules
(:func:`runway_ext.core.log.secret_file_reason`): env files with secret values, ``.npmrc``/``.pypirc``/
``.netrc`` with tokens, a ``.git/config`` with credentials in a remote URL, private keys, cloud and
registry credential files. Templates such as ``.env.example`` pass. A ``.git/`` folder without
credentials is a warning, not a refusal. A file matching one of ``allow_context_files`` (a path
relative to the context, a folder, or a glob) passes. Each refusal names the file and the ignore-file
line that leaves it out; no line ever quotes a value.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runway_ext.core.log import secret_file_reason

MAX_SCANNED_BYTES = 1024 * 1024
"""Larger files are not read (a key or credential file is small; a larger one is data)."""


@dataclass(frozen=True)
class SecretFile:
    """A context file that holds a secret, why, and the ignore-file line that leaves it out."""

    path: str
    reason: str
    ignore_line: str


@dataclass(frozen=True)
class ContextScan:
    """What the check found: files to refuse, and warnings."""

    refused: tuple[SecretFile, ...] = ()
    warnings: tuple[str, ...] = ()


def allowed(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` is listed in ``allow_context_files`` (exact path, a folder holding it, or a glob)."""
    for pattern in patterns:
        pattern = pattern.strip().strip("/")
        if path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern):
            return True
    return False


def ignore_line_for(path: str) -> str:
    """The ignore-file line that leaves ``path`` out (the whole ``.git`` folder for anything under it)."""
    if path == ".git" or path.startswith(".git/"):
        return ".git"
    return path


def _read_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.is_symlink():
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_SCANNED_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_SCANNED_BYTES or b"\x00" in data:
        return None
    return data.decode("utf-8", "replace")


def scan_context(context_dir: Path, paths: Sequence[str], allow: Sequence[str] = ()) -> ContextScan:
    """Check every file the builder would send; see the module docstring."""
    refused: list[SecretFile] = []
    warnings: list[str] = []
    for relative in paths:
        if allowed(relative, allow):
            continue
        text = _read_text(context_dir / relative)
        if text is None:
            continue
        reason = secret_file_reason(relative, text)
        if reason:
            refused.append(SecretFile(relative, reason, ignore_line_for(relative)))
    git_sent = any(path == ".git" or path.startswith(".git/") for path in paths)
    if git_sent and not allowed(".git", allow) and not any(item.ignore_line == ".git" for item in refused):
        warnings.append(".git/ is in the build context (history and remotes reach the image with COPY . .): add .git to the ignore file")
    return ContextScan(tuple(refused), tuple(warnings))


def refusal_lines(scan: ContextScan, ignore_file: Path | None, context_dir: Path) -> list[str]:
    """One line per refused file: the file, why, and the ignore-file line that fixes it."""
    where = str(ignore_file) if ignore_file is not None else str(context_dir / ".dockerignore")
    return [
        f"build_context: {item.path} {item.reason} and would be copied into the image: "
        f"add the line '{item.ignore_line}' to {where} (or list it in allow_context_files)"
        for item in scan.refused
    ]
