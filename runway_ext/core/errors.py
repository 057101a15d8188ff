"""The one exception a hook raises to fail with a clear, single-line message."""

from __future__ import annotations


class HookError(Exception):
    """A failure the user can act on.

    The message is what the user sees: one line saying what was wrong (and, for a failed
    subprocess, its last output lines below it). Both faces turn it into a logged error plus a
    falsy result (CFNgin) or a non-zero exit (CLI), never a traceback.
    """
