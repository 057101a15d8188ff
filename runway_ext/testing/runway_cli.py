"""Run the real ``runway`` CLI on a project folder, as a user would, with output captured."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runway_ext.local.runway_cli import runway_executable


@dataclass(frozen=True)
class RunwayRun:
    """The outcome of one ``runway`` invocation."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """Whether runway exited 0."""
        return self.returncode == 0


def run_runway(
    project: Path,
    arguments: Sequence[str],
    *,
    environment: Mapping[str, str],
    deploy_environment: str = "dev",
    timeout: float = 600,
) -> RunwayRun:
    """Run ``runway ARGUMENTS`` in ``project`` with ``environment`` added (stdout and stderr together)."""
    env = {**os.environ, **environment, "DEPLOY_ENVIRONMENT": deploy_environment, "CI": "1"}
    completed = subprocess.run(
        [runway_executable(), *arguments],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return RunwayRun(completed.returncode, completed.stdout + completed.stderr)
