"""The Docker build + push hook's decisions, over data only.

Contract: nothing here calls AWS, runs a program or writes a file (:func:`resolve_paths` only checks
that the paths it is given exist). Given the args and what was observed (the ECR repository, the
build's content hash, the image ECR already has under that hash, whether the override registry still
holds it), it says where images go, whether to re-tag, build and push, or only build
(:func:`plan_publish`), which command lines to run (:func:`build_command`, :func:`login_command`)
and what the hook reports (:func:`publish_result`, the one place the result is built).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runway_ext.core.errors import HookError
from runway_ext.core.image_refs import digest_uri, image_uri, registry_problem
from runway_ext.core.log import looks_secret
from runway_ext.hooks.docker_build_push.args import ECR_KEYWORD, DockerBuildPushArgs, DockerBuildPushResult
from runway_ext.hooks.docker_build_push.build_secrets import ResolvedSecrets
from runway_ext.hooks.docker_build_push.context_hash import ContextHash
from runway_ext.hooks.docker_build_push.ecr import EcrImage, EcrRepository

REGISTRY_VARIABLE = "RUNWAY_EXT_REGISTRY"
"""Default for ``registry`` when the arg is not given (local mode sets it to its local registry)."""

Action = Literal["retag", "build_and_push", "build_only"]
Builder = Literal["buildx", "docker"]


@dataclass(frozen=True)
class BuildPaths:
    """Absolute paths of one build."""

    working_directory: Path
    dockerfile: Path
    context: Path


@dataclass(frozen=True)
class PublishPlan:
    """What to do with this build, and under which names.

    ``retag``: ECR already has an image with the content tag: add the missing tags to it, build and push
    nothing. ``build_and_push``: build (tagging every ref locally), push the content-tag ref only, then move
    the requested tags onto the confirmed manifest. ``build_only``: build and tag locally (``push: false``).
    """

    action: Action
    reason: str
    target_registry: str
    """Registry prefix images are named under (ECR host, or the override)."""
    refs: tuple[str, ...]
    """Tag references the build tags locally, the content tag last (the only one pushed)."""
    tags: tuple[str, ...]
    """The requested tags then the content tag."""
    existing: EcrImage | None = None
    """The image ECR has under the content tag (``retag`` only)."""
    missing_tags: tuple[str, ...] = ()
    """``retag``: the tags the existing ECR image does not carry yet."""
    platforms: tuple[str, ...] = ("linux/amd64",)
    """The platforms built (sorted); two or more make an image index."""

    @property
    def multi_platform(self) -> bool:
        """Whether this plan makes an image index."""
        return len(self.platforms) > 1

    def platform_ref(self, platform: str) -> str:
        """``REGISTRY/REPOSITORY:content-…-OS-ARCH``: where one platform's image is pushed before the index joins them."""
        return self.content_ref + "-" + platform_suffix(platform)

    @property
    def image_uri(self) -> str:
        """``REGISTRY/REPOSITORY:IMAGE_TAG``: the first ref."""
        return self.refs[0]

    @property
    def content_ref(self) -> str:
        """``REGISTRY/REPOSITORY:content-…``: the only ref pushed (the requested tags are moved onto it after)."""
        return self.refs[-1]

    @property
    def content_tag(self) -> str:
        """The ``content-…`` tag (the last one)."""
        return self.tags[-1]

    @property
    def requested_tags(self) -> tuple[str, ...]:
        """Every tag but the content tag."""
        return self.tags[:-1]


@dataclass(frozen=True)
class PublishOutcome:
    """What carrying out a plan produced."""

    digest: str | None = None
    """The digest of the pushed or existing image (``None`` for ``build_only``)."""
    image_id: str | None = None
    """The local image id, when built here."""
    retagged: tuple[str, ...] = ()
    """``retag``: the tags ECR newly got."""
    platform_digests: Mapping[str, str] = field(default_factory=dict)
    """Platform -> its image manifest digest (for an index: its entries; for one platform: the digest)."""


