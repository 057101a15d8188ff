"""A tiny client for the Docker Registry HTTP API v2: read a manifest, tag it, check it exists.

This is how an image is re-tagged **without pulling or pushing layers** on a registry that is not
ECR (ECR has ``PutImage`` for that), and how the exact manifest bytes of a pushed image are read so
the ECR API can record the same image under the same digest.

Registries on loopback (``127.0.0.1:5000``, ``localhost:5000``) are spoken to over plain HTTP and
never through a proxy; any other over HTTPS. Anonymous access is tried first; on ``401`` the
challenge is answered — ``Basic`` with, or a ``Bearer`` token fetched with, the optional credentials.

Contract: :class:`RegistryClient` raises :class:`RegistryError`; the functions below it are what the
hook calls, and turn that into a one-line :class:`HookError` starting ``registry:``. Credentials come
from ``$RUNWAY_EXT_REGISTRY_USERNAME``/``_PASSWORD``; the password is registered for redaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.image_refs import is_loopback_registry, split_registry
from runway_ext.core.log import register_secret

REGISTRY_USERNAME_VARIABLE = "RUNWAY_EXT_REGISTRY_USERNAME"
REGISTRY_PASSWORD_VARIABLE = "RUNWAY_EXT_REGISTRY_PASSWORD"  # noqa: S105 - a variable name, not a password

MANIFEST_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry stores it: its bytes, media type and digest."""

    body: bytes
    media_type: str
    digest: str

    @property
    def text(self) -> str:
        """The manifest as text (what ECR ``PutImage`` takes)."""
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Credentials:
    """A username and password for a registry that wants them."""

    username: str
    password: str = ""


class RegistryClient:
    """Manifests of one registry (``host[:port]``); repository names may carry the registry's path prefix."""

    def __init__(self, registry: str, *, credentials: Credentials | None = None, timeout: float = 30) -> None:
        """Talk to ``registry`` (``host[:port][/prefix]``; the prefix belongs to repository names)."""
        host, self.prefix = split_registry(registry)
        scheme = "http" if is_loopback_registry(host) else "https"
        self.base_url = f"{scheme}://{host}"
        self.credentials = credentials
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = []
        if is_loopback_registry(host):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)
        self._authorization: str | None = None

    def repository_path(self, repository: str) -> str:
        """The repository's name on this registry (with the registry's path prefix)."""
        return f"{self.prefix}/{repository}" if self.prefix else repository

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest of ``repository`` at a tag or digest; its digest is checked against the bytes."""
        status, headers, body = self._request("GET", self._manifest_url(repository, reference))
        if status == 404:
            raise RegistryError(f"{self.repository_path(repository)}:{reference} not found on {self.base_url}")
        self._expect(status, body, f"reading manifest {self.repository_path(repository)}:{reference}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        announced = headers.get("Docker-Content-Digest")
        if announced and announced != digest:
            raise RegistryError(f"registry announced digest {announced} but the manifest bytes hash to {digest}")
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip() or _media_type_of(body)
        return Manifest(body=body, media_type=media_type, digest=digest)

    def has_manifest(self, repository: str, digest: str) -> bool:
        """Whether ``repository@digest`` exists on the registry."""
        status, _, body = self._request("HEAD", self._manifest_url(repository, digest))
        if status == 404:
            return False
        self._expect(status, body, f"checking {self.repository_path(repository)}@{digest}")
        return True

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Store ``manifest`` under ``tag`` (no layer moves); return the digest the registry reports."""
        status, headers, body = self._request(
            "PUT", self._manifest_url(repository, tag), data=manifest.body, content_type=manifest.media_type
        )
        self._expect(status, body, f"tagging {self.repository_path(repository)}:{tag}")
        return headers.get("Docker-Content-Digest") or manifest.digest

    # -- HTTP -----------------------------------------------------------------------------------
    def _manifest_url(self, repository: str, reference: str) -> str:
        path = urllib.parse.quote(self.repository_path(repository), safe="/")
        return f"{self.base_url}/v2/{path}/manifests/{urllib.parse.quote(reference, safe=':')}"

    def _request(self, method: str, url: str, *, data: bytes | None = None, content_type: str | None = None) -> tuple[int, Any, bytes]:
        for attempt in range(2):
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("Accept", ", ".join(MANIFEST_MEDIA_TYPES))
            if content_type:
                request.add_header("Content-Type", content_type)
            if self._authorization:
                request.add_header("Authorization", self._authorization)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                if error.code == 401 and attempt == 0 and self._answer_challenge(error.headers.get("WWW-Authenticate", "")):
                    continue
                return error.code, error.headers, error.read()
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise RegistryError(f"registry {self.base_url} unreachable: {reason}") from None
        raise RegistryError(f"registry {self.base_url} refused the credentials")  # pragma: no cover - loop exits above

    def _answer_challenge(self, challenge: str) -> bool:
        """Set ``Authorization`` for a ``Basic`` or ``Bearer`` challenge; False when it cannot be answered."""
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() == "basic" and self.credentials:
            self._authorization = "Basic " + _basic(self.credentials)
            return True
        if scheme.lower() == "bearer" and params.get("realm"):
            query = {key: params[key] for key in ("service", "scope") if key in params}
            request = urllib.request.Request(params["realm"] + ("?" + urllib.parse.urlencode(query) if query else ""))
            if self.credentials:
                request.add_header("Authorization", "Basic " + _basic(self.credentials))
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    answer = json.loads(response.read())
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise RegistryError(f"registry token service {params['realm']} failed: {error}") from None
            token = answer.get("token") or answer.get("access_token")
            if not token:
                return False
            self._authorization = f"Bearer {token}"
            return True
        return False

    def _expect(self, status: int, body: bytes, what: str) -> None:
        if 200 <= status < 300:
            return
        raise RegistryError(f"{what} on {self.base_url} failed: HTTP {status} {_registry_message(body)}".rstrip())


