"""One distribution served at ``http://127.0.0.1:PORT/`` the way CloudFront serves it.

A distribution with a wildcard alias ``*.D`` (the CDN blueprint's ``PreviewDomain``) is also reached at
``http://NAME.preview.localhost:PORT/``: its functions see the Host ``NAME.D`` (:func:`host_seen_by_functions`).

A request goes through, in CloudFront's order: the allowed methods; the viewer-request CloudFront Function
(its response is sent as is, its request is used from there on); DefaultRootObject for ``/``; the edge cache
(keyed by the path after the function and the compression variant); the S3 origin (OriginPath prefixed, read
as the distribution through Origin Access Control, so a bucket policy that does not let this distribution
read gives 403, and a missing key is 403 unless the distribution may list the bucket); custom error responses
(the error page fetched from the origin WITHOUT running the viewer-request function, sent with the
configured status and cached for ErrorCachingMinTTL); gzip compression where the behavior and the cache
policy enable it; then the response headers policy and CloudFront's own headers (``Via``, ``X-Cache``,
``X-Amz-Cf-Id``, ``Age``). Conditional requests with the object's ETag get 304. Last, the viewer-response
function, on cache hits and misses alike, except when the origin answered 400 or more (AWS: the function
does not run then) or the viewer-request function generated the response: its event's ``request`` is the
request the viewer-request function returned; the response it returns (status, headers with names
capitalised as CloudFront writes them, cookies, and a body if it sets one) is what the viewer gets. A
function's associated key value store is read from the local data plane.

:class:`EdgeSite` holds the logic (``answer``), :class:`EdgeHttpServer` puts it on a port.
"""

from __future__ import annotations

import base64
import gzip
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote

from runway_ext.core.log import get_logger
from runway_ext.local.edge_access import origin_read
from runway_ext.local.edge_cache import EdgeCache, edge_ttl
from runway_ext.local.edge_config import EdgeConfig
from runway_ext.local.edge_functions import FunctionError, FunctionRunner, viewer_request_event, viewer_response_event

LOG = get_logger("runway_ext.local.edge")
COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "text/xml",
    "text/csv",
    "application/javascript",
    "application/x-javascript",
    "application/json",
    "application/xml",
    "application/xhtml+xml",
    "application/manifest+json",
    "image/svg+xml",
    "image/x-icon",
)
"""Content types CloudFront compresses (a subset of its documented list)."""
COMPRESS_MIN_BYTES, COMPRESS_MAX_BYTES = 1000, 10_000_000
DEFAULT_ERROR_CACHING_SECONDS = 10
LOCAL_PREVIEW_DOMAIN = "preview.localhost"
"""Local stand-in for a distribution's wildcard alias ``*.D``: ``NAME.preview.localhost:PORT`` is ``NAME.D`` (browsers and
curl resolve every ``*.localhost`` name to loopback)."""
_KEPT_ORIGIN_HEADERS = ("content-type", "cache-control", "etag", "last-modified", "expires", "content-encoding", "content-language")


@dataclass
class OriginResponse:
    """What the S3 origin answered."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Origin(Protocol):
    """Reads objects and the access settings of a bucket (the moto S3 API in local mode)."""

    def get_object(self, bucket: str, key: str) -> OriginResponse | None:
        """The object, or ``None`` when the key does not exist."""

    def access(self, bucket: str) -> tuple[str | None, bool]:
        """(the bucket policy or ``None``, whether a public access block shuts public reads)."""


@dataclass
class Answer:
    """An HTTP response of the edge."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case)."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@dataclass
