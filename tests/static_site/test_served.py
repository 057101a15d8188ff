"""Time to served: ``wait_until_served`` polls a real HTTP server on 127.0.0.1 until it names the release."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runway_ext.static_site.served import RELEASE_HEADER, is_loopback_host, release_served, site_url_problem, wait_until_served


class Edge:
    """A server answering ``/`` with a scripted sequence of (status, release header) answers; the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str | None]] = [(200, "r1")]
        self.requests = 0
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, release = edge.answers[min(edge.requests, len(edge.answers) - 1)]
                edge.requests += 1
                self.send_response(status)
                if release is not None:
                    self.send_header(RELEASE_HEADER, release)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def edge() -> Iterator[Edge]:
    served = Edge()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_the_wait_ends_at_the_first_answer_naming_the_new_release(edge: Edge) -> None:
    edge.answers = [(200, "r1"), (200, "r1"), (200, "r1"), (200, "r2")]
    served = wait_until_served(lambda: edge.url, "r2", timeout=30, poll_seconds=0.01)
    assert (served.last_seen, served.attempts, edge.requests) == ("r2", 4, 4)
    assert served.seconds is not None and served.seconds >= 0


def test_errors_and_answers_without_the_header_are_not_served(edge: Edge) -> None:
    edge.answers = [(503, None), (200, None), (404, "r2"), (200, "r2")]
    served = wait_until_served(lambda: edge.url, "r2", timeout=30, poll_seconds=0.01)
    assert (served.last_seen, served.attempts) == ("r2", 4)


def test_a_release_never_served_is_reported_with_what_was_seen_after_the_timeout(edge: Edge) -> None:
    served = wait_until_served(lambda: edge.url, "r2", timeout=0.3, poll_seconds=0.05)
    assert served.seconds is None and served.last_seen == "r1" and served.attempts >= 2


def test_a_url_not_known_yet_is_asked_for_again(edge: Edge) -> None:
    known: list[str | None] = [None, None]
    served = wait_until_served(lambda: known.pop() if known else edge.url, "r1", timeout=30, poll_seconds=0.01)
    assert (served.last_seen, served.attempts, edge.requests) == ("r1", 1, 1)


def test_nothing_answering_is_no_release() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # the port is free: connection refused
    assert release_served(f"http://127.0.0.1:{port}/") is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://d111111abcdef8.cloudfront.net/", None),
        ("http://127.0.0.1:8080/", None),
        ("d111111abcdef8.cloudfront.net", "is no http(s) URL with a host"),
        ("ftp://example.com/", "is no http(s) URL with a host"),
        ("https:///path", "is no http(s) URL with a host"),
        ("https://user:secret@example.com/", "carries credentials"),
    ],
)
def test_site_urls(url: str, problem: str | None) -> None:
    found = site_url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("pr-1.preview.localhost", True), ("127.0.0.1", True), ("::1", True), ("example.com", False), (None, False)],
)
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
