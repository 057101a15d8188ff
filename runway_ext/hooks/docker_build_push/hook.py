"""The Docker build + push hook's body (the CFNgin entry point and CLI command) and its CLI summary.

Contract: thin orchestration — validate (paths, registry, daemon), observe (the ECR repository, the
build's content hash, the image ECR has under it, whether the override registry still holds it),
plan (:func:`~.plan.plan_publish`), act (re-tag, or build then push and record), and report
(:func:`~.plan.publish_result`). Every decision lives in :mod:`.plan`; every call to docker, ECR or
the registry in :mod:`.docker_cli`, :mod:`.ecr` and :mod:`.registry`.

Before docker runs, the context the hash covers is checked for secret files (:mod:`.context_secrets`):
one that would be copied into the image stops the hook, one line per file naming the ignore-file line
that leaves it out.

A multi-platform build (``platforms``) builds each platform on its own (``--platform``, ``--load``: a
plain dockerd cannot export several platforms at once; a foreign platform runs its ``RUN`` steps under
QEMU), pushes each under its own ``content-…-OS-ARCH`` ref, then joins the pushed manifests **by
digest** into one index at the content tag (``docker buildx imagetools create``): no index ever names a
manifest that is not in the registry, and a tag moved by someone else meanwhile cannot change what the
index holds. ECR records each platform's manifest (untagged) before the index.

Publishing never leaves a requested tag on an image that is not completely published: only the
content-tag ref is pushed; once ECR (or the override registry) confirms it, the requested tags are
moved onto that very manifest — in ECR first (``PutImage``), then in the override registry (the same
manifest stored under each tag; no layer moves). A failure before that leaves every requested tag where
it was; a rerun finds the content tag and finishes the re-tagging.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, hook
from runway_ext.core.image_index import attestation_digests, is_index_media_type, parse_index, platform_digests
from runway_ext.core.image_refs import digest_uri, is_loopback_registry
from runway_ext.core.log import register_secrets
from runway_ext.hooks.docker_build_push.args import DockerBuildPushArgs, DockerBuildPushResult, secret_build_arg_reason
from runway_ext.hooks.docker_build_push.build_secrets import ResolvedSecrets, as_files, resolve_secrets
from runway_ext.hooks.docker_build_push.context_hash import BuildInputs, ContextHash, hash_build, secret_fingerprint
from runway_ext.hooks.docker_build_push.context_secrets import refusal_lines, scan_context
from runway_ext.hooks.docker_build_push.docker_cli import DockerCli, docker_environment
from runway_ext.hooks.docker_build_push.ecr import (
    EcrImage,
    EcrRepository,
    add_tags,
    ensure_repository,
    find_image,
    get_manifest,
    login_credentials,
    pushed_digest,
    record_image,
    record_untagged,
)
from runway_ext.hooks.docker_build_push.plan import (
    BuildPaths,
    PublishOutcome,
    PublishPlan,
    build_command,
    index_command,
    plan_publish,
    publish_result,
    resolve_paths,
    resolve_registry,
)
from runway_ext.hooks.docker_build_push.registry import (
    REGISTRY_USERNAME_VARIABLE,
    Credentials,
    RegistryClient,
    read_manifest,
    registry_credentials,
    registry_holds,
    tag_manifest,
)

HOOK_NAME = "docker_build_push"


def render_result(result: dict[str, Any]) -> str:
    """The CLI's human summary."""
    state = "skipped (already in ECR)" if result.get("skipped") else ("built and pushed" if result.get("pushed") else "built")
    lines = [f"{result['image_uri']}: {state}"]
    if result.get("digest_uri"):
        lines.append(f"  digest uri:  {result['digest_uri']}")
    if result.get("ecr_digest_uri") and result.get("ecr_digest_uri") != result.get("digest_uri"):
        lines.append(f"  in ECR:      {result['ecr_digest_uri']}")
    if result.get("index_digest"):
        lines.append(f"  index:       {result['index_digest']}")
        for platform, digest in sorted((result.get("platform_digests") or {}).items()):
            lines.append(f"  {platform + ':':<12} {digest}")
    lines.append(f"  tags:        {', '.join(result.get('tags', []))}")
    if result.get("retagged"):
        lines.append(f"  tags added:  {', '.join(result['retagged'])}")
    return "\n".join(lines)


