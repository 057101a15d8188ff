"""The npm_build hook's arguments and result (one model each: the config.yml args and the CLI flags).

Each field's docstring is its documentation and its ``--help`` text; the argument table of
``docs/hooks/npm_build.md`` is generated from :class:`NpmBuildArgs`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runway_ext.core.args import EnvironmentName, HookArgs
from runway_ext.core.names import bucket_name_problem, region_problem

from .headers import CacheRule, CacheRuleError, compile_glob
from .plan import normalize_prefix


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

    bucket_name: str
    """The S3 bucket to sync the build output to (e.g. ``${output site.BucketName}``)."""

    app_path: Path = Path("./app")
    """Folder of the app (holds package.json), relative to the working directory."""

    environment: EnvironmentName = "dev"
    """Deploy environment: ``.env.<environment>`` in the app is copied to ``.env.local`` before building."""

    output_dir: Path | None = None
    """Build output folder, relative to app_path; default: ``out`` for Next.js, else whichever of out/build/dist the build wrote."""

    build: bool = True
    """Run npm install (when node_modules is missing) and ``npm run build``; false syncs the output folder as it is."""

    force: bool = False
    """Build and compare every object even when the bucket already holds a build of these sources."""

    delete: bool = False
    """Delete objects under the prefix that the build no longer has."""

    max_delete: int = Field(default=256, ge=0)
    """Refuse the whole sync (nothing changed) if it would delete more objects than this."""

    dry_run: bool = False
    """Build and plan, log every planned change, but write nothing to the bucket."""

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

    region: str | None = None
    """AWS region of the bucket (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, name: str) -> str:
        problem = bucket_name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return normalize_prefix(prefix)

    @field_validator("region")
    @classmethod
    def _region(cls, region: str | None) -> str | None:
        problem = region_problem(region) if region else None
        if problem:
            raise ValueError(problem)
        return region or None

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
    seconds: float = 0.0
