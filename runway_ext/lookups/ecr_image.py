"""``${ecr_image REPOSITORY::tag=TAG}``: an ECR image pinned by digest.

Returns ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:…`` for the image that ``TAG`` points
at now, so a stack using it changes exactly when the image behind a moving tag changes. The
arguments are the fields of :class:`EcrImageArgs` (plus Runway's common ones, see
:mod:`runway_ext.lookups.args`); an unknown one is refused.

With ``platform=linux/arm64`` and a tag on an image index (a multi-platform image), the digest is that
platform's own image manifest (what a Lambda function of that architecture takes; the index's
attestation entries are never chosen); without ``platform`` it is the tag's own digest (the index, for
ECS, EKS and App Runner). A platform the index lacks fails in one line naming the platforms it has.

One ``DescribeImages`` call per (repository, tag, region, account) per run, however many stacks use
it: results are cached on the CFNgin context (only found images; a missing one is asked again).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BeforeValidator, model_validator
from runway.lookups.handlers.base import LookupHandler

from runway_ext.core.args import Region, refused_by
from runway_ext.core.aws import error_code, error_message, make_client
from runway_ext.core.image_index import is_index_media_type, parse_index, platform_digests
from runway_ext.core.image_refs import (
    CONTENT_TAG_PREFIX,
    account_problem,
    digest_uri,
    ecr_registry_host,
    image_uri,
    platform_problem,
    registry_problem,
    tag_problem,
)
from runway_ext.lookups.args import LookupArgs, parse_lookup

if TYPE_CHECKING:
    from runway.context import CfnginContext

DEFAULT_TAG = "latest"


def _empty_is_unset(value: Any) -> Any:
    """An empty value (``region=${envvar X}`` with ``X`` empty) means "not given"."""
    return None if value == "" else value


def _no_trailing_slash(value: Any) -> Any:
    return value.rstrip("/") if isinstance(value, str) else value


class EcrImageArgs(LookupArgs):
    """The arguments of ``${ecr_image REPOSITORY::…}``."""

    QUERY_NAME: ClassVar[str] = "REPOSITORY"
    QUERY_DOC: ClassVar[str] = "ECR repository name (`my-app` or `team/my-app`)."

    tag: Annotated[str, refused_by(tag_problem)] = DEFAULT_TAG
    """The tag to resolve."""

    region: Annotated[Region | None, BeforeValidator(_empty_is_unset)] = None
    """Region of the repository (null or empty: the deploy's region)."""

    registry_id: Annotated[Annotated[str, refused_by(account_problem)] | None, BeforeValidator(_empty_is_unset)] = None
    """Account that owns the repository, for cross-account pulls (null or empty: the caller's)."""

    form: Literal["digest_uri", "uri", "digest", "tag"] = "digest_uri"
    """What to return: `digest_uri` (`HOST/REPOSITORY@sha256:…`), `uri` (`HOST/REPOSITORY:TAG`, follows the tag), `digest` (`sha256:…`) or `tag` (the image's immutable `content-…` tag written by the docker_build_push hook, else `TAG` itself). Named `form` so Runway's common `get` keeps its meaning."""

    registry: Annotated[
        Annotated[str, refused_by(registry_problem)] | None, BeforeValidator(_no_trailing_slash), BeforeValidator(_empty_is_unset)
    ] = None
    """Host (`host[:port][/prefix]`) to put in the URI forms instead of the ECR host, e.g. the local registry in local mode: `registry=${envvar RUNWAY_EXT_REGISTRY}` (null or empty: the ECR host)."""

    platform: Annotated[Annotated[str, refused_by(platform_problem)] | None, BeforeValidator(_empty_is_unset)] = None
    """`os/arch[/variant]` (e.g. `linux/arm64`): when the tag is an image index, resolve that platform's own image manifest (what a Lambda function of that architecture takes) instead of the index (null or empty: the tag's own digest, the index for ECS/EKS). Only with form `digest_uri` or `digest`."""

    @model_validator(mode="after")
    def _platform_form(self) -> EcrImageArgs:
        if self.platform and self.form not in ("digest_uri", "digest"):
            raise ValueError(f"platform needs form digest_uri or digest (form {self.form} does not name a manifest)")
        return self


@dataclass(frozen=True)
class ResolvedImage:
    """What ``DescribeImages`` said about one tag."""

    registry_id: str
    digest: str
    tags: tuple[str, ...]
    media_type: str = ""
    """The manifest media type ECR reports (an index for a multi-platform image)."""

    def content_tag(self) -> str | None:
        """The immutable ``content-…`` tag the docker_build_push hook puts on every image, if any."""
        return next((tag for tag in self.tags if tag.startswith(CONTENT_TAG_PREFIX)), None)


CacheKey = tuple[str, str, str, str]
_CACHE: weakref.WeakKeyDictionary[Any, dict[CacheKey, ResolvedImage]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


class ImageNotFound(ValueError):
    """The repository or the tag does not exist."""


def forget_cached_images(context: Any, repository: str | None = None) -> None:
    """Drop cached lookups of ``context`` (of one repository, or all): the next lookup asks ECR again."""
    with _CACHE_LOCK:
        cached = _CACHE.get(context)
        if cached is None:
            return
        for key in [key for key in cached if repository is None or key[1] == repository]:
            del cached[key]


def describe_tag(context: Any, repository: str, tag: str, region: str, registry_id: str) -> ResolvedImage:
    """The image ``repository:tag`` in ``region``, asked once per run (cached on ``context``)."""
    key = (registry_id, repository, tag, region)
    with _CACHE_LOCK:
        cached = _CACHE.setdefault(context, {}).get(key)
    if cached is not None:
        return cached
    client = make_client(context.get_session(region=region), "ecr", region)
    request: dict[str, Any] = {"repositoryName": repository, "imageIds": [{"imageTag": tag}]}
    if registry_id:
        request["registryId"] = registry_id
    try:
        details = client.describe_images(**request)["imageDetails"]
    except ClientError as error:
        code = error_code(error)
        if code == "RepositoryNotFoundException":
            raise ImageNotFound(f"ecr_image: no image {repository}:{tag} in {region}: repository {repository} does not exist") from None
        if code == "ImageNotFoundException":
            raise ImageNotFound(
                f"ecr_image: no image {repository}:{tag} in {region}: tag {tag} not found in repository {repository}"
            ) from None
        raise ValueError(f"ecr_image: {repository}:{tag} in {region}: {error_message(error)}") from None
    except BotoCoreError as error:
        raise ValueError(f"ecr_image: {repository}:{tag} in {region}: {error}") from None
    if not details:
        raise ImageNotFound(f"ecr_image: no image {repository}:{tag} in {region}: tag {tag} not found in repository {repository}")
    detail = details[0]
    resolved = ResolvedImage(
        registry_id=str(detail.get("registryId") or registry_id),
        digest=str(detail["imageDigest"]),
        tags=tuple(sorted(detail.get("imageTags") or ())),
        media_type=str(detail.get("imageManifestMediaType") or ""),
    )
    with _CACHE_LOCK:
        _CACHE.setdefault(context, {})[key] = resolved
    return resolved


_PLATFORM_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str, str], dict[str, str]]] = weakref.WeakKeyDictionary()


