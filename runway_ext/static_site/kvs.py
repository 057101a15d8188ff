"""The CloudFront KeyValueStore data-plane client the release pointer is written through, and the pointer's model.

:class:`KvsClient` wraps boto3's ``cloudfront-keyvaluestore`` client (DescribeKeyValueStore, GetKey, ListKeys,
UpdateKeys with ``IfMatch``). That API is signed with SigV4A, which botocore only does with the AWS CRT
(``botocore[crt]``, a runtime dependency).

- :meth:`KvsClient.describe` → the store's ETag; :meth:`KvsClient.get_key` → (value or ``None``, ETag), the
  ETag read *before* the value, so a write naming it can only succeed if nothing changed since;
- :meth:`KvsClient.put_key_if` / :meth:`KvsClient.delete_key_if`: a compare-and-swap of ONE key. The store
  has one ETag for all its keys, so a write can fail (``ConflictException``) because another key of the
  same store changed (another site, a preview): then this key is read again and, when it still holds what
  the caller expected, the write is retried with the new ETag (at most :data:`CAS_ATTEMPTS` times); when
  this key changed, the write fails in one line saying what it found;
- :meth:`KvsClient.put_key_if_match`: one write of ONE key naming the store ETag the caller read (with
  :meth:`KvsClient.get_key`, of this key or of another one that guards it); ``None`` when the store changed
  since, for the caller to read again and decide. No retry: what to compare is the caller's.

Every failure is a :class:`KvsError` with one line naming the store or key: a store that does not exist, a
store ARN of another account than the credentials' (compared with STS before the first call), a value too
large, a key too long, a missing CRT.

Local mode: boto3 takes the endpoint from ``AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE`` or
``AWS_ENDPOINT_URL`` as for every service, but this service's endpoint rules put the store's account in
front of the host (``http://ACCOUNT.127.0.0.1:PORT``), which no resolver answers for a loopback address.
When the configured endpoint is a loopback address the client therefore sends its requests to that
address as given (before they are signed, so the signature still covers what is sent). Nothing changes
for AWS's own endpoint.

:class:`ReleasePointer` is the value of a site's live (or preview) pointer, schema version 1, as the
viewer-request function of the CDN blueprint reads it; :func:`pointer_key` names the live key of a site prefix,
:func:`preview_key` a preview's (``{P}preview/{name}``), :func:`preview_name_problem` the rule a preview name
follows (the function applies the same one to the Host it is asked for).
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from runway_ext.core.aws import error_code, error_message, make_client
from runway_ext.core.errors import HookError

if TYPE_CHECKING:
    import boto3

KEY_MAX_CHARS = 512
"""AWS's limit on a key."""
STORE_VALUE_MAX_CHARS = 1024
"""AWS's limit on a value."""
POINTER_MAX_BYTES = 1000
"""The release pointer's own bound (compact JSON), below AWS's value limit."""
CAS_ATTEMPTS = 5
"""Writes tried when the store's ETag moved because of other keys."""
RELEASE_ID = re.compile(r"^r[1-9][0-9]*$")
_NOT_IN_PREFIX = re.compile(r"[\s?#*\\]")
_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):cloudfront::(?P<account>\d{12}):key-value-store/(?P<id>[A-Za-z0-9-]+)$")


class KvsError(HookError):
    """A key value store operation failed (one line naming the store or key)."""


class KvsConflictError(KvsError):
    """The key did not hold what the caller expected: someone else changed it."""


def pointer_key(site_prefix: str) -> str:
    """The live pointer's key for site prefix ``P`` (``""`` → ``live``, ``docs/`` → ``docs/live``)."""
    if site_prefix and not site_prefix.endswith("/"):
        raise ValueError(f"site prefix {site_prefix!r} must be empty or end with '/'")
    return f"{site_prefix}live"


PREVIEW_NAME_MAX_CHARS = 40
"""A preview name is one DNS label of at most this many characters."""
_PREVIEW_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_PREVIEW_NAMES = ("live", "shared", "preview")
"""Words of the layout that are never preview names (as are release ids, ``r`` + digits)."""


