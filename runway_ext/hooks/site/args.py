"""Arguments and results of the ``site`` commands (``releases``, ``diff``, ``rollback``): one model each.

Each field's docstring is its config.yml documentation and its CLI help; the tables of ``docs/releases.md``
are generated from these models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, computed_field, field_validator, model_validator

from runway_ext.core.args import BucketName, HookArgs, Region
from runway_ext.static_site.layout import normalize_prefix
from runway_ext.static_site.pointer import KeyValueStoreArn
from runway_ext.static_site.records import DEFAULT_KEEP


def _release_id(value: str) -> str:
    text = value.strip()
    digits = text[1:] if text.startswith("r") else text
    if not digits.isdigit() or len(digits) > 12:
        raise ValueError(f"{value!r} is not a release id (r7, or 7)")
    return f"r{int(digits)}"


def _distribution_id(value: str | None) -> str | None:
    from runway_ext.hooks.cloudfront_invalidation.args import DISTRIBUTION_ID

    if value is None:
        return None
    value = value.strip()
    if not DISTRIBUTION_ID.match(value):
        raise ValueError(f"{value!r} is not a CloudFront distribution id (upper-case letters and digits, e.g. E1234567890ABC)")
    return value


class SiteArgs(HookArgs):
    """Where the site is: bucket, prefix, region."""

    bucket_name: BucketName = Field(json_schema_extra={"cli_aliases": ["bucket"]})
    """The site's S3 bucket, as given to npm_build (e.g. ``${output site.BucketName}``; ``bucket`` is accepted too)."""

    prefix: str = ""
    """Key prefix of the site in the bucket, as given to the sync (e.g. ``site/``)."""

    region: Region | None = None
    """AWS region of the bucket (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    @model_validator(mode="before")
    @classmethod
    def _bucket_alias(cls, data: Any) -> Any:
        """``bucket`` (the name these commands used first) is ``bucket_name``; both at once is refused."""
        if isinstance(data, dict) and "bucket" in data:
            if "bucket_name" in data:
                raise ValueError("give bucket_name or bucket (its older name), not both")
            data = {("bucket_name" if key == "bucket" else key): value for key, value in data.items()}
        return data

    @field_validator("prefix")
    @classmethod
    def _valid_prefix(cls, prefix: str) -> str:
        return normalize_prefix(prefix)


class ReleasesArgs(SiteArgs):
    """Arguments of ``site releases``."""


class DiffArgs(SiteArgs):
    """Arguments of ``site diff``."""

    release_a: str
    """The older release (``r3`` or ``3``)."""

    release_b: str
    """The newer release (``r5`` or ``5``)."""

    @field_validator("release_a", "release_b")
    @classmethod
    def _ids(cls, value: str) -> str:
        return _release_id(value)


class RollbackArgs(SiteArgs):
    """Arguments of ``site rollback`` and of its CFNgin hook."""

    to: str | None = None
    """The release to restore (``r3`` or ``3``); default: the one before the newest (``steps: 1``)."""

    steps: int | None = Field(default=None, ge=1)
    """Go back this many releases from the newest (1: the previous one). Give ``to`` or ``steps``, not both."""

    distribution_id: str | None = None
    """CloudFront distribution to invalidate afterwards: exactly the paths that differ (nothing when none is given). Atomic: no invalidation; checked to read its pointer from key_value_store_arn before anything is written."""

    max_invalidation_paths: int = Field(default=100, ge=1, le=3000)
    """Most paths in the invalidation; more differing paths are compacted to ``dir/*`` wildcards that cover them all."""

    wait: bool = False
    """Wait until CloudFront reports the invalidation Completed."""

    timeout: float = Field(default=900, ge=1)
    """Seconds the invalidation may take (retries while CloudFront is busy, and waiting)."""

    keep_releases: int = Field(default=DEFAULT_KEEP, ge=1, le=1000)
    """How many releases to keep (the rollback is one); older ones are dropped with the copies only they needed."""

    lock_timeout: float = Field(default=900, ge=10, le=86400)
    """Seconds after which the site lock of a run that stopped renewing it may be taken over (as the sync's)."""

    break_lock: str | None = Field(default=None, max_length=512)
    """Take over the site lock of a run known to be gone: its owner exactly as the refusal names it (``user@host pid N``)."""

    workers: int = Field(default=16, ge=1, le=128)
    """How many S3 requests run in parallel."""

    dry_run: bool = False
    """Plan only: say what would be restored, re-headed, deleted and invalidated, and write nothing."""

    key_value_store_arn: KeyValueStoreArn | None = None
    """Atomic sites: the KeyValueStore holding the release pointer (as given to npm_build); the rollback is then one pointer write."""

    no_verify: bool = False
    """Atomic sites: switch without first checking (parallel HEADs, S3's CRC64NVME) that the target's objects are still the recorded bytes."""

    take_over: bool = False
    """Atomic sites: replace a pointer this site's runs did not write (changed behind their back) instead of refusing."""

    @field_validator("to")
    @classmethod
    def _to(cls, value: str | None) -> str | None:
        return None if value is None else _release_id(value)

    @field_validator("distribution_id")
    @classmethod
    def _distribution(cls, value: str | None) -> str | None:
        return _distribution_id(value)

    @model_validator(mode="after")
    def _to_or_steps(self) -> RollbackArgs:
        if self.to is not None and self.steps is not None:
            raise ValueError("give either to or steps, not both")
        return self


class SiteResult(BaseModel):
    """Which site a result is about."""

    bucket_name: str
    prefix: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bucket(self) -> str:
        """The bucket again, under the key these results carried first (hook_data ``runway_ext.site_rollback.bucket``)."""
        return self.bucket_name


class ReleaseRow(BaseModel):
    """One release in ``site releases``."""

    id: str
    time: str
    source_hash: str
    files: int
    changed: int | None
    deployed_by: str
    kind: str
    restored_from: str | None = None
    retention: str
    current: bool = False


class ReleasesResult(SiteResult):
    """The site's recorded releases, oldest first (hook_data ``runway_ext.site_releases``)."""

    releases: list[ReleaseRow] = Field(default_factory=list)


class DiffResult(SiteResult):
    """The keys that differ between two releases (hook_data ``runway_ext.site_diff``)."""

    release_a: str
    release_b: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    headers: list[str] = Field(default_factory=list)
    changed_paths: list[str] = Field(default_factory=list)


class RollbackResult(SiteResult):
    """What a rollback did (hook_data ``runway_ext.site_rollback``; with dry_run what it would do)."""

    region: str
    target: str
    """The release restored."""
    previous: str | None = None
    """The newest release before the rollback."""
    release: str | None = None
    """The release the rollback recorded (None: a dry run, or the site already held the target)."""
    dry_run: bool = False
    restored: int = 0
    headers_fixed: int = 0
    deleted: int = 0
    unchanged: int = 0
    changed_paths: list[str] = Field(default_factory=list)
    """Every restored, re-headed or deleted key as a URL path (``/`` + key, not encoded), sorted."""
    left_out: list[str] = Field(default_factory=list)
    """Paths the target's record marks forgotten (``site forget``): left as they are, neither restored nor deleted."""
    invalidation_id: str | None = None
    invalidation_paths: list[str] = Field(default_factory=list)
    layout: str = "in-place"
    """``atomic``: the rollback was one pointer write (no object copied, nothing to invalidate)."""
    verified: int = 0
    """Atomic: objects of the target whose bytes S3's checksum confirmed before the switch."""
    verify_seconds: float | None = None
    switch_seconds: float | None = None
    note: str | None = None
    seconds: float = 0.0


class ForgetArgs(SiteArgs):
    """Arguments of ``site forget`` and of its CFNgin hook."""

    paths: list[str] = Field(min_length=1, max_length=1000)
    """The site paths to forget, as ``site diff`` prints them (``config.json``, ``private/keys.txt``); at least one."""

    distribution_id: str | None = None
    """CloudFront distribution to invalidate the forgotten paths on afterwards (nothing when none is given); on an
    atomic site also the release objects' paths the edge rewrote them to."""

    key_value_store_arn: KeyValueStoreArn | None = None
    """Atomic sites: the KeyValueStore holding the release pointer (as given to npm_build), to know the live release and the previews'."""

    lock_timeout: float = Field(default=900, ge=10, le=86400)
    """Seconds after which the site lock of a run that stopped renewing it may be taken over (as the sync's)."""

    break_lock: str | None = Field(default=None, max_length=512)
    """Take over the site lock of a run known to be gone: its owner exactly as the refusal names it."""

    workers: int = Field(default=16, ge=1, le=128)
    """How many S3 requests run in parallel."""

    @field_validator("paths")
    @classmethod
    def _plain_paths(cls, paths: list[str]) -> list[str]:
        from runway_ext.static_site.containment import path_problem

        cleaned = []
        for path in paths:
            text = path.strip().lstrip("/") if path.strip() != "/" else ""
            problem = path_problem(text)
            if problem:
                raise ValueError(f"{path!r} {problem} (give a site path as site diff prints it, e.g. config.json)")
            cleaned.append(text)
        return sorted(set(cleaned))

    @field_validator("distribution_id")
    @classmethod
    def _distribution(cls, value: str | None) -> str | None:
        return _distribution_id(value)


class ForgetResult(SiteResult):
    """What ``site forget`` purged (hook_data ``runway_ext.site_forget``)."""

    forgotten: list[str] = Field(default_factory=list)
    """The site paths forgotten."""
    purged: list[str] = Field(default_factory=list)
    """Every retained copy, object version and atomic release object deleted (keys, with the version id)."""
    kept: dict[str, list[str]] = Field(default_factory=dict)
    """Contents of those paths the live release (or a preview's) still serves under other paths (sha256 → those paths): kept."""
    records: list[str] = Field(default_factory=list)
    """The release records rewritten (their entries for those contents now marked forgotten)."""
    invalidation_id: str | None = None
    invalidation_paths: list[str] = Field(default_factory=list)
