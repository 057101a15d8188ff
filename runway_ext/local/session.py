"""A local AWS for a Runway run: an in-process moto server on loopback, taught our CloudFormation types."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from runway_ext.core import journal
from runway_ext.core.errors import HookError
from runway_ext.local.moto_invalidations import DEFAULT_INVALIDATION_SECONDS
from runway_ext.local.moto_server import DUMMY_CREDENTIALS, MotoServer


def require_loopback(endpoint: str) -> str:
    """``endpoint`` as local mode uses it, if it is a loopback HTTP address; local mode never talks to anything else.

    The answer is ``http://HOST:PORT``: ``localhost`` becomes ``127.0.0.1`` (the address a stand-in listens on, so
    both spellings name the same ``serve``), a trailing ``/`` is dropped. A scheme other than http, a path, a missing
    port or a host that is not loopback is one :class:`HookError` line naming the endpoint.
    """
    shown = ascii(endpoint)
    try:
        parsed = urlparse(endpoint)
        port = parsed.port
    except ValueError:
        raise HookError(f"endpoint: {shown} is not a URL like http://127.0.0.1:PORT") from None
    host = parsed.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise HookError(f"endpoint: {shown} is not a loopback address; local mode only talks to 127.0.0.1/localhost")
    if parsed.scheme != "http":
        raise HookError(f"endpoint: {shown} must start with http:// (the local stand-in speaks plain HTTP on loopback)")
    if port is None:
        raise HookError(f"endpoint: {shown} has no port (expected http://127.0.0.1:PORT, as `runway-ext local serve` prints it)")
    if parsed.path.strip("/") or parsed.query or parsed.fragment:
        raise HookError(f"endpoint: {shown} has a path; expected http://127.0.0.1:PORT")
    host = "127.0.0.1" if host == "localhost" else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def require_listening(endpoint: str, *, timeout: float = 3.0) -> None:
    """Fail in one line, within ``timeout`` seconds, when nothing accepts connections at ``endpoint`` (a loopback URL)."""
    parsed = urlparse(endpoint)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=timeout):
            return
    except OSError as error:
        reason = error.strerror or type(error).__name__
    raise HookError(
        f"endpoint: nothing answers at {endpoint} ({reason}); start `runway-ext local serve --port {parsed.port}` first, "
        "or drop --endpoint to deploy to a stand-in started for this run"
    )


@dataclass(frozen=True)
class LocalAws:
    """Where the local AWS answers and the environment that sends a run there."""

    endpoint: str
    journal_file: Path

    def environment(self, deploy_environment: str = "dev") -> dict[str, str]:
        """Variables for a ``runway`` subprocess: endpoint, dummy credentials, fast polling, the journal."""
        port = urlparse(self.endpoint).port
        return {
            **DUMMY_CREDENTIALS,
            "AWS_REGION": DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": f"http://localhost:{port}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CFNGIN_STACK_POLL_TIME": "1",
            "DEPLOY_ENVIRONMENT": deploy_environment,
            "RUNWAY_EXT_LOCAL": "1",
            journal.JOURNAL_VARIABLE: str(self.journal_file),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SAM_CLI_TELEMETRY": "0",
        }


def clean_environment() -> dict[str, str]:
    """The current environment without anything that could point a run at real AWS."""
    dropped = (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    )
    env = {name: value for name, value in os.environ.items() if name not in dropped and not name.startswith("AWS_ENDPOINT_URL")}
    empty = Path(tempfile.gettempdir()) / "runway-ext-no-aws-config"
    env["AWS_CONFIG_FILE"] = str(empty)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(empty)
    return env


def quiet_moto() -> None:
    """Keep moto's per-resource notices ("No Moto CloudFormation support for …") out of the run's output."""
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"moto\..*")


@contextmanager
def local_aws(
    endpoint: str | None = None, *, invalidation_seconds: float = DEFAULT_INVALIDATION_SECONDS, journal_file: Path | None = None
) -> Iterator[LocalAws]:
    """A local AWS: the server at ``endpoint`` (must be loopback) or a new in-process one, stopped afterwards.

    ``invalidation_seconds``: how long a CloudFront invalidation stays InProgress in a new in-process stand-in.
    ``journal_file``: where the run's journal goes (default: a temporary file removed afterwards).
    """
    from runway_ext.local.moto_cloudformation import install
    from runway_ext.local.moto_invalidations import install_invalidation_delay

    with tempfile.TemporaryDirectory(prefix="runway-ext-local-") as folder:
        journal_file = journal_file or Path(folder) / "journal.jsonl"
        if endpoint:
            yield LocalAws(require_loopback(endpoint), journal_file)
            return
        install()
        install_invalidation_delay(invalidation_seconds)
        quiet_moto()
        server = MotoServer().start()
        try:
            yield LocalAws(require_loopback(server.endpoint), journal_file)
        finally:
            server.stop()
