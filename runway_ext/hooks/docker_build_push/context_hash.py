"""The content hash of a Docker build: what decides whether building again could give a different image.

Contract: :func:`hash_build` only reads the files it is given (the context, the Dockerfile, the ignore
file); it writes nothing and runs nothing.

It covers everything the builder is given:

* the files of the build context **as the ignore file filters them** — the same file set
  ``docker build``/``buildx`` sends (path, bytes, executable bit; symbolic links by their target;
  folders, so an empty one counts too). The ignore file is ``<Dockerfile>.dockerignore`` beside the
  Dockerfile when it exists, else ``.dockerignore`` at the context root, as BuildKit chooses;
* the Dockerfile's bytes (wherever it lives), the build args, the target stage and the platform — or,
  for a multi-platform build, the sorted set of platforms (one image index);
* the ids of the build secrets — and, only when asked (``secrets_affect_hash``), a fingerprint of each
  secret's value. A fingerprint (:func:`secret_fingerprint`) is a slow salted digest (PBKDF2-HMAC-SHA256,
  200,000 rounds, salted with the hash scheme and the secret id), so neither the hash document nor the
  content tag contains a value, and guessing a short one from a tag is made costly. Values of build args
  that look secret (accepted with ``allow_secret_build_args``) enter the hash the same way.

Modification times, owners and permission bits other than "executable" never count, so a fresh
checkout of the same commit hashes the same. ``cache_from``/``no_cache`` and the tags do not change
what is built and are left out.

Pattern semantics come from the ``docker`` SDK's ``.dockerignore`` matcher (``*``, ``?``, ``[…]``,
``**``, ``!`` exceptions, last match wins, a folder excluded with all it holds unless an exception
reaches inside), with one correction: matching is **case-sensitive**, as Docker's own matcher is on
Linux (the SDK lower-cases both sides, which would leave ``README.md`` out of the hash for a
``readme.md`` pattern while the builder still sends it).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from runway_ext.core.hashing import file_sha256
from runway_ext.core.image_refs import CONTENT_TAG_PREFIX

HASH_SCHEME = "runway-ext/docker-context/1"
"""Changes whenever the hashing rules change, so an old tag never matches a new rule's hash."""

CONTENT_TAG_HEX_LENGTH = 32
SECRET_FINGERPRINT_ROUNDS = 200_000


def secret_fingerprint(secret_id: str, value: bytes) -> str:
    """A digest of a secret's value that reveals nothing usable about it (salted, slow); what the hash records."""
    salt = f"{HASH_SCHEME}/secret/{secret_id}".encode()
    return "pbkdf2-sha256:" + hashlib.pbkdf2_hmac("sha256", value, salt, SECRET_FINGERPRINT_ROUNDS).hex()


@lru_cache(maxsize=1)
def dockerignore_matcher_class() -> type[Any]:
    """The SDK's ``PatternMatcher`` walk and parent-folder rules over case-sensitive patterns (made on first use).

    Unlike the SDK's own matcher it does not force ``.dockerignore`` back in: BuildKit sends what the
    patterns leave, nothing more. The docker SDK is imported here, not with this module, so the hook's
    ``--help`` and argument errors never load it.
    """
    from docker.utils import build as sdk_build
    from docker.utils.fnmatch import fnmatchcase

    class CaseSensitivePattern(sdk_build.Pattern):
        """The SDK's ``.dockerignore`` pattern, matched case-sensitively (as Docker does on Linux)."""

        def match(self, filepath: str) -> bool:
            return bool(fnmatchcase(sdk_build.normalize_slashes(filepath), self.cleaned_pattern))

    class DockerignoreMatcher(sdk_build.PatternMatcher):
        def __init__(self, patterns: Sequence[str]) -> None:
            self.patterns = [pattern for pattern in map(CaseSensitivePattern, patterns) if pattern.dirs]

    return DockerignoreMatcher


def parse_ignore_file(text: str) -> list[str]:
    """The patterns of an ignore file: one per line, blank lines and ``#`` comments skipped, trimmed."""
    patterns = []
    for line in text.splitlines():
        pattern = line.strip()
        if pattern and not pattern.startswith("#"):
            patterns.append(pattern)
    return patterns