class EdgeSite:
    """The CloudFront behavior of one distribution, with its cache; ``function_code`` is the LIVE function's."""

    config: EdgeConfig
    origin: Origin
    runner: FunctionRunner
    function_code: str | None = None
    function_store: str | None = None
    """ARN of the key value store associated with the viewer-request function."""
    response_function_code: str | None = None
    """The LIVE code of the viewer-response function."""
    response_function_store: str | None = None
    cache: EdgeCache = field(default_factory=EdgeCache)
    on_function_log: Callable[[str], None] = field(default=lambda line: LOG.info("%s", line))

    def answer(self, method: str, target: str, headers: list[tuple[str, str]], viewer_ip: str = "127.0.0.1") -> Answer:
        """The response to ``method target`` with the request ``headers``."""
        request_id = uuid.uuid4().hex[:16]
        answer = self._answer(method.upper(), target, headers, viewer_ip, request_id)
        if method.upper() in ("GET", "HEAD"):
            answer = ranged(answer, next((value for name, value in headers if name.lower() == "range"), None))
        answer.headers += [
            ("Via", f"1.1 {self.config.domain_name} (CloudFront, local edge)"),
            ("X-Amz-Cf-Pop", "LOCAL"),
            ("X-Amz-Cf-Id", request_id),
        ]
        if method.upper() == "HEAD":
            answer.headers.append(("Content-Length", str(len(answer.body))))
            answer.body = b""
        return answer

    def _answer(self, method: str, target: str, headers: list[tuple[str, str]], viewer_ip: str, request_id: str) -> Answer:
        config = self.config
        if config.refusal:
            return _plain(403, f"The local edge does not serve this distribution: {config.refusal}.", "Error")
        if method not in config.allowed_methods:
            return _plain(403, "This distribution is not configured to allow the HTTP request method that was used.", "Error")
        host = next((value for name, value in headers if name.lower() == "host"), None)
        seen = host_seen_by_functions(host, config.preview_domain) if host is not None else None
        if host is not None and seen is None:
            return _plain(
                403,
                f"The request could not be satisfied: distribution {config.distribution_id} has no wildcard alias (PreviewDomain),"
                f" so {host.partition(':')[0]} is none of its names.",
                "Error",
            )
        if seen != host:
            headers = [(name, seen if name.lower() == "host" and seen is not None else value) for name, value in headers]
        path, _, query = target.partition("?")
        uri = path or "/"
        request = viewer_request_event(
            distribution_id=config.distribution_id,
            domain_name=config.domain_name,
            request_id=request_id,
            method=method,
            uri=uri,
            query=query,
            headers=headers,
            viewer_ip=viewer_ip,
        )["request"]
        if config.viewer_request_function:
            outcome = self._run_function(method, uri, query, headers, viewer_ip, request_id)
            if isinstance(outcome, Answer):
                return self._finish(outcome, headers)
            request = outcome
            uri = str(outcome["uri"])
        if uri == "/" and config.default_root_object:
            uri = "/" + config.default_root_object.lstrip("/")
        variant = "gzip" if self._accepts_gzip(headers) else "identity"
        cached = self.cache.get(uri, variant)
        if cached is not None:
            result = Answer(cached.status, list(cached.headers), cached.body)
            result.headers.append(("Age", str(cached.age(self.cache.clock()))))
            result.headers.append(("X-Cache", "Hit from cloudfront" if cached.status < 400 else "Error from cloudfront"))
            origin_error = cached.origin_error
        else:
            result, ttl, origin_error = self._from_origin(uri, variant)
            self.cache.put(uri, variant, result.status, result.headers, result.body, ttl, origin_error=origin_error)
            result.headers.append(("X-Cache", "Miss from cloudfront" if result.status < 400 else "Error from cloudfront"))
        result = self._finish(result, headers)
        if config.viewer_response_function and not origin_error:
            result = self._run_response_function(result, request, viewer_ip, request_id)
        return result

    def _run_function(
        self, method: str, uri: str, query: str, headers: list[tuple[str, str]], viewer_ip: str, request_id: str
    ) -> Answer | dict[str, Any]:
        """The function's response as an :class:`Answer`, or the request it returned."""
        config = self.config
        if self.function_code is None:
            return _plain(503, f"The CloudFront Function {config.viewer_request_function} is not published (no LIVE code).", "Error")
        event = viewer_request_event(
            distribution_id=config.distribution_id,
            domain_name=config.domain_name,
            request_id=request_id,
            method=method,
            uri=uri,
            query=query,
            headers=headers,
            viewer_ip=viewer_ip,
        )
        try:
            result, logs = self.runner.call(self.function_code, event, self.function_store)
        except FunctionError as error:
            LOG.error("edge %s: viewer-request function failed for %s: %s", config.distribution_id, uri, error)
            return _plain(
                503,
                f"The CloudFront function associated with the request failed (FunctionExecutionError): {error}",
                "FunctionExecutionError",
            )
        for line in logs:
            self.on_function_log(f"edge {config.distribution_id}: function log: {line}")
        if "statusCode" in result:
            return _function_response(result)
        new_uri = result.get("uri")
        if not isinstance(new_uri, str) or not new_uri.startswith("/"):
            LOG.error("edge %s: the viewer-request function returned a request whose uri is %r", config.distribution_id, new_uri)
            return _plain(503, "The CloudFront function returned an invalid request (FunctionExecutionError).", "FunctionExecutionError")
        return result

    def _run_response_function(self, answer: Answer, request: dict[str, Any], viewer_ip: str, request_id: str) -> Answer:
        """The answer as the viewer-response function leaves it (503 when it fails, as CloudFront answers)."""
        config = self.config
        if self.response_function_code is None:
            return _plain(503, f"The CloudFront Function {config.viewer_response_function} is not published (no LIVE code).", "Error")
        event = viewer_response_event(
            distribution_id=config.distribution_id,
            domain_name=config.domain_name,
            request_id=request_id,
            request=request,
            status=answer.status,
            status_description=HTTPStatus(answer.status).phrase if answer.status in HTTPStatus._value2member_map_ else "",
            headers=answer.headers,
            viewer_ip=viewer_ip,
        )
        try:
            result, logs = self.runner.call(self.response_function_code, event, self.response_function_store)
        except FunctionError as error:
            LOG.error("edge %s: viewer-response function failed for %s: %s", config.distribution_id, request.get("uri"), error)
            return _plain(
                503,
                f"The CloudFront function associated with the response failed (FunctionExecutionError): {error}",
                "FunctionExecutionError",
            )
        for line in logs:
            self.on_function_log(f"edge {config.distribution_id}: function log: {line}")
        if not isinstance(result.get("statusCode"), int):
            LOG.error("edge %s: the viewer-response function returned no response object", config.distribution_id)
            return _plain(503, "The CloudFront function returned an invalid response (FunctionExecutionError).", "FunctionExecutionError")
        returned = _function_response(result, generated=False)
        if "body" not in result:
            returned.body = answer.body
        return returned

    def _accepts_gzip(self, headers: list[tuple[str, str]]) -> bool:
        if not (self.config.compress and self.config.cache.gzip):
            return False
        accepted = ",".join(value for name, value in headers if name.lower() == "accept-encoding")
        return any(part.split(";")[0].strip().lower() == "gzip" for part in accepted.split(","))

    def _fetch(self, uri: str) -> OriginResponse:
        """The origin's answer for ``uri``: the object, or S3's 403/404 as the distribution would get it."""
        config = self.config
        key = unquote(config.origin_path + uri).lstrip("/")
        policy, public_blocked = self.origin.access(config.bucket)
        may_read, may_list = origin_read(
            policy, public_blocked, config.bucket, key, distribution_arn=config.distribution_arn, signed=config.origin_access_control
        )
        if not may_read:
            return _s3_error(403, "AccessDenied", "Access Denied")
        found = self.origin.get_object(config.bucket, key)
        if found is None:
            return (
                _s3_error(404, "NoSuchKey", "The specified key does not exist.")
                if may_list
                else _s3_error(403, "AccessDenied", "Access Denied")
            )
        return found

    def _from_origin(self, uri: str, variant: str) -> tuple[Answer, int, bool]:
        """The answer for a cache miss, how long to cache it, and whether the origin answered an error."""
        response = self._fetch(uri)
        if response.status < 400:
            answer = Answer(response.status, list(response.headers), response.body)
            cache_control = answer.header("Cache-Control")
            return self._compressed(answer, variant), edge_ttl(self.config.cache, cache_control, answer.header("Expires")), False
        custom = self.config.error_responses.get(response.status)
        ttl = custom.caching_min_ttl if custom else DEFAULT_ERROR_CACHING_SECONDS
        if custom is not None and custom.page:
            page = self._fetch(custom.page)  # the error page's own path: no viewer-request function runs for it
            if page.status < 400:
                answer = Answer(custom.status, [(name, value) for name, value in page.headers if name.lower() != "etag"], page.body)
                return self._compressed(answer, variant), ttl, True
        elif custom is not None:
            response.status = custom.status
        return Answer(response.status, list(response.headers), response.body), ttl, True

    @staticmethod
    def _compressed(answer: Answer, variant: str) -> Answer:
        content_type = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
        if (
            variant != "gzip"
            or answer.header("Content-Encoding")
            or content_type not in COMPRESSIBLE
            or not COMPRESS_MIN_BYTES <= len(answer.body) <= COMPRESS_MAX_BYTES
        ):
            return answer
        answer.body = gzip.compress(answer.body, mtime=0)
        answer.headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return answer

    def _finish(self, answer: Answer, request_headers: list[tuple[str, str]]) -> Answer:
        """Response headers policy, then 304 for a matching If-None-Match."""
        for removed in self.config.removed_headers:
            answer.headers = [(name, value) for name, value in answer.headers if name.lower() != removed]
        for name, value, override in self.config.response_headers:
            present = answer.header(name) is not None
            if present and not override:
                continue
            answer.headers = [(key, old) for key, old in answer.headers if key.lower() != name.lower()] + [(name, value)]
        etag = answer.header("ETag")
        wanted = next((value for name, value in request_headers if name.lower() == "if-none-match"), None)
        if answer.status == 200 and etag and wanted and etag in [tag.strip() for tag in wanted.split(",")]:
            answer.status, answer.body = 304, b""
            answer.headers = [(name, value) for name, value in answer.headers if name.lower() not in ("content-length", "content-type")]
        return answer


