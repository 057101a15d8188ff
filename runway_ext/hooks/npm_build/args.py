"""The npm_build hook's arguments and result (one model each: the config.yml args and the CLI flags).

Each field's docstring is its documentation and its ``--help`` text; the argument table of
``docs/hooks/npm_build.md`` is generated from :class:`NpmBuildArgs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runway_ext.core.args import BucketName, EnvironmentName, HookArgs, Region
from runway_ext.static_site.atomic import normalize_shared
from runway_ext.static_site.headers import CacheRule, CacheRuleError, compile_glob
from runway_ext.static_site.layout import key_problem, normalize_prefix
from runway_ext.static_site.pointer import KeyValueStoreArn


class CacheRuleArg(BaseModel):
    """A cache rule from config.yml: files matching ``pattern`` get ``cache_control`` (and ``content_type``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    pattern: str
    """Glob over the site path: ``*.html`` (any depth), ``_next/static/**``, ``*.[hash].js``, ``{a,b}``."""

    cache_control: str = Field(min_length=1)
    """The Cache-Control header, e.g. ``public, max-age=31536000, immutable``."""

    content_type: str | None = None
    """Override the Content-Type guessed from the extension (e.g. for extensionless pages)."""

    @field_validator("pattern")
    @classmethod
    def _valid_glob(cls, pattern: str) -> str:
        try:
            compile_glob(pattern)
        except CacheRuleError as error:
            raise ValueError(str(error)) from None
        return pattern

    def to_rule(self) -> CacheRule:
        """The planner's rule."""
        return CacheRule(self.pattern, self.cache_control, self.content_type)


class NpmBuildArgs(HookArgs):
    """Arguments of the npm build + S3 sync hook."""

    bucket_name: BucketName
    """The S3 bucket to sync the build output to (e.g. ``${output site.BucketName}``)."""

    app_path: Path = Path("./app")
    """Folder of the app (holds package.json), relative to the working directory."""

    environment: EnvironmentName = "dev"
    """Deploy environment: ``.env.<environment>`` in the app is copied to ``.env.local`` before building."""

    output_dir: Path | None = None
    """Build output folder inside the app (relative to app_path); default: the build tool's (Next.js ``out``, Vite ``dist``, CRA ``build`` …), else the one of out/build/dist the build wrote."""

    build: bool = True
    """Run npm install (when node_modules is missing) and ``npm run build``; false syncs the output folder as it is."""

    build_env: list[str] = []  # a plain default (pydantic copies it), so the CLI help can show it
    """Names of further environment variables the build's output depends on (besides NEXT_PUBLIC_*, VITE_*, REACT_APP_* …, NODE_ENV): a change rebuilds."""

    force: bool = False
    """Build and compare even when the bucket provably holds the build of these sources."""

    follow_links: bool = False
    """Publish what links in the output folder point to even when it lies outside the folder (default: refuse such a link)."""

    delete: bool = True
    """In-place: delete what this site published (a recorded release wrote it) and the build no longer has: pages at once, other files once out of the build for more than keep_releases releases and keep_days days; objects nobody recorded are never deleted (false: keep everything)."""

    max_delete: int = Field(default=256, ge=0)
    """Refuse the whole sync (nothing changed) if it would delete more objects than this."""

    max_delete_fraction: float = Field(default=0.5, ge=0, le=1)
    """Refuse the whole sync if it would delete more than this share of the site's objects (sites of 10 objects or more); 1 turns it off."""

    allow_no_pages: bool = False
    """Sync a build without any .html page although the site has pages (default: refuse, it looks like a broken build)."""

    lock_timeout: float = Field(default=900, ge=10, le=86400)
    """Seconds after which the lock of a deploy that stopped renewing it (killed on another machine) may be taken over."""

    lock_wait: float = Field(default=600, ge=0, le=86400)
    """Atomic releases: seconds a live deploy waits for a preview's deploy holding the site to finish (and a preview deploy for the live site's runs and other previews'), instead of refusing; 0 refuses at once. Two runs of one kind never wait: one wins."""

    break_lock: str | None = Field(default=None, max_length=512)
    """Take over the site lock of a run known to be gone: its owner exactly as the refusal names it (``user@host pid N``)."""

    dry_run: bool = False
    """Build and plan, log every planned change, but write nothing to the bucket."""

    keep_releases: int = Field(default=10, ge=0, le=1000)
    """Every sync that writes records a release (``runway-ext site releases``/``rollback``); keep the last this many (0: record none, and no skew window for deletes)."""

    cache_rules: list[CacheRuleArg] = []  # a plain default (pydantic copies it), so the CLI help can show it
    """Cache-Control rules tried before the defaults, first match wins: a list of {pattern, cache_control, content_type}."""

    prefix: str = ""
    """Key prefix in the bucket to sync under (e.g. ``site/``); objects outside it are never touched."""

    require_env_file: bool = False
    """Fail when ``.env.<environment>`` is missing (default: log a notice and build without it)."""

    build_timeout: float = Field(default=900, gt=0)
    """Seconds each npm step (install, build) may take before it is stopped."""

    workers: int = Field(default=16, ge=1, le=128)
    """How many S3 requests run in parallel."""

    region: Region | None = None
    """AWS region of the bucket (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    key_value_store_arn: KeyValueStoreArn | None = None
    """Deploy as an atomic release: the CloudFront KeyValueStore holding the site's release pointer (e.g. ``${output site.KeyValueStoreArn}``); unset: the in-place layout."""

    shared_prefixes: list[str] = []  # a plain default (pydantic copies it), so the CLI help can show it
    """Atomic releases: folders of content-hashed files stored once for every release (e.g. ``_next/static/``, ``assets/``); their files must never change bytes."""

    keep_days: float = Field(default=7, ge=0)
    """The skew window: a file that left the build (in-place; pages excepted) or a release no longer live (atomic) is deleted only once it is both more than keep_releases releases back and more than this many days out."""

    error_pages: list[str] = ["404.html"]  # a plain default (pydantic copies it), so the CLI help can show it
    """Atomic releases: pages CloudFront fetches without the release router (NotFoundPage; ``index.html`` for an SPA fallback), copied from the live release to their plain keys at each switch."""

    take_over: bool = False
    """Atomic releases: replace a pointer this site's deploys did not write (changed behind their back) instead of refusing."""

    preview: str | None = None
    """Atomic releases: deploy as the preview of this name (a DNS label: lowercase letters, digits, ``-``, at most 40 characters) at its own pointer key; the live site is untouched."""

    preview_domain: str | None = None
    """Previews: the domain previews are served under (the CDN's ``PreviewDomain``, e.g. ``preview.example.com``), so the result names the preview's URL."""

    site_url: str | None = None
    """Atomic releases: the URL viewers use (e.g. ``https://${output site.DistributionDomainName}/``); after the switch the hook polls it until its ``x-runway-ext-release`` header names the new release and reports the time to served (local mode: the local edge of a ``runway-ext local serve``)."""

    served_timeout: float = Field(default=120, gt=0)
    """Atomic releases: seconds to poll site_url for the new release before reporting it not served yet (the switch stands either way)."""

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, url: str | None) -> str | None:
        from runway_ext.static_site.served import site_url_problem

        if url is not None and (problem := site_url_problem(url)):
            raise ValueError(problem)
        return url

    @field_validator("preview")
    @classmethod
    def _preview(cls, name: str | None) -> str | None:
        from runway_ext.static_site.kvs import preview_name_problem

        if name is not None and (problem := preview_name_problem(name)):
            raise ValueError(problem)
        return name

    @field_validator("shared_prefixes")
    @classmethod
    def _shared(cls, prefixes: list[str]) -> list[str]:
        return list(normalize_shared(prefixes))

    @field_validator("error_pages")
    @classmethod
    def _error_pages(cls, pages: list[str]) -> list[str]:
        for page in pages:
            problem = key_problem(page.lstrip("/"))
            if problem:
                raise ValueError(problem)
        return [page.lstrip("/") for page in pages]

    @field_validator("build_env")
    @classmethod
    def _build_env(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name or "=" in name or "\0" in name:
                raise ValueError(f"{name!r} is not an environment variable name")
        return names

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return normalize_prefix(prefix)

    def rules(self) -> list[CacheRule]:
        """The cache rules as the planner takes them (tried before the defaults)."""
        return [rule.to_rule() for rule in self.cache_rules]


class NpmBuildResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.npm_build``; with dry_run the counts are what it would do)."""

    bucket_name: str
    prefix: str
    environment: str
    region: str
    source_hash: str
    skipped: bool
    built: bool
    dry_run: bool
    output_dir: str | None = None
    uploaded: int = 0
    metadata_updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    bytes_uploaded: int = 0
    changed_paths: list[str] = Field(default_factory=list)
    """In-place: the keys written or deleted, as URL paths (the CloudFront invalidation hook's input). Atomic: the
    paths that differ from the release live before (for information: nothing needs invalidating)."""
    layout: Literal["in-place", "atomic"] = "in-place"
    """``atomic``: the site switched by its pointer; the invalidation hook has nothing to do for it."""
    release: str | None = None
    """The release recorded (or, atomic, made live)."""
    copied: int = 0
    """Atomic: unchanged objects copied server side from an earlier release's folder."""
    switch_seconds: float | None = None
    """Atomic: seconds the pointer write and its read-back took (None: no switch)."""
    site_url: str | None = None
    """Atomic: the site_url polled for the new release."""
    served_seconds: float | None = None
    """Atomic with site_url: seconds until site_url answered with the new release (None: not measured or not within served_timeout)."""
    pruned: list[str] = Field(default_factory=list)
    drift: list[str] = Field(default_factory=list)
    preview: str | None = None
    """Previews: the preview deployed (the live site was not switched)."""
    preview_url: str | None = None
    """Previews: ``https://NAME.<preview_domain>/`` (None without preview_domain)."""
    seconds: float = 0.0
