"""Build a Docker image with BuildKit and push it to ECR — or skip both when ECR already has this build.

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.docker_build_push.cfngin_hook
        args:
          repository_name: my-app-repo
          image_tag: v1.0.0
          dockerfile_path: docker/Dockerfile
          working_directory: ../application

Then ``${hook_data runway_ext.docker_build_push.digest_uri}`` (or ``${ecr_image my-app-repo::tag=v1.0.0}``)
is the image pinned by digest, ready for a Lambda ``ImageUri`` or an ECS task. CLI::

    python -m runway_ext.hooks.docker_build_push my-app-repo --image-tag v1.0.0 \\
        --dockerfile-path docker/Dockerfile --build-context . --region us-west-2 \\
        --environment prod --working-directory ../application

The build's content hash (context files as the ignore file filters them, Dockerfile, build args,
target, platform) becomes an extra ``content-…`` tag. When ECR already has an image with that tag,
nothing is built or pushed: the requested tags are added to that image's manifest (ECR ``PutImage``)
and the result says ``skipped: true``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ..core.args import EnvironmentName, HookArgs
from ..core.errors import HookError
from ..core.hook import HookContext, hook, run_module
from ..core.log import is_secret_name, redact, register_secret
from ..core.process import find_executable, run_process
from ..docker_context_hash import BuildInputs, ContextHash, hash_build
from ..ecr_images import EcrImage, EcrRepository, ensure_repository, find_image, get_manifest, login_credentials, put_tags
from ..image_refs import digest_uri, image_uri, is_loopback_registry, registry_problem, repository_problem, tag_problem
from ..registry_api import Credentials, Manifest, RegistryClient, RegistryError

REGISTRY_VARIABLE = "RUNWAY_EXT_REGISTRY"
"""Default for ``registry`` when the arg is not given (local mode sets it to its local registry)."""
REGISTRY_USERNAME_VARIABLE = "RUNWAY_EXT_REGISTRY_USERNAME"
REGISTRY_PASSWORD_VARIABLE = "RUNWAY_EXT_REGISTRY_PASSWORD"  # noqa: S105 - a variable name, not a password
ECR_KEYWORD = "ecr"
DAEMON_PROBE_TIMEOUT = 30.0
INSTALL_HINT = "install Docker (the docker CLI, with the buildx plugin for BuildKit) or put docker on PATH"
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DockerBuildPushArgs(HookArgs):
    """Arguments of the Docker build + push hook."""

    repository_name: str
    """ECR repository name (e.g. my-app-repo or team/my-app); created when missing unless create_repository is false."""

    image_tag: str = "latest"
    """The tag to build, push and report (image_uri)."""

    dockerfile_path: Path = Path("Dockerfile")
    """The Dockerfile, relative to working_directory."""

    build_context: Path = Path(".")
    """The build context folder, relative to working_directory."""

    region: str = "us-east-1"
    """AWS region of the ECR repository."""

    environment: EnvironmentName = "dev"
    """Deploy environment: tagged on the repository when it is created (Environment=...) and reported; it does not change the image, so one build can be promoted from dev to prod by digest."""

    working_directory: Path | None = None
    """Folder the Dockerfile and context paths are relative to (default: the current folder, in Runway the module folder)."""

    platform: str = "linux/amd64"
    """Target platform os/arch[/variant] (linux/amd64 or linux/arm64 for Lambda)."""

    build_args: dict[str, str | int | float | bool] = {}
    """Build-time variables (--build-arg). Values of names that look secret (*TOKEN*, *PASSWORD*, ...) reach docker through its environment, never its command line."""

    target: str | None = None
    """Build stage to stop at (--target) in a multi-stage Dockerfile."""

    tags: list[str] = []
    """Extra tags for the same image (pushed, or added to the existing image on a skip)."""

    cache_from: list[str] = []
    """External cache sources for the build (--cache-from), e.g. type=registry,ref=REPO:cache or an image reference."""

    no_cache: bool = False
    """Build without the layer cache (--no-cache). Does not force a build when ECR already has this content: use force."""

    push: bool = True
    """Push the image (false: build and tag locally only; nothing is recorded in ECR)."""

    force: bool = False
    """Build and push even when ECR already has an image with this build's content tag."""

    registry: str | None = None
    """Push to this registry (host[:port][/prefix]) instead of ECR; the ECR API still records the image (PutImage) so ${ecr_image} resolves. Default: $RUNWAY_EXT_REGISTRY if set (local mode), else ECR; 'ecr' forces ECR."""

    create_repository: bool = True
    """Create the ECR repository when it does not exist."""

    scan_on_push: bool = True
    """For a repository this hook creates: ECR basic scanning on push."""

    builder: Literal["auto", "buildx", "docker"] = "auto"
    """How to run BuildKit: 'buildx' (docker buildx build --load), 'docker' (DOCKER_BUILDKIT=1 docker build), 'auto' (buildx when the plugin is installed)."""

    timeout: float = Field(default=1800, gt=0)
    """Seconds allowed for the build, and for each push."""

    @field_validator("repository_name")
    @classmethod
    def _repository(cls, value: str) -> str:
        problem = repository_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        problem = tag_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        for value in values:
            problem = tag_problem(value)
            if problem:
                raise ValueError(problem)
        return values

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if not _PLATFORM.fullmatch(value):
            raise ValueError(f"invalid platform {value!r} (one os/arch[/variant], e.g. linux/amd64)")
        return value

    @field_validator("build_args")
    @classmethod
    def _build_args(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in values:
            if not _BUILD_ARG_NAME.fullmatch(name):
                raise ValueError(f"invalid build arg name {name!r} (expected [A-Za-z_][A-Za-z0-9_]*)")
        return values

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is None or value == ECR_KEYWORD:
            return value
        value = value.rstrip("/")
        problem = registry_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def requested_tags(self) -> list[str]:
        """``image_tag`` then the extra ``tags``, each once."""
        return list(dict.fromkeys([self.image_tag, *self.tags]))

    def text_build_args(self) -> dict[str, str]:
        """Build args as the strings docker gets (booleans as true/false)."""
        return {name: _as_text(value) for name, value in self.build_args.items()}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DockerBuildPushResult(BaseModel):
    """What the hook did (hook_data ``runway_ext.docker_build_push``)."""

    repository_name: str
    repository_uri: str
    """The ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)."""
    registry: str
    """Where the image was pushed: the ECR host, or the registry override."""
    image_uri: str
    """REGISTRY/REPOSITORY:IMAGE_TAG."""
    digest: str | None
    """sha256:... of the pushed manifest (null when push is false)."""
    digest_uri: str | None
    """REGISTRY/REPOSITORY@sha256:... (a Lambda ImageUri / ECS image that never moves)."""
    ecr_digest_uri: str | None
    """The same image in ECR form (what ${ecr_image} returns); equals digest_uri when pushing to ECR."""
    tags: list[str]
    """Every tag this run put on the image: the requested ones and the content tag."""
    content_hash: str
    content_tag: str
    skipped: bool
    """True when ECR already had this build: nothing was built or pushed."""
    built: bool
    pushed: bool
    retagged: list[str]
    """On a skip: the tags newly added to the existing image."""
    image_id: str | None
    """The local image id (sha256:...) when the image was built here."""
    platform: str
    environment: str
    repository_created: bool


@dataclass(frozen=True)
class BuildPaths:
    """Absolute paths of one build."""

    working_directory: Path
    dockerfile: Path
    context: Path


@dataclass(frozen=True)
class PublishPlan:
    """Where the image goes and what to do, decided from the args and what ECR already holds. Pure data."""

    action: Literal["build", "retag"]
    target_registry: str
    """Registry prefix images are named under (ECR host, or the override)."""
    uses_ecr_registry: bool
    refs: tuple[str, ...]
    """Tag references to build and push, the content tag last (so it only exists once the rest does)."""
    tags: tuple[str, ...]
    existing: EcrImage | None
    reason: str


def resolve_paths(args: DockerBuildPushArgs, cwd: Path) -> BuildPaths:
    """Absolute paths of the working directory, Dockerfile and context; a missing one fails naming its field."""
    base = cwd
    if args.working_directory is not None:
        base = (cwd / args.working_directory).resolve()
        if not base.is_dir():
            raise HookError(f"working_directory: folder {base} not found")
    context = (base / args.build_context).resolve()
    if not context.is_dir():
        raise HookError(f"build_context: folder {context} not found")
    dockerfile = (base / args.dockerfile_path).resolve()
    if not dockerfile.is_file():
        raise HookError(f"dockerfile_path: file {dockerfile} not found")
    return BuildPaths(working_directory=base, dockerfile=dockerfile, context=context)


def resolve_registry(args: DockerBuildPushArgs, environ: dict[str, str]) -> str | None:
    """The non-ECR registry to push to, or ``None`` for ECR (arg first, then ``$RUNWAY_EXT_REGISTRY``)."""
    if args.registry is not None:
        return None if args.registry == ECR_KEYWORD else args.registry
    from_environment = environ.get(REGISTRY_VARIABLE, "").strip().rstrip("/")
    if not from_environment or from_environment == ECR_KEYWORD:
        return None
    problem = registry_problem(from_environment)
    if problem:
        raise HookError(f"registry: ${REGISTRY_VARIABLE}: {problem}")
    return from_environment


def plan_publish(
    args: DockerBuildPushArgs,
    repository: EcrRepository,
    registry: str | None,
    content: ContextHash,
    existing: EcrImage | None,
) -> PublishPlan:
    """Decide between building and re-tagging what ECR already has. Pure."""
    target = registry or repository.host
    tags = (*args.requested_tags(), content.tag)
    refs = tuple(image_uri(target, repository.name, tag) for tag in tags)
    if existing is not None and not args.force and args.push:
        return PublishPlan("retag", target, registry is None, refs, tags, existing, f"ECR already has {content.tag}")
    if existing is not None and args.force:
        reason = "force is set"
    elif existing is not None:
        reason = "push is false"
    else:
        reason = f"no image tagged {content.tag} in ECR"
    return PublishPlan("build", target, registry is None, refs, tags, existing, reason)


# -- docker ------------------------------------------------------------------------------------
def docker_environment() -> dict[str, str]:
    """The environment docker subprocesses get (the caller's, so DOCKER_HOST/DOCKER_CONFIG apply)."""
    return dict(os.environ)


def check_daemon(docker: str, env: dict[str, str]) -> str:
    """The daemon's version; a daemon that does not answer fails with how to point at one."""
    where = env.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        probe = subprocess.run(  # noqa: S603 - argv list; a quick probe, not a streamed build
            [docker, "version", "--format", "{{.Server.Version}}"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=DAEMON_PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HookError(
            f"docker daemon at {where} did not answer in {DAEMON_PROBE_TIMEOUT:g}s; "
            "start Docker or set DOCKER_HOST to a running engine"
        ) from None
    version = probe.stdout.strip()
    if probe.returncode != 0 or not version:
        detail = " ".join(line.strip() for line in probe.stderr.strip().splitlines()[-1:]) or f"exit code {probe.returncode}"
        raise HookError(
            f"docker daemon unreachable at {where} ({redact(detail)}); "
            "start Docker or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST=unix:///var/run/docker.sock)"
        )
    return version


def choose_builder(args: DockerBuildPushArgs, docker: str, env: dict[str, str]) -> Literal["buildx", "docker"]:
    """``buildx`` when asked for or (auto) when the plugin answers, else the classic CLI with BuildKit on."""
    if args.builder != "auto":
        return args.builder
    try:
        probe = subprocess.run(  # noqa: S603 - argv list
            [docker, "buildx", "version"], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return "docker"
    return "buildx" if probe.returncode == 0 else "docker"


def build_command(
    docker: str, builder: Literal["buildx", "docker"], args: DockerBuildPushArgs, paths: BuildPaths, refs: tuple[str, ...]
) -> tuple[list[str], dict[str, str]]:
    """The build argv and the extra environment it needs (BuildKit switch, secret build-arg values). Pure."""
    extra_env: dict[str, str] = {}
    if builder == "buildx":
        argv = [docker, "buildx", "build", "--load", "--provenance=false"]
    else:
        argv = [docker, "build"]
        extra_env["DOCKER_BUILDKIT"] = "1"
    argv += ["--pull=false", "--progress=plain", "--platform", args.platform, "--file", str(paths.dockerfile)]
    for ref in refs:
        argv += ["--tag", ref]
    for name, value in args.text_build_args().items():
        if is_secret_name(name):
            argv += ["--build-arg", name]  # docker reads the value from its environment
            extra_env[name] = value
        else:
            argv += ["--build-arg", f"{name}={value}"]
    if args.target:
        argv += ["--target", args.target]
    for source in args.cache_from:
        argv += ["--cache-from", source]
    if args.no_cache:
        argv.append("--no-cache")
    argv.append(str(paths.context))
    return argv, extra_env


def login_command(docker: str, registry: str, username: str) -> list[str]:
    """``docker login`` reading the password from stdin: the password is never on the command line. Pure."""
    return [docker, "login", "--username", username, "--password-stdin", registry]


def registry_credentials(environ: dict[str, str]) -> Credentials | None:
    """Credentials for a non-ECR registry from ``$RUNWAY_EXT_REGISTRY_USERNAME``/``_PASSWORD`` (both, or none)."""
    username = environ.get(REGISTRY_USERNAME_VARIABLE, "")
    password = environ.get(REGISTRY_PASSWORD_VARIABLE, "")
    if not username or not password:
        return None
    register_secret(password)
    return Credentials(username=username, password=password)


def _image_id(docker: str, ref: str, env: dict[str, str], log: Any) -> str | None:
    result = run_process(
        [docker, "image", "inspect", "--format", "{{.Id}}", ref],
        what=f"inspecting {ref}", timeout=60, env=env, capture_stdout=True, check=False, logger=log,
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def render_result(result: dict[str, Any]) -> str:
    """The CLI's human summary."""
    state = "skipped (already in ECR)" if result.get("skipped") else ("built and pushed" if result.get("pushed") else "built")
    lines = [f"{result['image_uri']}: {state}"]
    if result.get("digest_uri"):
        lines.append(f"  digest uri:  {result['digest_uri']}")
    if result.get("ecr_digest_uri") and result.get("ecr_digest_uri") != result.get("digest_uri"):
        lines.append(f"  in ECR:      {result['ecr_digest_uri']}")
    lines.append(f"  tags:        {', '.join(result.get('tags', []))}")
    if result.get("retagged"):
        lines.append(f"  tags added:  {', '.join(result['retagged'])}")
    return "\n".join(lines)


# -- the hook ----------------------------------------------------------------------------------
@hook(
    "docker_build_push",
    DockerBuildPushArgs,
    summary="Build a Docker image (BuildKit) and push it to ECR; skip both when ECR already has this build.",
    positional=("repository_name",),
    render=render_result,
)
def cfngin_hook(args: DockerBuildPushArgs, ctx: HookContext) -> DockerBuildPushResult:
    """Validate, ensure the repository, hash the build, then re-tag what ECR has or build, push and record."""
    environ = docker_environment()
    paths = resolve_paths(args, Path.cwd())
    registry = resolve_registry(args, environ)
    docker = find_executable("docker", install_hint=INSTALL_HINT)
    version = check_daemon(docker, environ)
    ctx.log.debug("docker daemon %s answers", version)

    ecr = ctx.client("ecr", args.region)
    repository, created = ensure_repository(
        ecr, args.repository_name, args.region,
        create=args.create_repository, scan_on_push=args.scan_on_push, tags={"Environment": args.environment},
    )
    if created:
        ctx.log.info("created ECR repository %s (scan on push: %s)", repository.uri, args.scan_on_push)
    content = hash_build(BuildInputs(
        context_dir=paths.context, dockerfile=paths.dockerfile, build_args=args.text_build_args(),
        target=args.target, platform=args.platform,
    ))
    ctx.log.info("build content hash %s (%d context entries)", content.tag, content.entries)
    existing = find_image(ecr, repository, content.tag)
    credentials = registry_credentials(environ) if registry else None
    client = RegistryClient(registry, credentials=credentials) if registry else None
    if existing is not None and client is not None and not _registry_has(client, repository.name, existing.digest, ctx):
        existing = None
    plan = plan_publish(args, repository, registry, content, existing)
    _forget_lookup_cache(ctx, repository.name)

    if plan.action == "retag":
        return _retag(args, ctx, ecr, repository, plan, content, client, created)
    ctx.log.info("building %s (%s)", plan.refs[0], plan.reason)
    builder = choose_builder(args, docker, environ)
    argv, extra_env = build_command(docker, builder, args, paths, plan.refs)
    for name, value in extra_env.items():
        if name != "DOCKER_BUILDKIT":
            register_secret(value)
    run_process(argv, what="docker build", timeout=args.timeout, cwd=paths.working_directory,
                env={**environ, **extra_env}, logger=ctx.log)
    image_id = _image_id(docker, plan.refs[0], environ, ctx.log)
    result = dict(
        repository_name=repository.name, repository_uri=repository.uri, registry=plan.target_registry,
        image_uri=plan.refs[0], tags=list(plan.tags), content_hash=content.hexdigest, content_tag=content.tag,
        skipped=False, built=True, retagged=[], image_id=image_id, platform=args.platform,
        environment=args.environment, repository_created=created,
    )
    if not args.push:
        ctx.log.info("built %s (push is false: nothing pushed or recorded)", plan.refs[0])
        return DockerBuildPushResult(**result, digest=None, digest_uri=None, ecr_digest_uri=None, pushed=False)

    _login(ctx, docker, environ, ecr, repository, registry, credentials)
    for ref in plan.refs:
        run_process([docker, "push", ref], what=f"docker push {ref}", timeout=args.timeout, env=environ, logger=ctx.log)
    if client is None:
        pushed = find_image(ecr, repository, content.tag)
        if pushed is None:
            raise HookError(f"pushed {plan.refs[-1]} but ECR does not list it in {args.region}")
        digest = pushed.digest
    else:
        digest = _record_in_ecr(ecr, repository, client, plan, ctx)
    ctx.log.info("pushed %s as %s", ", ".join(plan.tags), digest)
    return DockerBuildPushResult(
        **result, digest=digest, digest_uri=digest_uri(plan.target_registry, repository.name, digest),
        ecr_digest_uri=digest_uri(repository.host, repository.name, digest), pushed=True,
    )


def _registry_has(client: RegistryClient, repository: str, digest: str, ctx: HookContext) -> bool:
    """Whether the override registry still holds what ECR recorded (else the image is rebuilt)."""
    try:
        present = client.has_manifest(repository, digest)
    except RegistryError as error:
        raise HookError(f"registry: {error}") from None
    if not present:
        ctx.log.info("ECR records %s@%s but the registry %s lacks it: rebuilding", repository, digest, client.base_url)
    return present


def _retag(
    args: DockerBuildPushArgs,
    ctx: HookContext,
    ecr: Any,
    repository: EcrRepository,
    plan: PublishPlan,
    content: ContextHash,
    client: RegistryClient | None,
    created: bool,
) -> DockerBuildPushResult:
    """Add the requested tags to the image ECR already has (and to the registry override): no build, no push."""
    assert plan.existing is not None
    digest = plan.existing.digest
    missing = [tag for tag in plan.tags if tag not in plan.existing.tags]
    if client is not None:
        try:
            manifest = client.get_manifest(repository.name, digest)
            for tag in plan.tags[:-1]:
                client.put_manifest(repository.name, tag, manifest)
        except RegistryError as error:
            raise HookError(f"registry: {error}") from None
    added: list[str] = []
    if missing:
        text, media_type = get_manifest(ecr, repository, digest)
        added = put_tags(ecr, repository, text, media_type, digest, missing)
    ctx.log.info(
        "skipped build and push: ECR already has %s as %s; %s",
        content.tag, digest, f"added tags {', '.join(added)}" if added else "tags already in place",
    )
    return DockerBuildPushResult(
        repository_name=repository.name, repository_uri=repository.uri, registry=plan.target_registry,
        image_uri=plan.refs[0], digest=digest, digest_uri=digest_uri(plan.target_registry, repository.name, digest),
        ecr_digest_uri=digest_uri(repository.host, repository.name, digest), tags=list(plan.tags),
        content_hash=content.hexdigest, content_tag=content.tag, skipped=True, built=False, pushed=False,
        retagged=added, image_id=None, platform=args.platform, environment=args.environment,
        repository_created=created,
    )


def _login(
    ctx: HookContext,
    docker: str,
    environ: dict[str, str],
    ecr: Any,
    repository: EcrRepository,
    registry: str | None,
    credentials: Credentials | None,
) -> None:
    """``docker login --password-stdin``: ECR's token for ECR; the optional credentials for an override."""
    if registry is None:
        login = login_credentials(ecr, repository)
        host, username, password = login.registry, login.username, login.password
    elif credentials is not None:
        host, username, password = registry.split("/", 1)[0], credentials.username, credentials.password
    else:
        reason = "loopback registry" if is_loopback_registry(registry) else f"no ${REGISTRY_USERNAME_VARIABLE}/_PASSWORD"
        ctx.log.debug("not logging in to %s (%s)", registry, reason)
        return
    run_process(login_command(docker, host, username), what=f"docker login to {host}", timeout=120,
                env=environ, stdin_text=password, logger=ctx.log)


def _record_in_ecr(ecr: Any, repository: EcrRepository, client: RegistryClient, plan: PublishPlan, ctx: HookContext) -> str:
    """Give the ECR API the manifest just pushed to the override registry, under every tag, with the registry's digest."""
    try:
        manifest: Manifest = client.get_manifest(repository.name, plan.tags[-1])
    except RegistryError as error:
        raise HookError(f"registry: {error}") from None
    put_tags(ecr, repository, manifest.text, manifest.media_type or None, manifest.digest, plan.tags)
    recorded = find_image(ecr, repository, plan.tags[-1])
    if recorded is None or recorded.digest != manifest.digest:
        found = recorded.digest if recorded else "nothing"
        raise HookError(f"ECR recorded {found} for {repository.name}:{plan.tags[-1]}, expected {manifest.digest}")
    ctx.log.debug("recorded %s in the ECR API under %s", manifest.digest, ", ".join(plan.tags))
    return manifest.digest


def _forget_lookup_cache(ctx: HookContext, repository: str) -> None:
    """Inside Runway, make ``${ecr_image}`` look this repository up afresh (its tags may move now)."""
    if ctx.cfngin is not None:
        from ..lookups.ecr_image import forget_cached_images

        forget_cached_images(ctx.cfngin, repository)


COMMAND = cfngin_hook

if __name__ == "__main__":
    run_module(COMMAND)