def host_seen_by_functions(host: str, preview_domain: str | None) -> str | None:
    """The Host a function sees for the viewer's ``host``; ``None`` when the distribution has no name for it.

    ``NAME.preview.localhost:PORT`` (any case, trailing dots kept, every label before the suffix kept as sent) becomes
    ``NAME.D`` for a distribution with the wildcard alias ``*.D``, without the port: the local port stands for
    CloudFront's 443, which a viewer does not write. Without a wildcard alias such a Host names nothing (``None``:
    CloudFront refuses a Host that is none of its aliases). Every other Host is passed on as sent.
    """
    if host.startswith("["):
        return host
    name = host.partition(":")[0]
    bare = name.rstrip(".")
    lowered = bare.lower()
    if lowered != LOCAL_PREVIEW_DOMAIN and not lowered.endswith("." + LOCAL_PREVIEW_DOMAIN):
        return host
    if not preview_domain:
        return None
    return bare[: len(bare) - len(LOCAL_PREVIEW_DOMAIN)] + preview_domain + name[len(bare) :]


def ranged(answer: Answer, range_header: str | None) -> Answer:
    """A ``200`` answer cut to the one byte range asked for (``206``), as CloudFront serves ``Range`` requests.

    ``bytes=A-B``, ``bytes=A-`` and ``bytes=-N`` are served as ``206`` with ``Content-Range``; a range starting
    past the end is ``416`` with ``Content-Range: bytes */LENGTH``; a header that is not one byte range (several
    ranges, another unit, bad syntax) is ignored and the whole object is sent, as HTTP allows.
    """
    if answer.status != 200:
        return answer
    answer.headers.append(("Accept-Ranges", "bytes"))
    if not range_header:
        return answer
    unit, _, spec = range_header.strip().partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or "," in spec or not dash or not (first + last).isdigit() or not (first.isdigit() or first == ""):
        return answer
    if last and not last.isdigit():
        return answer
    size = len(answer.body)
    if first == "":
        start, end = max(size - int(last), 0), size - 1
        if int(last) == 0:
            start = size
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return answer
    if start >= size:
        headers = [(name, value) for name, value in answer.headers if name.lower() not in ("content-type", "etag", "last-modified")]
        return Answer(
            416,
            [*headers, ("Content-Range", f"bytes */{size}"), ("Content-Type", "application/xml")],
            _s3_error(416, "InvalidRange", "The requested range is not satisfiable").body,
        )
    return Answer(206, [*answer.headers, ("Content-Range", f"bytes {start}-{end}/{size}")], answer.body[start : end + 1])


