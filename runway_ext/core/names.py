"""Naming rules AWS enforces, checked before anything is sent: one copy each, used by hooks and blueprints."""

from __future__ import annotations

import ipaddress
import re

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name (general purpose bucket rules), or ``None``."""
    if not _BUCKET_NAME.fullmatch(name):
        return f"invalid bucket name {name!r} (3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)"
    if ".." in name or ".-" in name or "-." in name:
        return f"invalid bucket name {name!r} (no '..', '.-' or '-.')"
    if name.startswith(_BUCKET_PREFIXES) or name.endswith(_BUCKET_SUFFIXES):
        return f"invalid bucket name {name!r} (reserved prefix or suffix)"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return f"invalid bucket name {name!r} (must not look like an IP address)"


def region_problem(region: str) -> str | None:
    """Why ``region`` is not an AWS region name (``eu-west-1``), or ``None``."""
    if _REGION.fullmatch(region):
        return None
    return f"invalid region {region!r} (expected a name like us-east-1)"
