"""Arguments and result of the ``cloudfront_invalidation`` hook.

Each field's docstring is its config.yml documentation and its CLI help. Paths are checked here
(a ``*`` before the end is one line naming ``paths``); what is sent is decided in :mod:`.plan`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from runway_ext.core.args import HookArgs
from runway_ext.hooks.cloudfront_invalidation.plan import DEFAULT_MAX_PATHS, MAX_FILE_PATHS, InvalidPath, normalize_path

DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,64}$")
"""What a CloudFront distribution id looks like."""


class CloudFrontInvalidationArgs(HookArgs):
    """Arguments of the CloudFront invalidation hook."""

    distribution_id: str
    """Id of the CloudFront distribution (e.g. E1234567890ABC), typically ${output <stack>.DistributionId}."""

    paths: list[str] = ["/*"]
    """Paths to invalidate: '/about/index.html', 'about/index.html', '/assets/*' ('*' only at the end). Not URL-encoded; the hook encodes what CloudFront needs."""

    wait: bool = False
    """Wait until CloudFront reports the invalidation Completed."""

    timeout: int = Field(default=900, ge=1)
    """Seconds for the whole hook: retrying a busy or throttled API and waiting for completion."""

    max_paths: int = Field(default=DEFAULT_MAX_PATHS, ge=1, le=MAX_FILE_PATHS)
    """Most paths sent in one invalidation; longer lists are compacted to 'dir/*' wildcards, else '/*'. Each path is billed after the first 1,000 a month."""

    paths_from_hook_data: str | None = None
    """Dotted hook_data key holding a list of changed paths (e.g. runway_ext.npm_build.changed_paths: object keys with a leading '/', not encoded). An empty list skips the invalidation, and so does a result whose layout is 'atomic' (each release has its own cache keys). Replaces paths."""

    run_token: str | None = None
    """Part of the CallerReference: give the same token (e.g. a CI run id) to make a re-run of the same deploy reuse its invalidation instead of creating another. Default: a new token per hook run."""

    dry_run: bool = False
    """Plan only: log the paths that would be invalidated and call no AWS API."""

    @field_validator("distribution_id")
    @classmethod
    def _distribution_id_shape(cls, value: str) -> str:
        value = value.strip()
        if not DISTRIBUTION_ID.match(value):
            raise ValueError(f"{value!r} is not a CloudFront distribution id (upper-case letters and digits, e.g. E1234567890ABC)")
        return value

    @field_validator("paths")
    @classmethod
    def _paths_are_valid(cls, paths: list[str]) -> list[str]:
        if not paths:
            raise ValueError("at least one path is required (use paths_from_hook_data for a list that may be empty)")
        for path in paths:
            try:
                normalize_path(path)
            except InvalidPath as error:
                raise ValueError(str(error)) from None
        return paths

    @field_validator("paths_from_hook_data")
    @classmethod
    def _dotted_key(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(not part for part in value.strip().split("."))):
            raise ValueError(f"{value!r} is not a dotted hook_data key such as runway_ext.npm_build.changed_paths")
        return value.strip() if value is not None else None

    @model_validator(mode="before")
    @classmethod
    def _one_source_of_paths(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("paths_from_hook_data") is not None and "paths" in data:
            raise ValueError("give either paths or paths_from_hook_data, not both")
        return data


class InvalidationResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.cloudfront_invalidation`` and the CLI's ``--json``)."""

    distribution_id: str
    invalidation_id: str | None = None
    """Id of the invalidation created (None when skipped or a dry run)."""
    paths: list[str]
    """The paths sent to CloudFront (after normalising and compaction)."""
    status: str
    """``InProgress`` or ``Completed`` (AWS spelling), ``skipped`` or ``dry-run``."""
    skipped: bool = False
    """True when there was nothing to invalidate (an empty changed-path list, or an atomic release)."""
    release: str | None = None
    """The release an atomic deploy made live (``paths_from_hook_data`` pointed into a result whose ``layout`` is ``atomic``): its pages have their own cache keys, so nothing was invalidated."""
    dry_run: bool = False
    requested_paths: int = 0
    """How many paths were asked for, before normalising and compaction."""
    compacted: bool = False
    """Whether the requested paths were compacted into wildcards."""
    caller_reference: str | None = None
