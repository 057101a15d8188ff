"""ECR calls the Docker hook needs: the repository, an image by tag, tagging a manifest, the login token.

Contract: each function is one or a few ECR API calls on the client it is given, nothing else.
Every AWS error becomes a :class:`HookError` of one line naming the repository and region; an
access denial says which permission is missing. The login token is registered for redaction.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runway_ext.core.aws import aws_errors, error_code, error_message, is_client_error
from runway_ext.core.errors import HookError
from runway_ext.core.log import register_secret


@dataclass(frozen=True)
class EcrRepository:
    """An ECR repository: its name, URI (``HOST/NAME``) and the account (registry id) that owns it."""

    name: str
    uri: str
    registry_id: str
    region: str

    @property
    def host(self) -> str:
        """The registry host (``ACCOUNT.dkr.ecr.REGION.amazonaws.com``)."""
        return self.uri.split("/", 1)[0]


@dataclass(frozen=True)
class EcrImage:
    """An image in ECR: its digest and every tag on it."""

    digest: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    media_type: str = ""
    """The manifest media type ECR reports (an index for a multi-platform image)."""


_XML_MESSAGE = re.compile(r"<Code>(?P<code>[^<]*)</Code>\s*<Message>(?P<message>[^<]*)</Message>")


def _fail(what: str, error: Exception, repository: str, region: str) -> HookError:
    """One line for an AWS error; denials (by code or HTTP 403) say "access denied"."""
    code = error_code(error)
    message = error_message(error)
    embedded = _XML_MESSAGE.search(message)  # an XML error body where JSON was expected (some stand-ins, proxies)
    if embedded:
        code, message = embedded["code"], f"{embedded['code']}: {embedded['message']}"
    message = " ".join(message.split())
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") if is_client_error(error) else None  # type: ignore[attr-defined]
    if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException") or status == 403:
        return HookError(f"ECR access denied while {what} ({repository} in {region}): {message}")
    return HookError(f"ECR error while {what} ({repository} in {region}): {message}")


def ensure_repository(
    ecr: Any, name: str, region: str, *, create: bool, scan_on_push: bool, tags: dict[str, str]
) -> tuple[EcrRepository, bool]:
    """The repository ``name``, created (with scan on push, ``tags``) when missing and allowed; also whether it was created."""
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        return _repository(found, region), False
    except aws_errors() as error:
        if error_code(error) != "RepositoryNotFoundException":
            raise _fail("describing the repository", error, name, region) from None
    if not create:
        raise HookError(f"repository_name: ECR repository {name} does not exist in {region} (create_repository is false)")
    try:
        created = ecr.create_repository(
            repositoryName=name,
            imageScanningConfiguration={"scanOnPush": scan_on_push},
            tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )["repository"]
        return _repository(created, region), True
    except aws_errors() as error:
        if error_code(error) == "RepositoryAlreadyExistsException":  # created meanwhile by someone else
            return ensure_repository(ecr, name, region, create=False, scan_on_push=scan_on_push, tags=tags)
        raise _fail("creating the repository", error, name, region) from None


def _repository(data: dict[str, Any], region: str) -> EcrRepository:
    return EcrRepository(name=data["repositoryName"], uri=data["repositoryUri"], registry_id=data["registryId"], region=region)


def find_image(ecr: Any, repository: EcrRepository, tag: str) -> EcrImage | None:
    """The image tagged ``tag``, or ``None`` when there is none."""
    try:
        details = ecr.describe_images(repositoryName=repository.name, registryId=repository.registry_id, imageIds=[{"imageTag": tag}])[
            "imageDetails"
        ]
    except aws_errors() as error:
        if error_code(error) == "ImageNotFoundException":
            return None
        raise _fail(f"looking for tag {tag}", error, repository.name, repository.region) from None
    if not details:
        return None
    return EcrImage(
        digest=details[0]["imageDigest"],
        tags=tuple(sorted(details[0].get("imageTags") or ())),
        media_type=str(details[0].get("imageManifestMediaType") or ""),
    )


def get_manifest(ecr: Any, repository: EcrRepository, digest: str) -> tuple[str, str | None]:
    """The manifest text and media type of ``repository@digest`` (ECR ``BatchGetImage``)."""
    try:
        answer = ecr.batch_get_image(repositoryName=repository.name, registryId=repository.registry_id, imageIds=[{"imageDigest": digest}])
    except aws_errors() as error:
        raise _fail(f"reading the manifest of {digest}", error, repository.name, repository.region) from None
    if not answer.get("images"):
        reason = (answer.get("failures") or [{}])[0].get("failureReason", "not found")
        raise HookError(f"ECR has no manifest for {repository.name}@{digest} in {repository.region}: {reason}")
    image = answer["images"][0]
    return image["imageManifest"], image.get("imageManifestMediaType")


def put_tags(
    ecr: Any,
    repository: EcrRepository,
    manifest: str,
    media_type: str | None,
    digest: str,
    tags: Iterable[str],
) -> list[str]:
    """Tag the manifest ``digest`` with each of ``tags`` (ECR ``PutImage``: no layer moves); return the tags added."""
    added = []
    for tag in tags:
        request: dict[str, Any] = {
            "repositoryName": repository.name,
            "registryId": repository.registry_id,
            "imageManifest": manifest,
            "imageTag": tag,
            "imageDigest": digest,
        }
        if media_type:
            request["imageManifestMediaType"] = media_type
        try:
            ecr.put_image(**request)
        except aws_errors() as error:
            code = error_code(error)
            if code == "ImageAlreadyExistsException":
                continue  # the tag is already on this very manifest
            if code == "ImageTagAlreadyExistsException":
                raise HookError(f"tag {tag} is on another image in the immutable repository {repository.name}; choose a new tag") from None
            if code == "LayersNotFoundException":
                raise HookError(
                    f"ECR cannot record {repository.name}:{tag}: its layers are not in ECR ({error_message(error)}); "
                    "a registry override only works with the local ECR stand-in"
                ) from None
            raise _fail(f"tagging {digest} as {tag}", error, repository.name, repository.region) from None
        added.append(tag)
    return added


def add_tags(ecr: Any, repository: EcrRepository, digest: str, tags: Iterable[str]) -> list[str]:
    """Put ``tags`` on the image ``digest`` ECR already has (its manifest, re-stored by ``PutImage``); return the tags added."""
    tags = list(tags)
    if not tags:
        return []
    manifest, media_type = get_manifest(ecr, repository, digest)
    return put_tags(ecr, repository, manifest, media_type, digest, tags)


def record_image(ecr: Any, repository: EcrRepository, manifest: str, media_type: str | None, digest: str, tags: Sequence[str]) -> str:
    """Give ECR a manifest pushed elsewhere under every tag, then check ECR reports ``digest`` for the last tag."""
    put_tags(ecr, repository, manifest, media_type, digest, tags)
    return pushed_digest(ecr, repository, tags[-1], expected=digest)


def record_untagged(ecr: Any, repository: EcrRepository, manifest: str, media_type: str | None, digest: str) -> None:
    """Give ECR one platform's manifest of an index, by digest and without a tag (``PutImage``), before the index."""
    request: dict[str, Any] = {
        "repositoryName": repository.name,
        "registryId": repository.registry_id,
        "imageManifest": manifest,
        "imageDigest": digest,
    }
    if media_type:
        request["imageManifestMediaType"] = media_type
    try:
        ecr.put_image(**request)
    except aws_errors() as error:
        if error_code(error) == "ImageAlreadyExistsException":
            return
        raise _fail(f"recording the manifest {digest}", error, repository.name, repository.region) from None