def preview_name_problem(name: str) -> str | None:
    """Why ``name`` is not a preview name, or ``None``; the viewer-request function applies the same rule.

    A preview name is a DNS label: lowercase letters, digits and ``-`` (not first or last), 1 to
    :data:`PREVIEW_NAME_MAX_CHARS` characters; not ``r`` + digits (a release id's shape), not one of
    :data:`RESERVED_PREVIEW_NAMES`, and no ``--`` at the third and fourth characters (reserved for
    internationalised labels, ``xn--``). Upper case is refused, not folded: the caller normalises.
    """
    if not isinstance(name, str) or not _PREVIEW_NAME.match(name):
        return (
            f"preview name {name!r} is not a DNS label: lowercase letters, digits and '-' (not first or last),"
            f" 1 to {PREVIEW_NAME_MAX_CHARS} characters"
        )
    if re.match(r"^r[0-9]+$", name):
        return f"preview name {name!r} has the shape of a release id (r<N>); choose another name, e.g. pr-{name[1:]}"
    if name in RESERVED_PREVIEW_NAMES:
        return f"preview name {name!r} is reserved ({', '.join(RESERVED_PREVIEW_NAMES)} and release ids are)"
    if name[2:4] == "--":
        return f"preview name {name!r} has '--' at the third and fourth characters (reserved for internationalised names)"
    return None


def preview_key(site_prefix: str, name: str) -> str:
    """The preview pointer's key ``{P}preview/{name}``; ``ValueError`` (one line) for a bad name or prefix."""
    problem = preview_name_problem(name)
    if problem:
        raise ValueError(problem)
    return f"{pointer_key(site_prefix)[: -len('live')]}preview/{name}"