def _plain(status: int, text: str, cache_result: str) -> Answer:
    return Answer(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("X-Cache", f"{cache_result} from cloudfront")], (text + "\n").encode()
    )


def _s3_error(status: int, code: str, message: str) -> OriginResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
    return OriginResponse(status, [("Content-Type", "application/xml")], body)


def http_header_name(name: str) -> str:
    """A header name as CloudFront writes an event's lower-case name back (``x-a-b`` → ``X-A-B``)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _function_response(result: dict[str, Any], *, generated: bool = True) -> Answer:
    """A response a function returned (``cloudfront-js-2.0`` shape): generated by viewer-request, or viewer-response's."""
    headers: list[tuple[str, str]] = []
    for name, entry in (result.get("headers") or {}).items():
        values = entry.get("multiValue") or [entry]
        headers += [(http_header_name(name), str(value.get("value", ""))) for value in values]
    for name, entry in (result.get("cookies") or {}).items():
        for cookie in entry.get("multiValue") or [entry]:
            attributes = cookie.get("attributes")
            headers.append(("Set-Cookie", f"{name}={cookie.get('value', '')}" + (f"; {attributes}" if attributes else "")))
    body = result.get("body", "")
    if isinstance(body, dict):
        data = str(body.get("data", ""))
        raw = base64.b64decode(data) if body.get("encoding") == "base64" else data.encode()
    else:
        raw = str(body or "").encode()
    if generated:
        headers.append(("X-Cache", "FunctionGeneratedResponse from cloudfront"))
    return Answer(int(result["statusCode"]), headers, raw)


