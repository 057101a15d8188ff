"""Names of container images: ECR registry hosts, repository names, tags, tag and digest URIs. Pure.

An image is addressed two ways. The **tag form** ``HOST/REPOSITORY:TAG`` follows the tag when it
moves; the **digest form** ``HOST/REPOSITORY@sha256:…`` always means the same bytes. A stack that
pins the digest form (a Lambda ``ImageUri``, an ECS task image) changes exactly when the image does.
"""

from __future__ import annotations

import re

TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""A Docker/ECR image tag: up to 128 characters, letters, digits, ``_ . -``, not starting with ``.`` or ``-``."""

REPOSITORY_PATTERN = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
"""An ECR repository name: lowercase path components separated by ``/`` (ECR's own rule)."""

DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
"""A content digest as registries report it."""

ACCOUNT_PATTERN = re.compile(r"[0-9]{12}")

REGISTRY_HOST_PATTERN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
)
"""A registry as users write it: ``host[:port]`` with an optional path prefix (``ghcr.io/my-org``)."""

CONTENT_TAG_PREFIX = "content-"
"""Tags starting with this record a build's content hash (see :mod:`runway_ext.hooks.docker_build_push.context_hash`)."""

PLATFORM_PATTERN = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
"""A build platform ``os/arch[/variant]`` (``linux/amd64``, ``linux/arm64/v8``)."""

_REGION_PATTERN = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
MAX_REPOSITORY_LENGTH = 256


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid image tag, or ``None`` when it is."""
    if not tag:
        return "an image tag cannot be empty"
    if len(tag) > 128:
        return f"image tag {tag[:20]!r}… is {len(tag)} characters long (at most 128)"
    if not TAG_PATTERN.fullmatch(tag):
        return f"invalid image tag {tag!r} (letters, digits, '_', '.', '-'; must not start with '.' or '-')"
    return None


def repository_problem(name: str) -> str | None:
    """Why ``name`` is not a valid ECR repository name, or ``None`` when it is."""
    if len(name) < 2 or len(name) > MAX_REPOSITORY_LENGTH:
        return f"repository name {name!r} must be 2 to {MAX_REPOSITORY_LENGTH} characters long"
    if not REPOSITORY_PATTERN.fullmatch(name):
        return f"invalid repository name {name!r} (lowercase letters, digits, '.', '_', '-' between them, '/' between path parts)"
    return None


def platform_problem(platform: str) -> str | None:
    """Why ``platform`` is not one ``os/arch[/variant]``, or ``None``."""
    if not PLATFORM_PATTERN.fullmatch(platform):
        return f"invalid platform {platform!r} (one os/arch[/variant], e.g. linux/amd64)"
    return None


def registry_problem(registry: str) -> str | None:
    """Why ``registry`` (``host[:port][/prefix]``) is not usable as an image prefix, or ``None``."""
    if "://" in registry:
        return f"registry {registry!r} must be a host (host[:port][/path]), not a URL"
    if not REGISTRY_HOST_PATTERN.fullmatch(registry):
        return f"invalid registry {registry!r} (expected host[:port][/path])"
    return None


def account_problem(account_id: str) -> str | None:
    """Why ``account_id`` is not an AWS account id (12 digits), or ``None`` when it is."""
    if ACCOUNT_PATTERN.fullmatch(account_id):
        return None
    return f"invalid AWS account id {account_id!r} (12 digits)"


def ecr_registry_host(account_id: str, region: str) -> str:
    """The private ECR registry host of an account in a region (China regions use ``amazonaws.com.cn``)."""
    if not ACCOUNT_PATTERN.fullmatch(account_id):
        raise ValueError(f"invalid AWS account id {account_id!r} (12 digits)")
    if not _REGION_PATTERN.fullmatch(region):
        raise ValueError(f"invalid AWS region {region!r}")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account_id}.dkr.ecr.{region}.{suffix}"


def image_uri(host: str, repository: str, tag: str) -> str:
    """The tag form ``HOST/REPOSITORY:TAG``."""
    return f"{host.rstrip('/')}/{repository}:{tag}"


def digest_uri(host: str, repository: str, digest: str) -> str:
    """The digest form ``HOST/REPOSITORY@sha256:…`` (a Lambda ``ImageUri`` / ECS image that never moves)."""
    if not DIGEST_PATTERN.fullmatch(digest):
        raise ValueError(f"invalid image digest {digest!r} (expected sha256:<64 hex>)")
    return f"{host.rstrip('/')}/{repository}@{digest}"


def split_registry(registry: str) -> tuple[str, str]:
    """Split ``host[:port][/prefix]`` into the host and the repository prefix (``""`` when there is none)."""
    host, _, prefix = registry.strip("/").partition("/")
    return host, prefix


def is_loopback_registry(registry: str) -> bool:
    """Whether a registry lives on this machine (``127.x``, ``localhost``, ``[::1]``): plain HTTP, no login needed."""
    host = split_registry(registry)[0]
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "[::1]") or name.startswith("127.")