def ignore_file_for(context_dir: Path, dockerfile: Path) -> Path | None:
    """The ignore file the builder uses: ``<Dockerfile>.dockerignore`` first, else ``<context>/.dockerignore``."""
    specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if specific.is_file():
        return specific
    general = context_dir / ".dockerignore"
    return general if general.is_file() else None


def context_paths(context_dir: Path, patterns: Sequence[str]) -> list[str]:
    """Every path of the context the builder would send (posix, relative, sorted), parents implied."""
    matcher = dockerignore_matcher_class()(patterns)
    paths = {_posix(path) for path in matcher.walk(str(context_dir))}
    return sorted(paths)


@dataclass(frozen=True)
class BuildInputs:
    """What goes into one build; ``dockerfile`` and ``context_dir`` are real paths on disk."""

    context_dir: Path
    dockerfile: Path
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    platform: str = "linux/amd64"
    platforms: Sequence[str] = ()
    """Two or more platforms (one image index); empty for a one-platform build (``platform``)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret id -> ``""`` (only the id counts) or its :func:`secret_fingerprint`; never a value."""


@dataclass(frozen=True)
class ContextHash:
    """The hash of a build, and how many context entries it covered."""

    hexdigest: str
    entries: int
    ignore_file: Path | None
    paths: tuple[str, ...] = field(default=(), repr=False)
    """Every context path the builder sends (posix, relative, sorted): what the secret check reads."""

    @property
    def tag(self) -> str:
        """The image tag that records this hash (``content-`` + 32 hex digits)."""
        return content_tag(self.hexdigest)


def content_tag(hexdigest: str) -> str:
    """The tag form of a content hash: ``content-`` and its first 32 hex digits (128 bits)."""
    return CONTENT_TAG_PREFIX + hexdigest[:CONTENT_TAG_HEX_LENGTH]


def hash_build(inputs: BuildInputs) -> ContextHash:
    """Hash the context files (as the ignore file filters them), the Dockerfile, build args, target, platform, secret ids."""
    ignore_file = ignore_file_for(inputs.context_dir, inputs.dockerfile)
    patterns = parse_ignore_file(ignore_file.read_text(encoding="utf-8")) if ignore_file else []
    paths = context_paths(inputs.context_dir, patterns)
    entries = list(_describe_entries(inputs.context_dir, paths))
    document: dict[str, Any] = {
        "scheme": HASH_SCHEME,
        "dockerfile": file_sha256(inputs.dockerfile),
        "build_args": sorted([name, str(value)] for name, value in inputs.build_args.items()),
        "target": inputs.target or "",
        "platform": inputs.platform,
        "context": entries,
    }
    if len(inputs.platforms) > 1:  # the set of platforms, one index: never the hash of a one-platform build
        document["platform"] = ""
        document["platforms"] = sorted(inputs.platforms)
    if inputs.secrets:  # absent without secrets, so builds without them keep their earlier hashes
        document["secrets"] = sorted([secret_id, fingerprint] for secret_id, fingerprint in inputs.secrets.items())
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return ContextHash(hexdigest=digest, entries=len(entries), ignore_file=ignore_file, paths=tuple(paths))


def _describe_entries(root: Path, relative_paths: Sequence[str]) -> Iterator[list[str]]:
    """``[kind, path, detail]`` per entry: ``f`` file (sha256, ``x`` if executable), ``l`` link, ``d`` folder."""
    for relative in relative_paths:
        path = root / relative
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            yield ["l", relative, os.readlink(path)]
        elif stat.S_ISDIR(info.st_mode):
            yield ["d", relative, ""]
        elif stat.S_ISREG(info.st_mode):
            executable = "x" if info.st_mode & 0o111 else ""
            yield ["f", relative, file_sha256(path) + executable]
        # sockets, fifos and devices are not sent by the builder either


def _posix(relative: str) -> str:
    return relative.replace(os.sep, "/") if os.sep != "/" else relative
