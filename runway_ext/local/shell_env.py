"""``runway-ext local env``: the shell exports that point the ``runway-ext`` hook commands (and aws, sam) at a serve.

``eval "$(runway-ext local env)"`` in a shell makes every AWS client of that shell talk to the running
``runway-ext local serve`` with dummy credentials: the endpoint, the S3 endpoint spelled with ``localhost``
(moto treats only such URLs as path-style, which ``sam deploy``'s template upload needs), region, the registry
the serve owns, and the profile variables unset so nothing falls back to a real account.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlparse

from runway_ext.core.errors import HookError
from runway_ext.local.moto_server import DUMMY_CREDENTIALS
from runway_ext.local.serve_session import live_sessions, read_session
from runway_ext.local.session import require_loopback

UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
"""Variables that could send a client to a real account; the exports unset them."""


def find_serve(*, port: int | None = None, endpoint: str | None = None) -> dict[str, Any]:
    """The session of the running serve named by ``port`` or ``endpoint``, else the only one running."""
    if port is not None or endpoint is not None:
        wanted = require_loopback(endpoint) if endpoint else f"http://127.0.0.1:{port}"
        session = read_session(wanted)
        if session is None:
            raise HookError(
                f"endpoint: no `runway-ext local serve` runs at {wanted}; start one with `runway-ext local serve --port {urlparse(wanted).port}`"
            )
        return session
    sessions = live_sessions()
    if not sessions:
        raise HookError("no `runway-ext local serve` is running; start one (`runway-ext local serve --port 5055`) in another terminal")
    if len(sessions) > 1:
        ports = ", ".join(str(urlparse(str(item.get("endpoint", ""))).port) for item in sessions)
        raise HookError(f"several `runway-ext local serve` run (ports {ports}); choose one with --port")
    return sessions[0]


def exports(session: dict[str, Any]) -> list[str]:
    """``export NAME=VALUE`` lines (values shell-quoted) and one ``unset`` line for ``session``'s serve."""
    endpoint = require_loopback(str(session.get("endpoint", "")))
    port = urlparse(endpoint).port
    values = {
        **DUMMY_CREDENTIALS,
        "AWS_REGION": DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": f"http://localhost:{port}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "SAM_CLI_TELEMETRY": "0",
    }
    registry = session.get("registry")
    if isinstance(registry, str) and registry:
        values["RUNWAY_EXT_REGISTRY"] = registry
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    lines.append("unset " + " ".join(UNSET))
    return lines
