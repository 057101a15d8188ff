"""What the local console shows, read from the stand-in, the local registry and the run journals.

:func:`gather` returns one :class:`ConsoleState`: every stack with its status and outputs, every CloudFront
distribution with the URL the local edge serves it at, its recent invalidations and its site's releases, the
images of the local registry next to what the stand-in's ECR recorded for them (with the value
``${ecr_image REPO::tag=TAG}`` resolves to), and the hook runs of each journal.

Everything read back is input from someone else: registry answers and journal lines are validated (pydantic)
and bounded; a part that cannot be read becomes one ``problems`` line of its section, never an exception.
Values are not redacted here; :mod:`runway_ext.local.console_page` redacts everything it renders.
"""

from __future__ import annotations

import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from runway_ext.core.image_refs import DIGEST_PATTERN, REPOSITORY_PATTERN, TAG_PATTERN, digest_uri, ecr_registry_host, is_loopback_registry
from runway_ext.core.log import get_logger
from runway_ext.local.console_releases import ReleaseView, site_releases
from runway_ext.local.moto_server import DUMMY_CREDENTIALS

LOG = get_logger("runway_ext.local.console")
MAX_INVALIDATIONS = 10
"""Invalidations shown per distribution (the newest)."""
MAX_REPOSITORIES = 100
MAX_TAGS = 100
MAX_JOURNAL_BYTES = 5_000_000
"""A journal larger than this is read from its last bytes only."""
MAX_RUNS = 20
"""Journals (runs) shown, the newest first."""
REGISTRY_TIMEOUT = 3.0
"""Seconds per registry request."""
REGISTRY_BUDGET_SECONDS = 5.0
MAX_REGISTRY_IMAGES = 300
"""A read of the registry stops after this many seconds or tags (and says so)."""
_MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_RUN_NAME = re.compile(r"^(?P<time>\d{8}T\d{6}(?:\.\d+)?Z)-(?P<action>[a-z]+)-(?P<pid>\d+)\.jsonl$")


