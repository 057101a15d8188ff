"""The CloudFront KeyValueStore data plane (``cloudfront-keyvaluestore``) on the local AWS, emulated from AWS's docs.

moto has the control plane of key value stores (``cloudfront`` CreateKeyValueStore, DescribeKeyValueStore,
DeleteKeyValueStore) but not the data plane that reads and writes their keys. After
:func:`install_kvs_data_plane`, the moto server answers that API on its own endpoint, under the paths the
service model gives it (``/key-value-stores/{KvsARN}[/keys[/{Key}]]``): DescribeKeyValueStore, GetKey,
ListKeys, UpdateKeys, PutKey and DeleteKey, with the behaviour AWS documents:

- a store is one moto created (by its ARN); another ARN is ``ResourceNotFoundException`` (404);
- every write needs ``If-Match`` = the store's current ETag, else ``ConflictException`` (409); the ETag
  changes on every successful write; UpdateKeys is all-or-nothing;
- limits: key 1-512 characters, value at most 1,024 characters (``ValidationException``), at most 50 keys
  and 3 MB in one UpdateKeys call (``ValidationException``), 5 MB per store
  (``ServiceQuotaExceededException``, 402); ListKeys pages hold 10 items unless MaxResults (at most 50) says;
- API calls must be signed with SigV4A (``AWS4-ECDSA-P256-SHA256``), as the service requires (an SDK without
  CRT cannot call it): anything else is ``AccessDeniedException`` (403).

The local edge reads a store the way CloudFront's runtime does (not through the signed API): its GET
requests carry :data:`EDGE_READER_HEADER` instead of a signature. What AWS does not document (the error
code for a wrong signature, the text of messages, the form of ETags and page tokens, deleting a key that
is not there in UpdateKeys, which is ignored here) is chosen here and may differ on AWS.

The data lives on moto's own store objects, so ``/moto-api/reset`` and DeleteKeyValueStore drop it.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

KEY_MAX_CHARS = 512
VALUE_MAX_CHARS = 1024
STORE_MAX_BYTES = 5 * 1024 * 1024
UPDATE_MAX_KEYS = 50
UPDATE_MAX_BYTES = 3 * 1024 * 1024
LIST_DEFAULT_ITEMS, LIST_MAX_ITEMS = 10, 50
PATH_PREFIX = "/key-value-stores/"
EDGE_READER_HEADER = "x-runway-ext-local-edge"
"""Header of the local edge's reads (CloudFront's runtime reads its store without the signed API)."""
SIGV4A_ALGORITHM = "AWS4-ECDSA-P256-SHA256"
MISSING_KEY_HEADER = "x-runway-ext-missing-key"
"""Set on a GetKey 404 for a key that is not there (the store is), so the local edge tells the two apart."""

_LOCK = threading.Lock()
_ETAG_ALPHABET = string.ascii_uppercase + string.digits


class KvsError(Exception):
    """An error answer of the data plane: HTTP status, AWS error code, message."""

    def __init__(self, status: int, code: str, message: str, *, missing_key: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.missing_key = status, code, message, missing_key


@dataclass
class StoreData:
    """The keys of one store and its version (the ETag every write must name)."""

    items: dict[str, str] = field(default_factory=dict)
    etag: str = field(default_factory=lambda: new_etag())
    last_modified: float = field(default_factory=time.time)

    @property
    def total_bytes(self) -> int:
        """Bytes of every key and value (UTF-8), what TotalSizeInBytes reports and the 5 MB quota counts."""
        return sum(len(key.encode()) + len(value.encode()) for key, value in self.items.items())

    def counts(self) -> dict[str, int]:
        """``ItemCount`` and ``TotalSizeInBytes``."""
        return {"ItemCount": len(self.items), "TotalSizeInBytes": self.total_bytes}


def new_etag() -> str:
    """A fresh store version identifier."""
    return "KV" + "".join(secrets.choice(_ETAG_ALPHABET) for _ in range(13))


def _moto_store(arn: str) -> Any:
    """moto's control-plane store with this ARN (any account of the stand-in), or ResourceNotFoundException."""
    from moto.cloudfront.models import cloudfront_backends

    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "cloudfront" or not parts[5].startswith("key-value-store/"):
        raise KvsError(400, "ValidationException", f"{arn!r} is not a key value store ARN")
    account = parts[4]
    if account in cloudfront_backends:
        for partition in cloudfront_backends[account].values():
            for store in partition.key_value_stores.values():
                if store.arn == arn:
                    return store
    raise KvsError(404, "ResourceNotFoundException", f"Key value store {arn} was not found")