def _basic(credentials: Credentials) -> str:
    return base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()


def _media_type_of(body: bytes) -> str:
    try:
        return str(json.loads(body).get("mediaType", ""))
    except ValueError:
        return ""


def _registry_message(body: bytes) -> str:
    """The registry's own error text (``{"errors": [{"code", "message"}]}``), else the start of the body."""
    try:
        errors = json.loads(body).get("errors") or []
        return "; ".join(f"{item.get('code', '')}: {item.get('message', '')}" for item in errors)
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


# -- what the hook calls -------------------------------------------------------------------------
def registry_credentials(environ: Mapping[str, str]) -> Credentials | None:
    """Credentials from ``$RUNWAY_EXT_REGISTRY_USERNAME``/``_PASSWORD`` (both, or none); the password is registered as a secret."""
    username = environ.get(REGISTRY_USERNAME_VARIABLE, "")
    password = environ.get(REGISTRY_PASSWORD_VARIABLE, "")
    if not username or not password:
        return None
    register_secret(password)
    return Credentials(username=username, password=password)


@contextmanager
def _registry_step() -> Iterator[None]:
    try:
        yield
    except RegistryError as error:
        raise HookError(f"registry: {error}") from None


def registry_holds(client: RegistryClient, repository: str, digest: str) -> bool:
    """Whether the registry still holds ``repository@digest``."""
    with _registry_step():
        return client.has_manifest(repository, digest)


def read_manifest(client: RegistryClient, repository: str, reference: str) -> Manifest:
    """The manifest of ``repository`` at a tag or digest, exactly as the registry stores it."""
    with _registry_step():
        return client.get_manifest(repository, reference)


def tag_manifest(client: RegistryClient, repository: str, digest: str, tags: Iterable[str]) -> None:
    """Put each of ``tags`` on the manifest ``repository@digest`` (a manifest ``PUT`` of the same bytes; no layer moves)."""
    with _registry_step():
        manifest = client.get_manifest(repository, digest)
        for tag in tags:
            client.put_manifest(repository, tag, manifest)
