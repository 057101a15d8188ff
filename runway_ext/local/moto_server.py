"""A moto server on 127.0.0.1 standing in for AWS, for tests and local mode."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ACCOUNT_ID = "123456789012"


class PortInUseError(OSError):
    """The port asked for is taken (its message is the one line to show)."""


def require_free_port(port: int) -> None:
    """Raise :class:`PortInUseError` when something already listens on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUseError(
                f"port: 127.0.0.1:{port} is already in use ({error.strerror}); choose another --port or stop what uses it"
            ) from None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """moto's threaded server bound to loopback, with the environment that points AWS clients at it."""

    def __init__(self, port: int | None = None) -> None:
        """Prepare a server on ``port`` (a free one when omitted); :meth:`start` runs it."""
        self.port = port or free_port()
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        """The endpoint URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def s3_endpoint(self) -> str:
        """The S3 endpoint with ``localhost`` in it (moto treats such URLs as path-style, needed for TemplateURLs)."""
        return f"http://localhost:{self.port}"

    def environment(self) -> dict[str, str]:
        """Variables that send every AWS client (boto3, runway, sam, aws) to this server with dummy credentials."""
        return {
            **DUMMY_CREDENTIALS,
            "AWS_REGION": DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CFNGIN_STACK_POLL_TIME": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def start(self, timeout: float = 30.0) -> MotoServer:
        """Start serving (returns once the server listens); a taken port is a :class:`PortInUseError`, not a hang."""
        import logging
        import threading

        from moto.server import ThreadedMotoServer

        from runway_ext.local.moto_copy_conditions import install_copy_source_if_match
        from runway_ext.local.moto_kvs import install_kvs_data_plane

        require_free_port(self.port)
        install_copy_source_if_match()
        install_kvs_data_plane()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        starter = threading.Thread(target=server.start, daemon=True)
        starter.start()
        starter.join(timeout)
        if starter.is_alive():  # moto's thread failed to bind (a race for the port) and its start() waits forever
            raise PortInUseError(f"port: the local AWS did not start listening on 127.0.0.1:{self.port} in {timeout:g}s")
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every resource (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with _direct_opener().open(request, timeout=10):
            pass


def _direct_opener() -> urllib.request.OpenerDirector:
    """An opener that never goes through a proxy (the server is on loopback)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them exactly."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def moto_server(port: int | None = None) -> Iterator[MotoServer]:
    """A running :class:`MotoServer` for the duration of the block."""
    server = MotoServer(port).start()
    try:
        yield server
    finally:
        server.stop()
