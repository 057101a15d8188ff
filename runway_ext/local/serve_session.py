"""What a running ``runway-ext local serve`` offers to the commands pointed at it, as a small JSON file.

``serve`` owns the stand-in, the local registry and the local edge for its whole life; ``deploy``/``destroy``
with ``--endpoint`` read this file to push images to the same registry on every run (so ECR's records in the
stand-in and the registry's content stay in step across runs) and to print the site URLs the edge serves.

The file is ``<temp dir>/runway-ext-<uid>/serve-<port>.json`` (folder mode 0700), written atomically, removed
when ``serve`` stops. A file whose ``pid`` is no longer alive (a ``serve`` that was SIGKILLed) is ignored and
removed; a file whose endpoint differs from the one asked for is ignored and kept (a mistyped ``--endpoint`` never
takes a running ``serve``'s session away). Callers pass endpoints through
:func:`~runway_ext.local.session.require_loopback` first, so ``localhost`` and ``127.0.0.1`` are the same serve.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


def session_folder() -> Path:
    """The per-user folder holding the session files."""
    return Path(tempfile.gettempdir()) / f"runway-ext-{os.getuid()}"


def session_file(port: int) -> Path:
    """The session file of the ``serve`` on ``port``."""
    return session_folder() / f"serve-{port}.json"


def write_session(port: int, data: dict[str, Any]) -> Path:
    """Write (replace) the session file of the ``serve`` on ``port``."""
    folder = session_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.is_symlink():
        raise OSError(f"{folder} is not this user's folder")
    target = session_file(port)
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".serve-", suffix=".tmp", delete=False, encoding="utf-8") as handle:
        json.dump({**data, "pid": os.getpid()}, handle)
    os.replace(handle.name, target)
    return target


def remove_session(port: int) -> None:
    """Remove the session file of the ``serve`` on ``port`` (if this process wrote it)."""
    found = _load(session_file(port))
    if found is not None and found.get("pid") == os.getpid():
        session_file(port).unlink(missing_ok=True)


def read_session(endpoint: str) -> dict[str, Any] | None:
    """The session of the live ``serve`` answering at ``endpoint`` (normalised by ``require_loopback``), or ``None``.

    Only the file of a ``serve`` that is no longer alive is removed, never one that merely names another endpoint.
    """
    port = urlparse(endpoint).port
    if port is None:
        return None
    path = session_file(port)
    data = _load(path)
    if data is None:
        return None
    pid = data.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        path.unlink(missing_ok=True)
        return None
    if str(data.get("endpoint", "")).rstrip("/") != endpoint.rstrip("/"):
        return None
    return data


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_sessions() -> list[dict[str, Any]]:
    """The sessions of every live ``serve`` of this user, by port (files of dead ones are removed)."""
    found = []
    for path in sorted(session_folder().glob("serve-*.json")):
        data = _load(path)
        if data is None:
            continue
        pid = data.get("pid")
        if not isinstance(pid, int) or not _alive(pid):
            path.unlink(missing_ok=True)
            continue
        found.append(data)
    return found