@hook(
    HOOK_NAME,
    DockerBuildPushArgs,
    summary="Build a Docker image (BuildKit) and push it to ECR; skip both when ECR already has this build.",
    positional=("repository_name",),
    render=render_result,
)
def cfngin_hook(args: DockerBuildPushArgs, ctx: HookContext) -> DockerBuildPushResult:
    """Validate, ensure the repository, hash the build, then re-tag what ECR has or build, push and record."""
    # validate: everything that can be checked before slow work
    register_secrets(args.text_build_args())
    for name, value in args.text_build_args().items():
        reason = secret_build_arg_reason(name, value)
        if reason:  # only reachable with allow_secret_build_args
            ctx.log.warning(
                "build_args: %s %s; its value will be readable in the image history (allow_secret_build_args is set)", name, reason
            )
    environ = docker_environment()
    paths = resolve_paths(args, Path.cwd())
    secrets = resolve_secrets(args, environ, paths.working_directory)
    registry = resolve_registry(args, environ)
    content = hash_build(
        BuildInputs(
            context_dir=paths.context,
            dockerfile=paths.dockerfile,
            build_args=_hashed_build_args(args),
            target=args.target,
            platform=args.target_platforms()[0],
            platforms=args.target_platforms() if args.multi_platform else (),
            secrets=_hashed_secrets(args, secrets),
        )
    )
    _check_context_secrets(args, ctx, paths, content)
    docker = DockerCli.connect(environ, ctx.log)
    region = ctx.region(args.region)

    # observe
    ecr = ctx.client("ecr", region)
    repository, created = ensure_repository(
        ecr,
        args.repository_name,
        region,
        create=args.create_repository,
        scan_on_push=args.scan_on_push,
        tags={"Environment": args.environment},
    )
    if created:
        ctx.log.info("created ECR repository %s (scan on push: %s)", repository.uri, args.scan_on_push)
    ctx.log.info("build content hash %s (%d context entries)", content.tag, content.entries)
    existing = find_image(ecr, repository, content.tag)
    credentials = registry_credentials(environ) if registry else None
    client = RegistryClient(registry, credentials=credentials) if registry else None
    registry_has_existing = existing is None or client is None or _registry_holds_image(ecr, repository, client, existing)

    # plan
    plan = plan_publish(args, repository, registry, content, existing, registry_has_existing=registry_has_existing)
    _forget_lookup_cache(ctx, repository.name)

    # act
    if plan.action != "retag" and (plan.multi_platform or args.builder != "docker"):
        docker.require_platforms(plan.platforms, multi=plan.multi_platform)
    if plan.action == "retag":
        outcome = _retag(ctx, ecr, repository, plan, client)
    elif plan.multi_platform:
        outcome = _publish_index(ctx, args, docker, ecr, repository, registry, credentials, client, paths, plan, secrets)
    else:
        ctx.log.info("building %s (%s)", plan.image_uri, plan.reason)
        image_id = _build(args, docker, paths, plan, secrets)
        digest = None
        if plan.action == "build_and_push":
            _login(ctx, docker, ecr, repository, registry, credentials)
            digest = _push_and_record(args, docker, ecr, repository, plan, client)
            ctx.log.info("pushed %s as %s", ", ".join(plan.tags), digest)
        else:
            ctx.log.info("built %s (push is false: nothing pushed or recorded)", plan.image_uri)
        outcome = PublishOutcome(digest=digest, image_id=image_id, platform_digests={plan.platforms[0]: digest} if digest else {})

    # result
    return publish_result(args, region, repository, plan, content, outcome, repository_created=created)


COMMAND = cfngin_hook


def _check_context_secrets(args: DockerBuildPushArgs, ctx: HookContext, paths: BuildPaths, content: ContextHash) -> None:
    """Refuse (one line per file) a context that would copy a secret file into the image; warn for ``.git/``."""
    scan = scan_context(paths.context, content.paths, args.allow_context_files)
    for warning in scan.warnings:
        ctx.log.warning("build_context: %s", warning)
    if scan.refused:
        raise HookError("\n".join(refusal_lines(scan, content.ignore_file, paths.context)))


