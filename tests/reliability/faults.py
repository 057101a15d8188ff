"""Fault injection at the botocore level: event handlers on real clients that talk to the moto server.

A ``before-send`` handler answers in place of the server. It runs inside botocore's request loop,
so an injected answer goes through the same parsing and retrying as a real one: an error response
with a throttling code is retried by the client's retry mode, and a raised
``ConnectionClosedError`` is treated like a connection the network dropped. Requests the handler
lets through reach moto unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

PROTOCOL_BODIES: dict[str, Callable[[str, str], bytes]] = {
    "rest-xml": lambda code, message: f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode(),
    "query": lambda code, message: (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>injected</RequestId></ErrorResponse>"
    ).encode(),
    "json": lambda code, message: json.dumps({"__type": code, "message": message}).encode(),
}
"""The wire form of an AWS error in each protocol (S3 rest-xml, CloudFormation query, ECR json)."""


class _RawBody:
    """What :class:`AWSResponse` reads its content from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(url: str, protocol: str, code: str, status: int) -> AWSResponse:
    """An HTTP answer carrying AWS error ``code`` as ``protocol`` spells it."""
    body = PROTOCOL_BODIES[protocol](code, f"injected {code}")
    content_type = "application/x-amz-json-1.1" if protocol == "json" else "text/xml"
    return AWSResponse(url, status, {"Content-Type": content_type}, _RawBody(body))


class Fault:
    """Counts the requests of one operation and decides, per request, whether it fails.

    ``fail_first``: the first N requests fail, then everything passes (a transient fault).
    ``fail_after``: the first N requests pass, then every later one fails (an outage that lasts).
    ``always``: every request fails.
    """

    def __init__(
        self,
        *,
        code: str | None = None,
        protocol: str = "json",
        status: int = 400,
        connection_closed: bool = False,
        fail_first: int | None = None,
        fail_after: int | None = None,
        only: Callable[[Any], bool] | None = None,
    ) -> None:
        """Describe the fault: an AWS error ``code`` or a dropped connection; when it strikes."""
        self.code = code
        self.protocol = protocol
        self.status = status
        self.connection_closed = connection_closed
        self.fail_first = fail_first
        self.fail_after = fail_after
        self.only = only
        self.seen = 0
        self.injected = 0
        self.passed = 0
        self.enabled = True
        self._lock = threading.Lock()

    def _strikes(self, request: Any) -> bool:
        if not self.enabled or (self.only is not None and not self.only(request)):
            return False
        with self._lock:
            self.seen += 1
            number = self.seen
        if self.fail_first is not None:
            return number <= self.fail_first
        if self.fail_after is not None:
            return number > self.fail_after
        return True

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        """The ``before-send`` handler."""
        if not self._strikes(request):
            with self._lock:
                self.passed += 1
            return None
        with self._lock:
            self.injected += 1
        if self.connection_closed:
            raise ConnectionClosedError(endpoint_url=request.url)
        assert self.code is not None
        return error_response(request.url, self.protocol, self.code, self.status)


def session_with(event: str, fault: Fault) -> boto3.Session:
    """A real boto3 session (credentials and endpoint from the environment) with ``fault`` on ``event``."""
    session = boto3.Session(region_name="us-east-1")
    session.events.register(event, fault)
    return session


def use_session(context: Any, session: boto3.Session) -> Any:
    """Make a real CfnginContext hand out ``session`` (as Runway's own session is handed to hooks)."""
    context.get_session = lambda *_, **__: session
    return context
