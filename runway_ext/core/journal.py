"""An optional run journal: one JSON line per hook run, for summaries of a whole deploy.

Set ``RUNWAY_EXT_JOURNAL`` to a file path and every runway_ext hook run inside Runway appends
``{"hook": name, "ok": true/false, "result": {...} | "error": "..."}`` to it (secrets redacted).
Local mode uses it to print what a deploy did (objects synced, invalidations, image digests).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from runway_ext.core.log import redact

JOURNAL_VARIABLE = "RUNWAY_EXT_JOURNAL"


def record(hook_name: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Append one entry if a journal is configured (a single ``write`` in append mode)."""
    target = os.environ.get(JOURNAL_VARIABLE)
    if not target:
        return
    entry: dict[str, Any] = {"hook": hook_name, "ok": error is None}
    if error is None:
        entry["result"] = result
    else:
        entry["error"] = error
    line = redact(json.dumps(entry, sort_keys=True, default=str)) + "\n"
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("utf-8"))
    finally:
        os.close(descriptor)


def read(path: Path) -> list[dict[str, Any]]:
    """All entries of a journal file (empty if it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