def _registry_holds_image(ecr: Any, repository: EcrRepository, client: RegistryClient, image: EcrImage) -> bool:
    """Whether the override registry holds ``image`` — and, for an index, every manifest it lists."""
    digest = image.digest
    if not registry_holds(client, repository.name, digest):
        return False
    if not is_index_media_type(image.media_type):
        return True
    manifest, _ = get_manifest(ecr, repository, digest)
    try:
        index = parse_index(manifest)
    except ValueError as error:
        raise HookError(f"ECR holds {repository.name}@{digest} as an index that cannot be read: {error}") from None
    return all(registry_holds(client, repository.name, entry.digest) for entry in index.manifests)


def _hashed_build_args(args: DockerBuildPushArgs) -> dict[str, str]:
    """Build args as the content hash sees them: a secret-looking value (allowed) by its fingerprint only."""
    return {
        name: secret_fingerprint(f"build-arg/{name}", value.encode("utf-8", "surrogateescape"))
        if secret_build_arg_reason(name, value)
        else value
        for name, value in args.text_build_args().items()
    }


def _hashed_secrets(args: DockerBuildPushArgs, secrets: ResolvedSecrets) -> dict[str, str]:
    """Secret id -> ``""``, or its value's fingerprint when ``secrets_affect_hash`` is set."""
    if not args.secrets_affect_hash:
        return dict.fromkeys(secrets.values, "")
    return {secret_id: secret_fingerprint(secret_id, value) for secret_id, value in secrets.values.items()}


def _retag(ctx: HookContext, ecr: Any, repository: EcrRepository, plan: PublishPlan, client: RegistryClient | None) -> PublishOutcome:
    """Add the requested tags to the image ECR already has — in ECR first, then in the override registry: no build, no push."""
    assert plan.existing is not None
    digest = plan.existing.digest
    if plan.multi_platform:
        manifest, _ = get_manifest(ecr, repository, digest)
        platforms = _index_platforms(manifest, plan, f"ECR's {repository.name}:{plan.content_tag}")
    else:
        platforms = {plan.platforms[0]: digest}
    added = add_tags(ecr, repository, digest, plan.missing_tags)
    if client is not None:
        tag_manifest(client, repository.name, digest, plan.requested_tags)
    ctx.log.info(
        "skipped build and push: ECR already has %s as %s; %s",
        plan.content_tag,
        digest,
        f"added tags {', '.join(added)}" if added else "tags already in place",
    )
    return PublishOutcome(digest=digest, retagged=tuple(added), platform_digests=platforms)


def _index_platforms(manifest: str | bytes, plan: PublishPlan, where: str) -> dict[str, str]:
    """The platform -> digest map of an index, checked: exactly the plan's platforms, no attestation entry."""
    try:
        index = parse_index(manifest)
    except ValueError as error:
        raise HookError(f"{where}: {error}") from None
    found = platform_digests(index)
    if attestation_digests(index):
        raise HookError(f"{where} holds attestation entries (Lambda refuses such an index)")
    if sorted(found) != sorted(plan.platforms):
        raise HookError(f"{where} lists {', '.join(sorted(found)) or 'no platform'}, expected {', '.join(plan.platforms)}")
    return found


def _publish_index(
    ctx: HookContext,
    args: DockerBuildPushArgs,
    docker: DockerCli,
    ecr: Any,
    repository: EcrRepository,
    registry: str | None,
    credentials: Credentials | None,
    client: RegistryClient | None,
    paths: BuildPaths,
    plan: PublishPlan,
    secrets: ResolvedSecrets,
) -> PublishOutcome:
    """Build each platform, push each, join them by digest into one index, record it; see the module docstring."""
    image_ids = []
    for platform in plan.platforms:
        ctx.log.info("building %s for %s (%s)", plan.content_ref, platform, plan.reason)
        image_ids.append(_build(args, docker, paths, plan, secrets, platform=platform))
    if plan.action == "build_only":
        ctx.log.info("built %s for %s (push is false: nothing pushed or recorded)", plan.content_ref, ", ".join(plan.platforms))
        return PublishOutcome(image_id=image_ids[0])
    _login(ctx, docker, ecr, repository, registry, credentials)
    pushed: dict[str, str] = {}
    for platform in plan.platforms:
        ref = plan.platform_ref(platform)
        docker.push(ref, timeout=args.timeout)
        tag = ref.rsplit(":", 1)[1]
        pushed[platform] = read_manifest(client, repository.name, tag).digest if client else pushed_digest(ecr, repository, tag)
        ctx.log.info("pushed %s as %s", ref, pushed[platform])
    sources = tuple(digest_uri(plan.target_registry, repository.name, pushed[platform]) for platform in plan.platforms)
    docker.run(
        index_command(docker.executable, plan.content_ref, sources), what=f"creating the index {plan.content_ref}", timeout=args.timeout
    )
    if client is not None:
        index = read_manifest(client, repository.name, plan.content_tag)
        found = _index_platforms(index.body, plan, f"the index {plan.content_ref}")
        for platform in plan.platforms:
            child = read_manifest(client, repository.name, pushed[platform])
            record_untagged(ecr, repository, child.text, child.media_type or None, child.digest)
        digest = record_image(ecr, repository, index.text, index.media_type or None, index.digest, (plan.content_tag,))
        add_tags(ecr, repository, digest, plan.requested_tags)
        tag_manifest(client, repository.name, digest, plan.requested_tags)
    else:
        digest = pushed_digest(ecr, repository, plan.content_tag)
        manifest, _ = get_manifest(ecr, repository, digest)
        found = _index_platforms(manifest, plan, f"the index {plan.content_ref}")
        add_tags(ecr, repository, digest, plan.requested_tags)
    if found != pushed:
        raise HookError(f"the index {plan.content_ref} does not hold the manifests just pushed")
    ctx.log.info("pushed the index %s as %s (%s)", ", ".join(plan.tags), digest, ", ".join(f"{p} {d}" for p, d in found.items()))
    return PublishOutcome(digest=digest, image_id=image_ids[0], platform_digests=found)