def platform_image(context: Any, repository: str, tag: str, region: str, image: ResolvedImage, platform: str) -> ResolvedImage:
    """``image`` itself when it is one image manifest; for an index, its ``platform`` entry (attestations never).

    The index is read once per run (``BatchGetImage``, validated); a platform it lacks is one line naming the ones it has.
    """
    if not is_index_media_type(image.media_type):
        return image
    key = (image.registry_id, repository, image.digest, region)
    with _CACHE_LOCK:
        platforms = _PLATFORM_CACHE.setdefault(context, {}).get(key)
    if platforms is None:
        client = make_client(context.get_session(region=region), "ecr", region)
        try:
            answer = client.batch_get_image(
                repositoryName=repository, registryId=image.registry_id, imageIds=[{"imageDigest": image.digest}]
            )
        except (ClientError, BotoCoreError) as error:
            raise ValueError(f"ecr_image: reading the index {repository}:{tag} in {region}: {error}") from None
        if not answer.get("images"):
            raise ValueError(f"ecr_image: ECR returned no manifest for the index {repository}:{tag} ({image.digest}) in {region}")
        try:
            platforms = platform_digests(parse_index(answer["images"][0]["imageManifest"]))
        except ValueError as error:
            raise ValueError(f"ecr_image: {repository}:{tag} in {region}: {error}") from None
        with _CACHE_LOCK:
            _PLATFORM_CACHE.setdefault(context, {})[key] = platforms
    if platform not in platforms:
        has = ", ".join(sorted(platforms)) or "no platform image"
        raise ValueError(f"ecr_image: {repository}:{tag} in {region} has no {platform} image (it has {has})")
    return ResolvedImage(registry_id=image.registry_id, digest=platforms[platform], tags=image.tags)


def render(image: ResolvedImage, *, form: str, repository: str, tag: str, region: str, registry: str | None) -> str:
    """The requested form of a resolved image. Pure."""
    if form == "digest":
        return image.digest
    if form == "tag":
        return image.content_tag() or tag
    host = registry or ecr_registry_host(image.registry_id, region)
    if form == "uri":
        return image_uri(host, repository, tag)
    return digest_uri(host, repository, image.digest)


class EcrImageLookup(LookupHandler["CfnginContext"]):
    """Resolve an ECR image tag to its digest (or URI, tag, digest URI)."""

    TYPE_NAME: ClassVar[str] = "ecr_image"
    ARGS_MODEL: ClassVar[type[EcrImageArgs]] = EcrImageArgs

    @classmethod
    def handle(cls, value: str, context: CfnginContext, **_kwargs: Any) -> Any:
        """Return the image ``REPOSITORY::tag=…`` in the asked ``form``; fail naming repository and tag (or use ``default``)."""
        repository, args = parse_lookup(cls, EcrImageArgs, value)
        if not repository:
            raise ValueError("ecr_image: a repository name is required (${ecr_image REPOSITORY::tag=TAG})")
        region = args.region or context.env.aws_region
        try:
            image = describe_tag(context, repository, args.tag, region, args.registry_id or "")
        except ImageNotFound:
            if args.default is not None:
                return cls.format_results(args.default, **args.format_args(for_default=True))
            raise
        if args.platform:
            image = platform_image(context, repository, args.tag, region, image, args.platform)
        result = render(image, form=args.form, repository=repository, tag=args.tag, region=region, registry=args.registry)
        return cls.format_results(result, **args.format_args())
