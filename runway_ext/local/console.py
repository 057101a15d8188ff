"""The local console, as ``serve`` and ``deploy --serve`` start it, and where deploys leave their journals for it.

``serve`` keeps a journal folder (in the per-user session folder, mode 0700) and names it in its session
file; a ``deploy``/``destroy`` pointed at that ``serve`` writes its run journal there
(:func:`journal_file_for`), so the console shows every run's hook results, while the run is going. The page
itself is :mod:`runway_ext.local.console_server`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from runway_ext.local.console_server import Console
from runway_ext.local.console_state import journal_name, process_alive
from runway_ext.local.serve_session import session_folder


def journal_folder(stack: ExitStack) -> Path:
    """A new journal folder for this ``serve`` (removed when ``stack`` closes).

    Folders left by a ``serve`` that was killed (named after its pid, which is gone) are removed first.
    """
    folder = session_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    for left in folder.glob("journal-*-*"):
        pid = left.name.split("-")[1]
        if pid.isdigit() and not process_alive(int(pid)) and left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"journal-{os.getpid()}-", dir=folder)))


def journal_file_for(session: dict[str, Any] | None, action: str) -> Path | None:
    """Where a run against the ``serve`` of ``session`` writes its journal; ``None`` when it offers no folder.

    The folder must be this user's own directory directly inside the session folder (the session file is
    input like any other).
    """
    named = (session or {}).get("journal_folder")
    if not isinstance(named, str):
        return None
    folder = Path(named)
    try:
        info = folder.lstat()
    except OSError:
        return None
    if folder.parent != session_folder() or not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
        return None
    return folder / journal_name(action)


def start_console(
    stack: ExitStack,
    endpoint: str,
    *,
    sites: Callable[[], dict[str, str]],
    journals: Callable[[], list[Path]],
    registry: str | None,
    show: Callable[[str], None],
) -> Console:
    """Start the console for ``endpoint``, stopped when ``stack`` closes; print its ``console: URL`` line."""
    console = Console(endpoint, sites=sites, journals=journals, registry=registry).start()
    stack.callback(console.stop)
    show(f"console: {console.url}")
    return console


def journals_in(folder: Path) -> Callable[[], list[Path]]:
    """The run journals in ``folder``, as the console asks for them."""
    return lambda: sorted(folder.glob("*.jsonl"))