def _build(
    args: DockerBuildPushArgs,
    docker: DockerCli,
    paths: BuildPaths,
    plan: PublishPlan,
    secrets: ResolvedSecrets,
    *,
    platform: str | None = None,
) -> str | None:
    """Build and tag every ref locally (a multi-platform build: one platform, under its own ref); the local image id."""
    builder = "buildx" if platform is not None else docker.choose_builder(args.builder)
    refs = (plan.platform_ref(platform),) if platform is not None else plan.refs
    with as_files(secrets) if builder == "docker" else contextlib.nullcontext(secrets) as delivered:
        command = build_command(docker.executable, builder, args, paths, refs, delivered, platform=platform)
        docker.build(command, cwd=paths.working_directory, timeout=args.timeout, platform=platform or args.target_platforms()[0])
    return docker.image_id(refs[0])


def _login(
    ctx: HookContext, docker: DockerCli, ecr: Any, repository: EcrRepository, registry: str | None, credentials: Credentials | None
) -> None:
    """``docker login --password-stdin``: ECR's token for ECR; the optional credentials for an override."""
    if registry is None:
        login = login_credentials(ecr, repository)
        docker.login(login.registry, login.username, login.password)
    elif credentials is not None:
        docker.login(registry.split("/", 1)[0], credentials.username, credentials.password)
    else:
        reason = "loopback registry" if is_loopback_registry(registry) else f"no ${REGISTRY_USERNAME_VARIABLE}/_PASSWORD"
        ctx.log.debug("not logging in to %s (%s)", registry, reason)


def _push_and_record(
    args: DockerBuildPushArgs, docker: DockerCli, ecr: Any, repository: EcrRepository, plan: PublishPlan, client: RegistryClient | None
) -> str:
    """Push the content-tag ref only, confirm it, then move the requested tags onto it: ECR first, then the registry.

    Returns the digest ECR records (for an override: the registry's manifest, given to ECR).
    """
    docker.push(plan.content_ref, timeout=args.timeout)
    if client is None:
        digest = pushed_digest(ecr, repository, plan.content_tag)
        add_tags(ecr, repository, digest, plan.requested_tags)
        return digest
    manifest = read_manifest(client, repository.name, plan.content_tag)  # the registry holds the whole image
    digest = record_image(ecr, repository, manifest.text, manifest.media_type or None, manifest.digest, (plan.content_tag,))
    add_tags(ecr, repository, digest, plan.requested_tags)
    tag_manifest(client, repository.name, digest, plan.requested_tags)
    docker.log.debug("recorded %s in the ECR API and the registry under %s", digest, ", ".join(plan.tags))
    return digest


def _forget_lookup_cache(ctx: HookContext, repository: str) -> None:
    """Inside Runway, make ``${ecr_image}`` look this repository up afresh (its tags may move now)."""
    if ctx.cfngin is not None:
        from runway_ext.lookups.ecr_image import forget_cached_images

        forget_cached_images(ctx.cfngin, repository)
