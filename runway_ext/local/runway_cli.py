"""Where the ``runway`` command is: the script beside the running Python, else whatever ``runway`` is on PATH."""

from __future__ import annotations

import sys
from pathlib import Path


def runway_executable() -> str:
    """The ``runway`` script of this Python environment (where runway_ext must be installed too), else ``runway``."""
    candidate = Path(sys.executable).parent / "runway"
    return str(candidate) if candidate.exists() else "runway"
