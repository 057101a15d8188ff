"""boto3 sessions and clients: from the CFNgin context inside Runway, from the environment in a CLI.

Importing this module is cheap: boto3 and botocore are imported by the first function that needs
them (making a session or client), so a hook's ``--help`` or argument error never loads them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from runway.context import CfnginContext

RETRY_ATTEMPTS = 5
"""Retries per AWS call after its first request (botocore's ``max_attempts`` in standard mode: up to 6 requests)."""
CONNECT_TIMEOUT = 10
"""Seconds to connect to an AWS endpoint."""
READ_TIMEOUT = 60
"""Seconds to wait for an AWS answer."""


@lru_cache(maxsize=1)
def client_config() -> Config:
    """The botocore ``Config`` every client gets: standard retries (bounded attempts) and finite timeouts."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": RETRY_ATTEMPTS}, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)


def make_session(cfngin_context: CfnginContext | None, region: str | None = None) -> boto3.Session:
    """A boto3 session for ``region``.

    Inside Runway this is the run's own session (its credentials, profile and assumed role);
    in a CLI it is a plain boto3 session, which honours ``AWS_PROFILE``, the usual credential
    chain and ``AWS_ENDPOINT_URL``.
    """
    if cfngin_context is not None:
        return cfngin_context.get_session(region=region)
    import boto3

    return boto3.Session(region_name=region)


def make_client(session: boto3.Session, service: str, region: str | None = None) -> Any:
    """A client for ``service`` with standard retries (bounded attempts) and finite timeouts."""
    share_model_loader(session)
    return session.client(service, region_name=region or session.region_name, config=client_config())


_MODEL_LOADERS: dict[str, Any] = {}


def share_model_loader(session: boto3.Session) -> None:
    """Make ``session`` read botocore's service models and endpoints through one loader per process.

    Runway makes a new session for every stack and hook, and each new session parses botocore's
    JSON files again (endpoints.json alone costs ~0.1 s) before its first client; with a shared
    loader they are parsed once per process. The files are the same whatever the credentials or
    region, so nothing else about the session changes. Sessions without a botocore session are
    left as they are.
    """
    core = getattr(session, "_session", None)
    if core is None or not hasattr(core, "register_component"):
        return
    from botocore.loaders import create_loader

    data_path = str(core.get_config_variable("data_path") or "")
    loader = _MODEL_LOADERS.get(data_path)
    if loader is None:
        loader = _MODEL_LOADERS.setdefault(data_path, create_loader(data_path or None))
    if core.get_component("data_loader") is not loader:
        core.register_component("data_loader", loader)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for anything else)."""
    response = _client_error_response(error)
    return str(response.get("Error", {}).get("Code", "")) if response is not None else ""


def error_message(error: Exception) -> str:
    """The AWS error message of a ``ClientError``, else ``str(error)``."""
    response = _client_error_response(error)
    if response is not None:
        details = response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".rstrip(": ")
    return str(error)


def aws_errors() -> tuple[type[Exception], ...]:
    """The exceptions an AWS call raises (botocore's ``ClientError`` and ``BotoCoreError``), for ``except aws_errors():``.

    An ``except`` clause evaluates this only when an exception is on its way, so importing a module
    that catches AWS errors does not import botocore.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def is_client_error(error: Exception) -> bool:
    """Whether ``error`` is AWS answering with an error (a ``ClientError``), not a transport failure."""
    return _client_error_response(error) is not None


def _client_error_response(error: Exception) -> dict[str, Any] | None:
    """The error response of a ``ClientError`` (``None`` for any other exception).

    A ``ClientError`` can only exist once botocore is imported, so this never imports it.
    """
    import sys

    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is not None and isinstance(error, exceptions.ClientError):
        return error.response
    return None