class _Handler(BaseHTTPRequestHandler):
    server_version = "CloudFront"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        site: EdgeSite = self.server.site  # type: ignore[attr-defined]
        try:
            answer = site.answer(self.command, self.path, list(self.headers.items()), self.client_address[0])
        except Exception as error:  # noqa: BLE001 - one request must never take the edge down; the error is logged
            LOG.error("edge %s: %s %s failed: %s", site.config.distribution_id, self.command, self.path, error)
            answer = _plain(502, f"The local edge could not reach the origin: {error}", "Error")
        self.send_response(answer.status, HTTPStatus(answer.status).phrase if answer.status in HTTPStatus._value2member_map_ else "")
        has_length = any(name.lower() == "content-length" for name, _ in answer.headers)
        for name, value in answer.headers:
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if answer.body:
            self.wfile.write(answer.body)

    def handle(self) -> None:
        """Serve the connection; a viewer that goes away mid-request (a browser closing a tab) is not an error."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError) as error:
            LOG.debug("edge: the viewer closed the connection: %s", error)
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("edge: " + format, *args)


class EdgeHttpServer:
    """An :class:`EdgeSite` on ``127.0.0.1:port``, served from a thread until :meth:`stop`."""

    def __init__(self, site: EdgeSite, port: int = 0) -> None:
        """Bind ``127.0.0.1:port`` (0: a free port) now, so a taken port is an error here."""
        self.site = site
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.site = site  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"edge-{site.config.distribution_id}", daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> EdgeHttpServer:
        """Start answering."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and release the port."""
        self._server.shutdown()
        self._server.server_close()
