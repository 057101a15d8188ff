"""The local edge answers ``Range`` as CloudFront does (206 / 416) and says nothing when a viewer drops a connection.

Against the same real moto stack as :mod:`tests.local.test_edge` (its ``edge`` fixture): nothing is mocked.
"""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlparse

import pytest

from tests.local.test_edge import BIG_CSS, edge, get

__all__ = ["edge"]  # the fixture, used by name


def test_a_byte_range_is_206_with_content_range(edge) -> None:  # type: ignore[no-untyped-def]
    _fleet, _distribution_id, site = edge
    size = len(BIG_CSS)
    status, headers, body = get(site + "big.css", {"Range": "bytes=0-9"})
    assert (status, body, headers["Content-Range"], headers["Content-Length"]) == (206, BIG_CSS[:10], f"bytes 0-9/{size}", "10")
    status, headers, body = get(site + "big.css", {"Range": "bytes=-5"})
    assert (status, body, headers["Content-Range"]) == (206, BIG_CSS[-5:], f"bytes {size - 5}-{size - 1}/{size}")
    status, headers, body = get(site + "big.css", {"Range": f"bytes=10-{size + 100}"})
    assert (status, body, headers["Content-Range"]) == (206, BIG_CSS[10:], f"bytes 10-{size - 1}/{size}")
    status, headers, _ = get(site + "big.css", {"Range": f"bytes={size}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
    status, headers, body = get(site + "big.css", {"Range": "bytes=0-1,5-6"})  # not one range: the whole object
    assert (status, body, headers["Accept-Ranges"]) == (200, BIG_CSS, "bytes")
    status, headers, body = get(site + "big.css", {"Range": "items=0-1"})
    assert (status, body) == (200, BIG_CSS)


def _drop(host: str, port: int, request: bytes) -> None:
    """Send ``request`` and reset the connection at once (SO_LINGER 0), as a browser closing a tab may."""
    with socket.create_connection((host, port), timeout=5) as viewer:
        viewer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        viewer.sendall(request)


def test_a_dropped_connection_is_not_a_traceback(edge, capfd: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    _fleet, _distribution_id, site = edge
    address = urlparse(site)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    capfd.readouterr()
    for _ in range(5):
        _drop(host, port, b"GET /big.css HTTP/1.1\r\nHost: x\r\n")  # mid-request
        _drop(host, port, b"GET /big.css HTTP/1.1\r\nHost: x\r\n\r\n")  # before the answer is read
    time.sleep(0.5)
    assert get(site + "big.css")[0] == 200  # the edge still answers
    _out, err = capfd.readouterr()
    assert "Traceback" not in err and "Exception occurred" not in err, err
