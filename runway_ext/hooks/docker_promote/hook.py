"""The image promotion hook's body (the CFNgin entry point and the ``docker-promote`` CLI command).

Contract: validate, observe (the source image in ECR and its manifests, the destination tag), plan
(:func:`~.plan.plan_promotion`), copy by digest (``docker buildx imagetools create``: the index and
every manifest it lists, blobs mounted or copied by the registry client, bytes unchanged), check the
destination's digest is the source's, and record it in the destination ECR like a push (each platform
manifest untagged, then the index under the tag) when the copy went through a registry override.
A failure before the record leaves the destination ECR tag where it was.
"""

from __future__ import annotations

from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, hook
from runway_ext.core.image_index import is_index_media_type, parse_index, platform_digests
from runway_ext.core.image_refs import digest_uri, image_uri, registry_problem
from runway_ext.hooks.docker_build_push.args import ECR_KEYWORD
from runway_ext.hooks.docker_build_push.docker_cli import DockerCli, docker_environment
from runway_ext.hooks.docker_build_push.ecr import (
    EcrRepository,
    ensure_repository,
    find_image,
    get_manifest,
    login_credentials,
    put_tags,
    record_untagged,
)
from runway_ext.hooks.docker_build_push.plan import REGISTRY_VARIABLE
from runway_ext.hooks.docker_build_push.registry import RegistryClient, read_manifest, registry_credentials, registry_holds
from runway_ext.hooks.docker_promote.args import DockerPromoteArgs, DockerPromoteResult
from runway_ext.hooks.docker_promote.plan import check_same_digest, copy_command, plan_promotion

HOOK_NAME = "docker_promote"


def render_result(result: dict[str, Any]) -> str:
    """The CLI's human summary."""
    state = "copied" if result.get("copied") else "already there"
    lines = [f"{result['destination_uri']}: {state}", f"  digest:      {result['digest']} (same as {result['source_uri']})"]
    for platform, digest in sorted((result.get("platform_digests") or {}).items()):
        lines.append(f"  {platform + ':':<12} {digest}")
    return "\n".join(lines)


@hook(
    HOOK_NAME,
    DockerPromoteArgs,
    summary="Promote an image to another ECR repository, region or account without rebuilding (same digest, every platform).",
    render=render_result,
)
def cfngin_hook(args: DockerPromoteArgs, ctx: HookContext) -> DockerPromoteResult:
    """Copy ``source`` to ``destination`` by digest and record it in the destination ECR."""
    environ = docker_environment()
    registry = _registry(args, environ)
    source_name, source_tag = args.repository_and_tag(args.source)
    target_name, target_tag = args.repository_and_tag(args.destination)
    source_region = ctx.region(args.source_region)
    target_region = args.destination_region or source_region
    if (source_name, source_region, args.source_registry_id) == (target_name, target_region, args.destination_registry_id):
        raise HookError("destination: the same repository as the source (retag with docker_build_push tags instead)")

    # observe
    source_ecr = ctx.client("ecr", source_region)
    target_ecr = ctx.client("ecr", target_region)
    source_repository, _ = ensure_repository(source_ecr, source_name, source_region, create=False, scan_on_push=False, tags={})
    source_repository = _owned_by(source_repository, args.source_registry_id)
    image = find_image(source_ecr, source_repository, source_tag)
    if image is None:
        raise HookError(f"source: no image {args.source} in {source_region}")
    manifest, media_type = get_manifest(source_ecr, source_repository, image.digest)
    children: dict[str, str] = {}
    child_manifests: list[tuple[str, str | None, str]] = []
    if is_index_media_type(media_type):
        try:
            index = parse_index(manifest)
        except ValueError as error:
            raise HookError(f"source: {args.source}: {error}") from None
        children = platform_digests(index)
        for entry in index.manifests:
            text, entry_type = get_manifest(source_ecr, source_repository, entry.digest)
            child_manifests.append((text, entry_type, entry.digest))
    target_repository, created = ensure_repository(
        target_ecr, target_name, target_region, create=args.create_repository, scan_on_push=True, tags={}
    )
    target_repository = _owned_by(target_repository, args.destination_registry_id)
    existing = find_image(target_ecr, target_repository, target_tag)
    client = RegistryClient(registry, credentials=registry_credentials(environ)) if registry else None

    # plan
    plan = plan_promotion(image, existing, target_tag)
    if not plan.copy and client is not None and not registry_holds(client, target_name, image.digest):
        plan = plan.__class__(True, f"ECR records {target_tag} but the registry {registry} lacks it")
    source_host = registry or source_repository.host
    target_host = registry or target_repository.host
    source_uri = digest_uri(source_host, source_name, image.digest)
    target_ref = image_uri(target_host, target_name, target_tag)

    # act
    if plan.copy:
        ctx.log.info("promoting %s to %s (%s)", source_uri, target_ref, plan.reason)
        docker = DockerCli.connect(environ, ctx.log)
        if registry is None:
            for ecr, repository in ((source_ecr, source_repository), (target_ecr, target_repository)):
                login = login_credentials(ecr, repository)
                docker.login(login.registry, login.username, login.password)
        docker.run(copy_command(docker.executable, source_uri, target_ref), what=f"copying {source_uri}", timeout=args.timeout)
        if client is not None:
            copied = read_manifest(client, target_name, target_tag)
            check_same_digest(args.destination, image.digest, copied.digest)
            for text, entry_type, digest in child_manifests:
                record_untagged(target_ecr, target_repository, text, entry_type, digest)
            put_tags(target_ecr, target_repository, copied.text, copied.media_type or None, copied.digest, (target_tag,))
        found = find_image(target_ecr, target_repository, target_tag)
        check_same_digest(args.destination, image.digest, found.digest if found else "nothing")
        ctx.log.info("promoted %s as %s", args.destination, image.digest)
    else:
        ctx.log.info("nothing to promote: %s", plan.reason)
    return DockerPromoteResult(
        source_uri=source_uri,
        destination_uri=target_ref,
        destination_digest_uri=digest_uri(target_repository.host, target_name, image.digest),
        digest=image.digest,
        platform_digests=children,
        copied=plan.copy,
        repository_created=created,
    )


COMMAND = cfngin_hook


def _registry(args: DockerPromoteArgs, environ: dict[str, str]) -> str | None:
    """The non-ECR registry to copy within, or ``None`` for ECR (arg first, then ``$RUNWAY_EXT_REGISTRY``)."""
    if args.registry is not None:
        return None if args.registry == ECR_KEYWORD else args.registry
    value = environ.get(REGISTRY_VARIABLE, "").strip().rstrip("/")
    if not value or value == ECR_KEYWORD:
        return None
    problem = registry_problem(value)
    if problem:
        raise HookError(f"registry: ${REGISTRY_VARIABLE}: {problem}")
    return value


def _owned_by(repository: EcrRepository, registry_id: str | None) -> EcrRepository:
    """The repository as owned by ``registry_id`` when one is given (cross-account)."""
    if not registry_id or registry_id == repository.registry_id:
        return repository
    host = repository.host.replace(repository.registry_id, registry_id, 1)
    return EcrRepository(name=repository.name, uri=f"{host}/{repository.name}", registry_id=registry_id, region=repository.region)
