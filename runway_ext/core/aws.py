"""boto3 sessions and clients: from the CFNgin context inside Runway, from the environment in a CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from runway.context import CfnginContext

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=10,
    read_timeout=60,
)


def make_session(cfngin_context: CfnginContext | None, region: str | None = None) -> boto3.Session:
    """A boto3 session for ``region``.

    Inside Runway this is the run's own session (its credentials, profile and assumed role);
    in a CLI it is a plain boto3 session, which honours ``AWS_PROFILE``, the usual credential
    chain and ``AWS_ENDPOINT_URL``.
    """
    if cfngin_context is not None:
        return cfngin_context.get_session(region=region)
    return boto3.Session(region_name=region)


def make_client(session: boto3.Session, service: str, region: str | None = None) -> Any:
    """A client for ``service`` with standard retries (bounded attempts) and finite timeouts."""
    return session.client(service, region_name=region or session.region_name, config=CLIENT_CONFIG)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(error: Exception) -> str:
    """The AWS error message of a ``ClientError``, else ``str(error)``."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".rstrip(": ")
    return str(error)