class ReleasePointer(BaseModel):
    """A pointer value (v1): ``{"v":1,"r":"r7","s":["_next/static/"],"k":["r6","r5"]}``.

    ``r``: the release navigations get; ``s``: shared prefixes (paths under them are served from the shared
    folder); ``k``: older releases a pinned tab may still reach, newest first. The function reads the same
    rules (a value breaking any of them means "no pointer": the root is served); it ignores unknown fields,
    this model refuses them so none is ever written.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: StrictInt = Field(description='Schema version; 1 (the number: "1" or true is refused, as the function refuses it).')
    r: str = Field(description="Release served to navigations and to requests without a valid pin.")
    s: tuple[str, ...] = Field(default=(), description="Shared prefixes of release r.")
    k: tuple[str, ...] = Field(default=(), description="Other releases a pinned tab may still reach, newest first.")

    @field_validator("v")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only schema version 1 is known")
        return value

    @field_validator("r")
    @classmethod
    def _release(cls, value: str) -> str:
        if not RELEASE_ID.match(value):
            raise ValueError(f"{value!r} is not a release id (r<N>, N >= 1)")
        return value

    @field_validator("k")
    @classmethod
    def _kept(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for release in value:
            if not RELEASE_ID.match(release):
                raise ValueError(f"{release!r} is not a release id (r<N>, N >= 1)")
        return value

    @field_validator("s")
    @classmethod
    def _shared(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not is_shared_prefix(prefix):
                raise ValueError(f"{prefix!r} is not a shared prefix (relative, ending with '/', no '.' or '..' segment)")
        return value

    def to_value(self) -> str:
        """The compact JSON written to the store; refuses a value over :data:`POINTER_MAX_BYTES`."""
        value = json.dumps(self.model_dump(mode="json"), separators=(",", ":"))
        if len(value.encode()) > POINTER_MAX_BYTES:
            raise KvsError(f"release pointer: {len(value.encode())} bytes, more than {POINTER_MAX_BYTES} (keep fewer releases in k)")
        return value

    @classmethod
    def from_value(cls, value: str) -> ReleasePointer:
        """Parse a stored value (raises pydantic's ``ValidationError`` or ``ValueError`` on a bad one)."""
        return cls.model_validate_json(value)


def is_shared_prefix(value: str) -> bool:
    """A shared prefix is relative (no leading ``/``), ends with ``/``, has no empty, ``.`` or ``..`` segment and no
    whitespace, ``?``, ``#``, ``*`` or ``\\`` (the viewer-request function applies the same rule)."""
    if len(value) < 2 or value.startswith("/") or not value.endswith("/") or _NOT_IN_PREFIX.search(value):
        return False
    return all(segment not in ("", ".", "..") for segment in value[:-1].split("/"))


def parse_store_arn(arn: str) -> tuple[str, str]:
    """(account, store id) of a key value store ARN; :class:`KvsError` for anything else."""
    match = _ARN.match(arn or "")
    if match is None:
        raise KvsError(f"key value store: {arn!r} is not a key value store ARN (arn:aws:cloudfront::ACCOUNT:key-value-store/ID)")
    return match.group("account"), match.group("id")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _send_to_configured_loopback(endpoint: str) -> Any:
    """A ``before-sign`` handler sending requests to ``endpoint`` itself, not ``ACCOUNT.`` + its host."""
    configured = urlsplit(endpoint)

    def rewrite(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != configured.netloc and parts.netloc.endswith("." + configured.netloc):
            request.url = urlunsplit((parts.scheme, configured.netloc, parts.path, parts.query, parts.fragment))
            if "host" in request.headers:
                del request.headers["host"]

    return rewrite


class KvsClient:
    """Reads and compare-and-swap writes of single keys, with one-line errors."""

    def __init__(self, client: Any, caller_account: str | None = None) -> None:
        """Use a boto3 ``cloudfront-keyvaluestore`` client; ``caller_account``: the credentials' account (None: ask STS)."""
        self.client = client
        self._caller_account = caller_account
        self._checked: set[str] = set()

    @classmethod
    def from_session(cls, session: boto3.Session, sts_client: Any | None = None) -> KvsClient:
        """A client for ``session`` (standard retries, finite timeouts; the local endpoint as described above)."""
        from botocore.exceptions import MissingDependencyException

        try:
            from botocore.compat import HAS_CRT
        except ImportError:  # pragma: no cover - botocore without the flag
            HAS_CRT = False
        if not HAS_CRT:
            raise KvsError("key value store: the API is signed with SigV4A, which needs the AWS CRT: pip install 'botocore[crt]'")
        try:
            client = make_client(session, "cloudfront-keyvaluestore")
        except MissingDependencyException as error:  # pragma: no cover - HAS_CRT said otherwise
            raise KvsError(f"key value store: {error}") from None
        endpoint = client.meta.endpoint_url
        if endpoint and _loopback(endpoint):
            client.meta.events.register_first("before-sign.cloudfront-keyvaluestore", _send_to_configured_loopback(endpoint))
        kvs = cls(client)
        kvs._sts = sts_client or make_client(session, "sts")
        return kvs

    _sts: Any = None

    def _check_store(self, arn: str) -> None:
        """The ARN is well formed and of the credentials' account (once per store)."""
        if arn in self._checked:
            return
        account, _ = parse_store_arn(arn)
        if self._caller_account is None and self._sts is not None:
            try:
                self._caller_account = str(self._sts.get_caller_identity()["Account"])
            except Exception as error:  # noqa: BLE001 - any failure to learn the account is one line
                raise KvsError(f"key value store {arn}: cannot learn the credentials' account from STS: {error_message(error)}") from None
        if self._caller_account is not None and account != self._caller_account:
            raise KvsError(
                f"key value store {arn} belongs to account {account}, but the credentials are for account {self._caller_account}"
            )
        self._checked.add(arn)

    def _call(self, arn: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        self._check_store(arn)
        try:
            return dict(getattr(self.client, operation)(KvsARN=arn, **kwargs))
        except Exception as error:
            code = error_code(error)
            if code == "ConflictException":
                raise
            if code == "ResourceNotFoundException" and operation == "get_key":
                raise
            if code == "ResourceNotFoundException":
                raise KvsError(f"key value store {arn} does not exist (deleted, or never created in this account)") from None
            if code:
                raise KvsError(f"key value store {arn}: {operation}: {error_message(error)}") from None
            raise KvsError(f"key value store {arn}: {operation} failed: {error}") from None

    def describe(self, arn: str) -> str:
        """The store's current ETag."""
        return str(self._call(arn, "describe_key_value_store")["ETag"])

    def get_key(self, arn: str, key: str) -> tuple[str | None, str]:
        """(the key's value, or ``None`` when it is not there; the store ETag read just before it)."""
        _check_key(key)
        etag = self.describe(arn)
        try:
            found = self._call(arn, "get_key", Key=key)
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                self.describe(arn)  # the store itself still exists: the key is missing (else: one line from describe)
                return None, etag
            raise
        return str(found["Value"]), etag

    def list_keys(self, arn: str) -> dict[str, str]:
        """Every key and value of the store."""
        items: dict[str, str] = {}
        token: str | None = None
        while True:
            page = self._call(arn, "list_keys", MaxResults=50, **({"NextToken": token} if token else {}))
            items.update({item["Key"]: item["Value"] for item in page.get("Items") or []})
            token = page.get("NextToken")
            if not token:
                return items

    def put_key_if(self, arn: str, key: str, value: str, expected_value: str | None) -> str:
        """Set ``key`` to ``value`` if it holds ``expected_value`` (``None``: absent); return the store's new ETag."""
        _check_key(key)
        _check_value(key, value)
        return self._swap(arn, key, expected_value, {"Puts": [{"Key": key, "Value": value}]})

    def delete_key_if(self, arn: str, key: str, expected_value: str) -> str:
        """Delete ``key`` if it holds ``expected_value``; return the store's new ETag."""
        _check_key(key)
        return self._swap(arn, key, expected_value, {"Deletes": [{"Key": key}]})

    def put_key_if_match(self, arn: str, key: str, value: str, etag: str) -> str | None:
        """Set ``key`` to ``value`` if the store's ETag is still ``etag``: the new ETag, or ``None`` (nothing written) when any key changed since."""
        _check_key(key)
        _check_value(key, value)
        return self._update_if_match(arn, etag, {"Puts": [{"Key": key, "Value": value}]})

    def _update_if_match(self, arn: str, etag: str, change: dict[str, Any]) -> str | None:
        try:
            return str(self._call(arn, "update_keys", IfMatch=etag, **change)["ETag"])
        except Exception as error:
            if error_code(error) != "ConflictException":
                raise
            return None

    def _swap(self, arn: str, key: str, expected_value: str | None, change: dict[str, Any]) -> str:
        for _attempt in range(CAS_ATTEMPTS):
            current, etag = self.get_key(arn, key)
            if current != expected_value:
                raise KvsConflictError(
                    f"key value store {arn}: key {key!r} holds {_shown(current)}, not the expected {_shown(expected_value)}:"
                    " someone else changed it; read it again before writing"
                )
            written = self._update_if_match(arn, etag, change)
            if written is not None:
                return written
        raise KvsError(f"key value store {arn}: other keys kept changing; key {key!r} not written after {CAS_ATTEMPTS} attempts")


def _shown(value: str | None) -> str:
    if value is None:
        return "nothing (no such key)"
    return json.dumps(value if len(value) <= 120 else value[:117] + "...")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX_CHARS:
        shown = str(key) if len(str(key)) <= 60 else str(key)[:57] + "..."
        raise KvsError(f"key value store: key {shown!r} is {len(str(key))} characters; keys are 1 to {KEY_MAX_CHARS}")


def _check_value(key: str, value: str) -> None:
    if not isinstance(value, str):
        raise KvsError(f"key value store: the value of key {key!r} must be a string")
    if len(value) > STORE_VALUE_MAX_CHARS:
        raise KvsError(f"key value store: the value of key {key!r} is {len(value)} characters; values are at most {STORE_VALUE_MAX_CHARS}")


__all__ = [
    "CAS_ATTEMPTS",
    "KEY_MAX_CHARS",
    "POINTER_MAX_BYTES",
    "PREVIEW_NAME_MAX_CHARS",
    "RESERVED_PREVIEW_NAMES",
    "KvsClient",
    "KvsConflictError",
    "KvsError",
    "ReleasePointer",
    "is_shared_prefix",
    "parse_store_arn",
    "pointer_key",
    "preview_key",
    "preview_name_problem",
]