@dataclass(frozen=True)
class BuildCommand:
    """A build's argv and the environment it needs besides the caller's."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    """``DOCKER_BUILDKIT=1`` for the classic CLI, literal build secrets, and the values of secret build args (off argv)."""
    secret_args: tuple[str, ...] = ()
    """Build args passed by name only, their values in ``env``."""


def platform_suffix(platform: str) -> str:
    """``linux/arm64/v8`` -> ``linux-arm64-v8`` (a tag-safe name of a platform)."""
    return platform.replace("/", "-")


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


def resolve_registry(args: DockerBuildPushArgs, environ: Mapping[str, str]) -> str | None:
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
    *,
    registry_has_existing: bool = True,
) -> PublishPlan:
    """Decide between re-tagging what ECR has, building and pushing, or only building.

    ``existing`` is the image ECR has under the content tag; ``registry_has_existing`` is whether the
    override registry still holds it (when it lost it, the image is built again).
    """
    target = registry or repository.host
    tags = (*args.requested_tags(), content.tag)
    refs = tuple(image_uri(target, repository.name, tag) for tag in tags)
    platforms = args.target_platforms()
    if existing is not None and not registry_has_existing:
        lost = f"ECR records {content.tag} as {existing.digest} but the registry {registry} lacks it"
        existing = None
    else:
        lost = ""
    if existing is not None and args.push and not args.force:
        missing = tuple(tag for tag in tags if tag not in existing.tags)
        return PublishPlan("retag", f"ECR already has {content.tag}", target, refs, tags, existing, missing, platforms)
    if not args.push:
        return PublishPlan("build_only", "push is false", target, refs, tags, platforms=platforms)
    if existing is not None:
        reason = "force is set"
    else:
        reason = lost or f"no image tagged {content.tag} in ECR"
    return PublishPlan("build_and_push", reason, target, refs, tags, platforms=platforms)


def build_command(
    docker: str,
    builder: Builder,
    args: DockerBuildPushArgs,
    paths: BuildPaths,
    refs: tuple[str, ...],
    secrets: ResolvedSecrets | None = None,
    *,
    platform: str | None = None,
) -> BuildCommand:
    """The build argv and the extra environment it needs (BuildKit switch, secret values, secret-looking build-arg values).

    One platform per build (``platform``, default: the one platform of ``args``): a multi-platform build is one
    command per platform, each loaded into the engine under its own ref, then joined into an index.
    """
    env: dict[str, str] = dict(secrets.env) if secrets is not None else {}
    if builder == "buildx":
        argv = [docker, "buildx", "build", "--load", "--provenance=false"]
    else:
        argv = [docker, "build"]
        env["DOCKER_BUILDKIT"] = "1"
    argv += ["--pull=false", "--progress=plain", "--platform", platform or args.target_platforms()[0], "--file", str(paths.dockerfile)]
    for ref in refs:
        argv += ["--tag", ref]
    secret_args = []
    for name, value in args.text_build_args().items():
        if looks_secret(name, value):
            argv += ["--build-arg", name]  # docker reads the value from its environment
            env[name] = value
            secret_args.append(name)
        else:
            argv += ["--build-arg", f"{name}={value}"]
    for secret in secrets.secrets if secrets is not None else ():
        argv += ["--secret", secret.flag()]
    if args.target:
        argv += ["--target", args.target]
    for source in args.cache_from:
        argv += ["--cache-from", source]
    if args.no_cache:
        argv.append("--no-cache")
    argv.append(str(paths.context))
    return BuildCommand(argv=argv, env=env, secret_args=tuple(secret_args))


def index_command(docker: str, index_ref: str, sources: tuple[str, ...]) -> list[str]:
    """``docker buildx imagetools create``: one index at ``index_ref`` of the given manifests (by digest), no attestation."""
    return [docker, "buildx", "imagetools", "create", "--tag", index_ref, *sources]


def login_command(docker: str, registry: str, username: str) -> list[str]:
    """``docker login`` reading the password from stdin: the password is never on the command line."""
    return [docker, "login", "--username", username, "--password-stdin", registry]


def publish_result(
    args: DockerBuildPushArgs,
    region: str,
    repository: EcrRepository,
    plan: PublishPlan,
    content: ContextHash,
    outcome: PublishOutcome,
    *,
    repository_created: bool,
) -> DockerBuildPushResult:
    """The hook's result for a plan and what carrying it out produced."""
    digest = outcome.digest
    platforms = list(plan.platforms)
    return DockerBuildPushResult(
        repository_name=repository.name,
        repository_uri=repository.uri,
        region=region,
        registry=plan.target_registry,
        image_uri=plan.image_uri,
        digest=digest,
        digest_uri=digest_uri(plan.target_registry, repository.name, digest) if digest else None,
        ecr_digest_uri=digest_uri(repository.host, repository.name, digest) if digest else None,
        tags=list(plan.tags),
        content_hash=content.hexdigest,
        content_tag=content.tag,
        skipped=plan.action == "retag",
        built=plan.action != "retag",
        pushed=plan.action == "build_and_push",
        retagged=list(outcome.retagged),
        image_id=outcome.image_id,
        platform=",".join(platforms),
        platforms=platforms,
        index_digest=digest if plan.multi_platform else None,
        platform_digests=dict(outcome.platform_digests),
        environment=args.environment,
        repository_created=repository_created,
    )