@dataclass(frozen=True)
class StackView:
    """A stack: name, status (and its reason when it failed), outputs by key."""

    name: str
    status: str
    reason: str
    outputs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class InvalidationView:
    """One invalidation of a distribution."""

    id: str
    status: str
    created: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class SiteView:
    """A distribution, where the local edge serves it, its invalidations and its site's releases."""

    distribution_id: str
    comment: str
    url: str | None
    bucket: str | None
    prefix: str
    invalidations: tuple[InvalidationView, ...] = ()
    releases: tuple[ReleaseView, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageView:
    """One ``repository:tag``: its digest in the local registry and in the stand-in's ECR records."""

    repository: str
    tag: str
    registry_digest: str | None
    ecr_digest: str | None
    lookup: str
    """``${ecr_image REPO::tag=TAG}`` as a config would write it."""
    resolves_to: str | None
    """What that lookup returns (the digest URI ECR records), ``None`` when ECR has no such tag."""


@dataclass(frozen=True)
class HookRun:
    """One journal line: a hook's result or its error."""

    hook: str
    ok: bool
    result: dict[str, Any]
    error: str


@dataclass(frozen=True)
class RunView:
    """The hook runs of one ``deploy``/``destroy`` (one journal file)."""

    name: str
    action: str
    started: str
    running: bool
    hooks: tuple[HookRun, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsoleState:
    """Everything one console page shows."""

    endpoint: str
    registry: str | None
    taken_at: float
    stacks: tuple[StackView, ...] = ()
    sites: tuple[SiteView, ...] = ()
    images: tuple[ImageView, ...] = ()
    runs: tuple[RunView, ...] = ()
    problems: dict[str, list[str]] = field(default_factory=dict)
    """One line per section part that could not be read: ``{"stacks": [...], "images": [...], ...}``."""


class _JournalLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hook: str
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None


class _Catalog(BaseModel):
    repositories: list[str] | None = None


class _TagList(BaseModel):
    name: str = ""
    tags: list[str] | None = None


def clients(endpoint: str) -> dict[str, Any]:
    """boto3 clients on the stand-in (cloudformation, cloudfront, ecr, s3 path-style), bounded retries, no proxy."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, proxies={}, connect_timeout=3, read_timeout=10)
    return {name: session.client(name, endpoint_url=endpoint, config=config) for name in ("cloudformation", "cloudfront", "ecr", "s3")}


def gather(
    endpoint: str,
    aws: dict[str, Any],
    *,
    sites: Callable[[], dict[str, str]],
    journals: Callable[[], list[Path]],
    registry: str | None,
) -> ConsoleState:
    """Read everything the console shows now; a part that fails becomes a line of ``problems``."""
    problems: dict[str, list[str]] = {}

    def attempt(section: str, read: Callable[[], Any], empty: Any) -> Any:
        try:
            return read()
        except Exception as error:  # noqa: BLE001 - the page shows what it could read and says what it could not
            problems.setdefault(section, []).append(_one_line(error))
            return empty

    stacks = attempt("stacks", lambda: read_stacks(aws["cloudformation"]), ())
    site_views = attempt("sites", lambda: read_sites(aws["cloudfront"], aws["s3"], sites()), ())
    images = attempt("images", lambda: read_images(aws["ecr"], registry, problems.setdefault("images", [])), ())
    runs = attempt("runs", lambda: read_runs(journals()), ())
    return ConsoleState(
        endpoint=endpoint,
        registry=registry,
        taken_at=time.time(),
        stacks=stacks,
        sites=site_views,
        images=images,
        runs=runs,
        problems={section: lines for section, lines in problems.items() if lines},
    )


def read_stacks(cloudformation: Any) -> tuple[StackView, ...]:
    """Every stack that is not deleted, by name."""
    found = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack.get("StackStatus") == "DELETE_COMPLETE":
                continue
            outputs = tuple(
                sorted((str(item.get("OutputKey", "")), str(item.get("OutputValue", ""))) for item in stack.get("Outputs") or [])
            )
            found.append(StackView(str(stack["StackName"]), str(stack["StackStatus"]), str(stack.get("StackStatusReason") or ""), outputs))
    return tuple(sorted(found, key=lambda stack: stack.name))


def _site_store_keys(cloudfront: Any, distribution_id: str) -> dict[str, str] | None:
    """The keys of the KeyValueStore the distribution's viewer-request function reads (None: no function or store).

    Read from the local data plane of the stand-in this process runs (the console runs beside it).
    """
    from runway_ext.local.moto_kvs import keys_of
    from runway_ext.static_site.association import router_store

    _, store = router_store(cloudfront, distribution_id)
    return keys_of(store) if store else None


def read_sites(cloudfront: Any, s3: Any, served: dict[str, str]) -> tuple[SiteView, ...]:
    """Every distribution with its served URL, its newest invalidations and its releases."""
    from runway_ext.local.edge_config import bucket_of

    views = []
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items") or []:
            distribution_id = str(item["Id"])
            origins = (item.get("Origins") or {}).get("Items") or []
            origin = origins[0] if origins else {}
            bucket = bucket_of(str(origin.get("DomainName", ""))) if origin else None
            origin_path = str(origin.get("OriginPath") or "").strip("/")
            prefix = f"{origin_path}/" if origin_path else ""
            problems: list[str] = []
            invalidations: tuple[InvalidationView, ...] = ()
            releases: tuple[ReleaseView, ...] = ()
            try:
                invalidations = read_invalidations(cloudfront, distribution_id)
            except Exception as error:  # noqa: BLE001 - shown as a line of the site
                problems.append(f"invalidations: {_one_line(error)}")
            if bucket:
                store_keys = None
                try:
                    store_keys = _site_store_keys(cloudfront, distribution_id)
                except Exception as error:  # noqa: BLE001 - shown as a line of the site; the releases are still listed
                    problems.append(f"release pointer: {_one_line(error)}")
                try:
                    releases = tuple(site_releases(s3, bucket, prefix, log=_quiet_log(problems), store_keys=store_keys))
                except Exception as error:  # noqa: BLE001 - shown as a line of the site
                    problems.append(f"releases: {_one_line(error)}")
            views.append(
                SiteView(
                    distribution_id=distribution_id,
                    comment=str(item.get("Comment") or ""),
                    url=served.get(distribution_id),
                    bucket=bucket,
                    prefix=prefix,
                    invalidations=invalidations,
                    releases=releases,
                    problems=tuple(problems),
                )
            )
    return tuple(sorted(views, key=lambda site: site.distribution_id))


def read_invalidations(cloudfront: Any, distribution_id: str) -> tuple[InvalidationView, ...]:
    """The newest :data:`MAX_INVALIDATIONS` invalidations of a distribution, with their paths."""
    items = cloudfront.list_invalidations(DistributionId=distribution_id).get("InvalidationList", {}).get("Items") or []
    items = sorted(items, key=lambda entry: str(entry.get("CreateTime", "")), reverse=True)[:MAX_INVALIDATIONS]
    views = []
    for entry in items:
        detail = cloudfront.get_invalidation(DistributionId=distribution_id, Id=entry["Id"])["Invalidation"]
        paths = (detail.get("InvalidationBatch", {}).get("Paths") or {}).get("Items") or []
        views.append(
            InvalidationView(
                str(entry["Id"]),
                str(detail.get("Status", entry.get("Status", ""))),
                str(entry.get("CreateTime", "")),
                tuple(map(str, paths)),
            )
        )
    return tuple(views)


def read_images(ecr: Any, registry: str | None, problems: list[str]) -> tuple[ImageView, ...]:
    """Every ``repository:tag`` of the local registry and of the stand-in's ECR, side by side."""
    recorded: dict[tuple[str, str], tuple[str, str]] = {}  # (repository, tag) -> (digest, registry id)
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in (page.get("repositories") or [])[:MAX_REPOSITORIES]:
            name = str(repository["repositoryName"])
            for images in ecr.get_paginator("describe_images").paginate(repositoryName=name):
                for detail in images.get("imageDetails") or []:
                    for tag in (detail.get("imageTags") or [])[:MAX_TAGS]:
                        recorded[(name, str(tag))] = (
                            str(detail["imageDigest"]),
                            str(detail.get("registryId") or repository.get("registryId", "")),
                        )
    in_registry: dict[tuple[str, str], str | None] = {}
    if registry:
        in_registry = read_registry(registry, problems)
    views = []
    for repository, tag in sorted(set(recorded) | set(in_registry)):
        ecr_digest, registry_id = recorded.get((repository, tag), (None, ""))
        resolves_to = None
        if ecr_digest is not None:
            resolves_to = digest_uri(
                ecr_registry_host(registry_id or "123456789012", DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"]), repository, ecr_digest
            )
        views.append(
            ImageView(
                repository=repository,
                tag=tag,
                registry_digest=in_registry.get((repository, tag)),
                ecr_digest=ecr_digest,
                lookup=f"${{ecr_image {repository}::tag={tag}}}",
                resolves_to=resolves_to,
            )
        )
    return tuple(views)


def read_registry(registry: str, problems: list[str]) -> dict[tuple[str, str], str | None]:
    """{(repository, tag): digest} of a loopback registry (Docker Registry HTTP API v2); bounded, validated."""
    if not is_loopback_registry(registry):
        problems.append(f"registry {registry}: not a loopback address; not read")
        return {}
    found: dict[tuple[str, str], str | None] = {}
    try:
        catalog = _Catalog.model_validate_json(_registry_get(registry, f"/v2/_catalog?n={MAX_REPOSITORIES}")[1])
    except (OSError, ValidationError, ValueError) as error:
        problems.append(f"registry {registry}: catalog unreadable: {_one_line(error)}")
        return {}
    deadline = time.monotonic() + REGISTRY_BUDGET_SECONDS

    def exhausted() -> bool:
        return len(found) >= MAX_REGISTRY_IMAGES or time.monotonic() > deadline

    for repository in (catalog.repositories or [])[:MAX_REPOSITORIES]:
        if exhausted():
            break
        if not REPOSITORY_PATTERN.fullmatch(repository):
            problems.append(f"registry {registry}: repository name {repository[:80]!r} is not a valid name; skipped")
            continue
        try:
            tags = _TagList.model_validate_json(_registry_get(registry, f"/v2/{quote(repository, safe='/')}/tags/list")[1]).tags or []
        except (OSError, ValidationError, ValueError) as error:
            problems.append(f"registry {registry}: tags of {repository} unreadable: {_one_line(error)}")
            continue
        for tag in tags[:MAX_TAGS]:
            if exhausted():
                break
            if not TAG_PATTERN.fullmatch(tag):
                continue
            try:
                headers, _ = _registry_get(registry, f"/v2/{quote(repository, safe='/')}/manifests/{quote(tag)}", method="HEAD")
            except (OSError, ValueError) as error:
                problems.append(f"registry {registry}: {repository}:{tag} unreadable: {_one_line(error)}")
                continue
            digest = headers.get("Docker-Content-Digest", "")
            found[(repository, tag)] = digest if DIGEST_PATTERN.fullmatch(digest) else None
    if exhausted():
        problems.append(
            f"registry {registry}: read stopped at {len(found)} image(s) (at most {MAX_REGISTRY_IMAGES} or {REGISTRY_BUDGET_SECONDS:g} s a read)"
        )
    return found


def _registry_get(registry: str, path: str, *, method: str = "GET") -> tuple[dict[str, str], bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"http://{registry}{path}", method=method, headers={"Accept": _MANIFEST_TYPES})
    with opener.open(request, timeout=REGISTRY_TIMEOUT) as response:
        return dict(response.headers.items()), response.read(1_000_000)


def journal_name(action: str, *, now: float | None = None, pid: int | None = None) -> str:
    """The file name of a run's journal in a console's journal folder: ``<UTC time>-<action>-<pid>.jsonl``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}Z-{action}-{pid if pid is not None else os.getpid()}.jsonl"


def read_runs(paths: list[Path]) -> tuple[RunView, ...]:
    """The hook runs of each journal, the newest run first (at most :data:`MAX_RUNS`)."""
    named = []
    for path in paths:
        match = _RUN_NAME.match(path.name)
        named.append((match.group("time") if match else "", path, match))
    views = []
    for started, path, match in sorted(named, key=lambda item: (item[0], item[1].name), reverse=True)[:MAX_RUNS]:
        hooks, problems = read_journal(path)
        running = bool(match) and process_alive(int(match.group("pid"))) and match.group("pid") != str(os.getpid())  # type: ignore[union-attr]
        views.append(
            RunView(
                name=path.name,
                action=match.group("action") if match else "run",
                started=_readable_time(started) if started else "",
                running=running,
                hooks=tuple(hooks),
                problems=tuple(problems),
            )
        )
    return tuple(views)


def read_journal(path: Path) -> tuple[list[HookRun], list[str]]:
    """The entries of one journal (its last :data:`MAX_JOURNAL_BYTES` at most) and one line per unreadable line."""
    problems: list[str] = []
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - MAX_JOURNAL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], [f"{path.name}: {_one_line(error)}"]
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > MAX_JOURNAL_BYTES:
        lines = lines[1:]  # the first one is cut
        problems.append(f"{path.name}: larger than {MAX_JOURNAL_BYTES} bytes; only its end is shown")
    runs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = _JournalLine.model_validate_json(line)
        except ValidationError:
            problems.append(f"{path.name}: line {number} is not a journal entry; skipped")
            continue
        runs.append(HookRun(entry.hook, entry.ok, entry.result or {}, entry.error or ""))
    return runs, problems


def _readable_time(stamp: str) -> str:
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]} UTC"


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class _ProblemHandler(logging.Handler):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.problems = problems

    def emit(self, record: logging.LogRecord) -> None:
        self.problems.append(f"releases: {_one_line(Exception(record.getMessage()))}")


def _quiet_log(problems: list[str]) -> logging.Logger:
    """A logger whose warnings become lines of ``problems`` (the release store warns about unreadable records)."""
    log = logging.Logger("runway_ext.local.console.releases")  # not registered: lives as long as this read
    log.addHandler(_ProblemHandler(problems))
    return log