def store_data(arn: str) -> StoreData:
    """The data of the store ``arn`` (created empty with the store). Callers hold :data:`_LOCK`."""
    store = _moto_store(arn)
    data = getattr(store, "_runway_ext_data", None)
    if data is None:
        data = StoreData()
        store._runway_ext_data = data
    return data


def keys_of(arn: str) -> dict[str, str]:
    """A copy of every key and value of the store ``arn`` now (:class:`KvsError` when there is no such store)."""
    with _LOCK:
        return dict(store_data(arn).items)


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX_CHARS:
        raise KvsError(400, "ValidationException", f"Key must be 1 to {KEY_MAX_CHARS} characters long")
    return key


def _check_value(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise KvsError(400, "ValidationException", f"Value of key {key!r} must be a string")
    if len(value) > VALUE_MAX_CHARS:
        raise KvsError(400, "ValidationException", f"Value of key {key!r} is longer than {VALUE_MAX_CHARS} characters")
    return value


def _check_if_match(data: StoreData, if_match: str | None) -> None:
    if not if_match:
        raise KvsError(400, "ValidationException", "If-Match (the store's ETag) is required")
    if if_match != data.etag:
        raise KvsError(409, "ConflictException", "Pre-condition failed: the If-Match ETag is not the store's current ETag")


def _commit(data: StoreData, items: dict[str, str]) -> dict[str, Any]:
    trial = StoreData(items, data.etag)
    if trial.total_bytes > STORE_MAX_BYTES:
        raise KvsError(402, "ServiceQuotaExceededException", f"The store would exceed its {STORE_MAX_BYTES} bytes")
    data.items, data.etag, data.last_modified = items, new_etag(), time.time()
    return data.counts()


def describe(arn: str) -> tuple[dict[str, Any], str]:
    """DescribeKeyValueStore: (body, ETag)."""
    store = _moto_store(arn)
    data = store_data(arn)
    created = getattr(store, "created_time", None) or store.last_modified_time
    body = {
        **data.counts(),
        "KvsARN": arn,
        "Created": created.timestamp(),
        "LastModified": data.last_modified,
        "Status": store.status,
    }
    return body, data.etag


def get_key(arn: str, key: str) -> dict[str, Any]:
    """GetKey."""
    data = store_data(arn)
    if key not in data.items:
        raise KvsError(404, "ResourceNotFoundException", f"Key {key!r} was not found", missing_key=True)
    return {"Key": key, "Value": data.items[key], **data.counts()}


def list_keys(arn: str, max_results: str | None, next_token: str | None) -> dict[str, Any]:
    """ListKeys, in key order; the page token names the last key of the previous page."""
    data = store_data(arn)
    try:
        size = int(max_results) if max_results else LIST_DEFAULT_ITEMS
    except ValueError:
        size = 0
    if not 1 <= size <= LIST_MAX_ITEMS:
        raise KvsError(400, "ValidationException", f"MaxResults must be 1 to {LIST_MAX_ITEMS}")
    after = ""
    if next_token:
        try:
            after = base64.urlsafe_b64decode(next_token.encode()).decode()
        except ValueError:
            raise KvsError(400, "ValidationException", "NextToken is not valid") from None
    keys = sorted(key for key in data.items if key > after) if next_token else sorted(data.items)
    page = keys[:size]
    body: dict[str, Any] = {"Items": [{"Key": key, "Value": data.items[key]} for key in page]}
    if len(keys) > size:
        body["NextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
    return body


def update_keys(arn: str, if_match: str | None, puts: Iterable[Any], deletes: Iterable[Any]) -> tuple[dict[str, Any], str]:
    """UpdateKeys: every put and delete, or none of them."""
    data = store_data(arn)
    puts, deletes = list(puts or []), list(deletes or [])
    if len(puts) + len(deletes) > UPDATE_MAX_KEYS:
        raise KvsError(400, "ValidationException", f"UpdateKeys takes at most {UPDATE_MAX_KEYS} keys in one call")
    if not puts and not deletes:
        raise KvsError(400, "ValidationException", "UpdateKeys needs at least one put or delete")
    _check_if_match(data, if_match)
    items = dict(data.items)
    seen: set[str] = set()
    for item in puts:
        key = _check_key(item.get("Key") if isinstance(item, dict) else None)
        if key in seen:
            raise KvsError(400, "ValidationException", f"Key {key!r} appears more than once in one UpdateKeys call")
        seen.add(key)
        items[key] = _check_value(key, item.get("Value"))
    for item in deletes:
        key = _check_key(item.get("Key") if isinstance(item, dict) else None)
        if key in seen:
            raise KvsError(400, "ValidationException", f"Key {key!r} appears more than once in one UpdateKeys call")
        seen.add(key)
        items.pop(key, None)
    return _commit(data, items), data.etag


def put_key(arn: str, key: str, if_match: str | None, value: Any) -> tuple[dict[str, Any], str]:
    """PutKey."""
    data = store_data(arn)
    _check_key(key)
    _check_value(key, value)
    _check_if_match(data, if_match)
    return _commit(data, {**data.items, key: value}), data.etag


def delete_key(arn: str, key: str, if_match: str | None) -> tuple[dict[str, Any], str]:
    """DeleteKey."""
    data = store_data(arn)
    _check_key(key)
    _check_if_match(data, if_match)
    if key not in data.items:
        raise KvsError(404, "ResourceNotFoundException", f"Key {key!r} was not found")
    return _commit(data, {name: value for name, value in data.items.items() if name != key}), data.etag


def _raw_segments(environ: dict[str, Any]) -> list[str]:
    """The path's segments, each percent-decoded on its own (an ARN or key may hold an encoded ``/``)."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", ""))
    if "://" in raw:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    path = raw.split("?", 1)[0]
    return [unquote(segment) for segment in path[len(PATH_PREFIX) :].split("/")]


def _authorised(environ: dict[str, Any], method: str) -> bool:
    if method == "GET" and environ.get("HTTP_" + EDGE_READER_HEADER.upper().replace("-", "_")):
        return True
    return str(environ.get("HTTP_AUTHORIZATION", "")).startswith(SIGV4A_ALGORITHM + " ")


def handle(environ: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One data-plane request: (status, headers, JSON body)."""
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    if not _authorised(environ, method):
        raise KvsError(403, "AccessDeniedException", "The CloudFront KeyValueStore API takes SigV4A-signed requests only (botocore[crt])")
    segments = _raw_segments(environ)
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if_match = environ.get("HTTP_IF_MATCH")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > UPDATE_MAX_BYTES + 64 * 1024:
        raise KvsError(400, "ValidationException", f"The request body is larger than {UPDATE_MAX_BYTES} bytes")
    raw_body = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw_body) if raw_body else {}
    except ValueError:
        raise KvsError(400, "ValidationException", "The request body is not JSON") from None
    if not isinstance(body, dict):
        raise KvsError(400, "ValidationException", "The request body is not a JSON object")
    with _LOCK:
        if len(segments) == 1 and method == "GET":
            described, etag = describe(segments[0])
            return 200, {"ETag": etag}, described
        if len(segments) == 2 and segments[1] == "keys":
            if method == "GET":
                return 200, {}, list_keys(segments[0], _first(query, "MaxResults"), _first(query, "NextToken"))
            if method == "POST":
                if len(raw_body) > UPDATE_MAX_BYTES:
                    raise KvsError(400, "ValidationException", f"UpdateKeys takes at most {UPDATE_MAX_BYTES} bytes in one call")
                counts, etag = update_keys(segments[0], if_match, body.get("Puts") or [], body.get("Deletes") or [])
                return 200, {"ETag": etag}, counts
        if len(segments) == 3 and segments[1] == "keys":
            arn, key = segments[0], segments[2]
            if method == "GET":
                return 200, {}, get_key(arn, key)
            if method == "PUT":
                counts, etag = put_key(arn, key, if_match, body.get("Value"))
                return 200, {"ETag": etag}, counts
            if method == "DELETE":
                counts, etag = delete_key(arn, key, if_match)
                return 200, {"ETag": etag}, counts
    raise KvsError(404, "UnknownOperationException", f"{method} {PATH_PREFIX}{'/'.join(segments)} is not a KeyValueStore operation")


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def data_plane_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The data plane as a WSGI application (rest-json answers, errors as the SDKs parse them)."""
    try:
        status, headers, body = handle(environ)
    except KvsError as error:
        status, headers, body = error.status, {"x-amzn-ErrorType": error.code}, {"message": error.message}
        if error.missing_key:
            headers[MISSING_KEY_HEADER] = "true"
    payload = json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers.items()],
    )
    return [payload]


def install_kvs_data_plane() -> None:
    """Make moto's server application answer the data-plane paths (idempotent; moto's own routes are untouched)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__
    if getattr(original, "_runway_ext_kvs", False):
        return

    def dispatch(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if str(environ.get("PATH_INFO", "")).startswith(PATH_PREFIX):
            return data_plane_app(environ, start_response)
        return original(self, environ, start_response)

    dispatch._runway_ext_kvs = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]