def pushed_digest(ecr: Any, repository: EcrRepository, tag: str, *, expected: str | None = None) -> str:
    """The digest ECR lists for ``tag`` just after a push (and, when given, that it is ``expected``)."""
    found = find_image(ecr, repository, tag)
    if found is None:
        raise HookError(f"pushed {repository.name}:{tag} but ECR does not list it in {repository.region}")
    if expected is not None and found.digest != expected:
        raise HookError(f"ECR recorded {found.digest} for {repository.name}:{tag}, expected {expected}")
    return found.digest


@dataclass(frozen=True)
class EcrLogin:
    """What ``docker login`` needs for ECR; the password is registered as a secret when read."""

    username: str
    password: str = field(repr=False)
    registry: str


def login_credentials(ecr: Any, repository: EcrRepository) -> EcrLogin:
    """A 12-hour registry login for the repository's account (``GetAuthorizationToken``)."""
    try:
        data = ecr.get_authorization_token(registryIds=[repository.registry_id])["authorizationData"][0]
    except aws_errors() as error:
        raise _fail("getting a login token", error, repository.name, repository.region) from None
    token = data["authorizationToken"]
    register_secret(token)
    username, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    register_secret(password)
    endpoint = data.get("proxyEndpoint") or f"https://{repository.host}"
    return EcrLogin(username=username, password=password, registry=endpoint.split("://", 1)[-1].rstrip("/"))
