"""The local console on ``http://127.0.0.1:PORT/``: what the stand-in holds, for a person to look at.

:class:`Console` listens on 127.0.0.1 only and answers ``GET``/``HEAD`` of ``/`` (the page), ``/main`` (the
page's changing part, fetched again by the page's script), ``/console.css`` and ``/console.js``. Against DNS
rebinding it answers only requests whose ``Host`` is a loopback name for its own port (``127.0.0.1:PORT``,
``localhost:PORT``, ``[::1]:PORT``): a page of another site whose name was rebound to 127.0.0.1 sends its own
name and gets 421. Every answer carries ``Cache-Control: no-store`` and a Content-Security-Policy that allows
only the console's own script and stylesheet.

What is shown is read on request (:func:`runway_ext.local.console_state.gather`), at most once per
:data:`MIN_READ_SECONDS` however many tabs are open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runway_ext.core.log import get_logger
from runway_ext.local.console_page import CONTENT_SECURITY_POLICY, SCRIPT, STYLESHEET, render_main, render_page
from runway_ext.local.console_state import ConsoleState, clients, gather

LOG = get_logger("runway_ext.local.console")
MIN_READ_SECONDS = 1.0
_SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` header values the console on ``port`` answers (lower case)."""
    return frozenset(f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


class Console:
    """The console of the stand-in at ``endpoint``; :meth:`start` puts it on a port, :meth:`stop` ends it.

    ``sites`` gives {distribution id: URL} of what the local edge serves now, ``journals`` the journal files
    of the runs to show, ``registry`` the local registry (``host:port``) or ``None``.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        sites: Callable[[], dict[str, str]],
        journals: Callable[[], list[Path]],
        registry: str | None = None,
        port: int = 0,
    ) -> None:
        """Prepare; nothing listens before :meth:`start`."""
        self.endpoint = endpoint
        self._read = lambda aws: gather(endpoint, aws, sites=sites, journals=journals, registry=registry)
        self._port = port
        self._aws: dict[str, Any] | None = None
        self._state: ConsoleState | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on (after :meth:`start`)."""
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    def state(self) -> ConsoleState:
        """What the page shows now (read again when the last read is older than :data:`MIN_READ_SECONDS`)."""
        with self._lock:
            if self._state is None or time.monotonic() - self._read_at >= MIN_READ_SECONDS:
                if self._aws is None:
                    self._aws = clients(self.endpoint)
                self._state = self._read(self._aws)
                self._read_at = time.monotonic()
            return self._state

    def start(self) -> Console:
        """Listen on 127.0.0.1 and serve in a thread."""
        console = self

        class Handler(_Handler):
            owner = console

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wait for the serving thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


class _Handler(BaseHTTPRequestHandler):
    owner: Console
    protocol_version = "HTTP/1.1"
    server_version = "runway-ext-console"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"only GET and HEAD\n", True, (("Allow", "GET, HEAD"),))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _answer(self, *, send_body: bool) -> None:
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in allowed_hosts(self.owner.port):
            self._send(
                HTTPStatus.MISDIRECTED_REQUEST,
                "text/plain; charset=utf-8",
                b"this console answers only http://127.0.0.1 on its port\n",
                send_body,
            )
            return
        path = self.path.split("?", 1)[0]
        try:
            if path == "/":
                body, kind = render_page(self.owner.state()).encode("utf-8"), "text/html; charset=utf-8"
            elif path == "/main":
                body, kind = render_main(self.owner.state()).encode("utf-8"), "text/html; charset=utf-8"
            elif path == "/console.css":
                body, kind = STYLESHEET.encode("utf-8"), "text/css; charset=utf-8"
            elif path == "/console.js":
                body, kind = SCRIPT.encode("utf-8"), "text/javascript; charset=utf-8"
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n", send_body)
                return
        except Exception as error:  # noqa: BLE001 - one line in the answer and the log, never a traceback page
            LOG.warning("console: could not render %s: %s", path, error)
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", b"the console could not read the stand-in\n", send_body
            )
            return
        self._send(HTTPStatus.OK, kind, body, send_body)

    def _send(self, status: HTTPStatus, kind: str, body: bytes, send_body: bool, extra: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (*_SECURITY_HEADERS, *extra):
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console does not log each request."""
