"""Running the ``sam`` CLI: finding it, checking its version, and running it with the session's credentials.

``sam`` never sees a profile or a secret on its command line: the session's frozen credentials
(registered as secrets, so no log line shows them) and region go into its environment, its
parameter overrides into a private file (0600) in a scratch folder that is removed afterwards,
and every run is bounded by the hook's :class:`~runway_ext.core.waiting.Deadline`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from runway_ext.core.errors import HookError
from runway_ext.core.files import atomic_write
from runway_ext.core.log import register_secret
from runway_ext.core.process import find_executable, run_process
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.sam_deploy.commands import (
    Credentials,
    app_dir_metadata,
    parse_sam_version,
    sam_environment,
    sam_version_problem,
    version_text,
)
from runway_ext.hooks.sam_deploy.parameters import overrides_document

if TYPE_CHECKING:
    import boto3

INSTALL_HINT = "install the AWS SAM CLI (pip install aws-sam-cli, e.g. in its own virtualenv) or set sam_executable"
VERSION_CHECK_TIMEOUT = 60.0
"""Longest ``sam --version`` may take (a cold start of sam's Python can be slow)."""


def locate_sam(executable: str) -> str:
    """The full path of ``executable`` (how to install sam if there is none); runs nothing."""
    return find_executable(executable, install_hint=INSTALL_HINT)


def find_sam(executable: str, deadline: Deadline, log: logging.Logger) -> str:
    """The full path of ``executable``, checked to be a sam this hook supports (how to install it otherwise)."""
    sam = locate_sam(executable)
    result = run_process(
        [sam, "--version"],
        what="sam --version",
        timeout=min(VERSION_CHECK_TIMEOUT, deadline.remaining("sam --version")),
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_stdout=True,
        logger=log,
    )
    version = parse_sam_version(result.stdout)
    if version is None:
        log.warning("could not read the sam version from %r; continuing", result.stdout.strip())
        return sam
    problem = sam_version_problem(version)
    if problem:
        raise HookError(problem)
    log.debug("using %s (sam %s)", sam, version_text(version))
    return sam


def session_credentials(session: boto3.Session, region: str, log: logging.Logger) -> Credentials:
    """The session's frozen credentials, registered as secrets so no log line shows them."""
    found = session.get_credentials()
    if found is None:
        raise HookError(f"no AWS credentials found for region {region} (configure a profile, role or AWS_ACCESS_KEY_ID)")
    frozen = found.get_frozen_credentials()
    for value in (frozen.access_key, frozen.secret_key, frozen.token):
        register_secret(value)
    log.debug("sam gets the session's credentials (%s) through its environment", getattr(found, "method", "unknown source"))
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)


class SamRun:
    """One hook run's use of sam: a scratch folder (sam's app folder, the parameter file) and its environment.

    Use as a context manager; the scratch folder is removed on leaving it.
    """

    def __init__(self, credentials: Credentials, region: str, log: logging.Logger, *, base_env: Mapping[str, str] | None = None) -> None:
        """Make the scratch folder: sam's app folder with its update check parked, then sam's environment."""
        self._scratch = tempfile.TemporaryDirectory(prefix="runway-ext-sam-")
        self.root = Path(self._scratch.name)
        app_dir = self.root / "sam-app-dir"
        app_dir.mkdir(mode=0o700)
        atomic_write(app_dir / "metadata.json", json.dumps(app_dir_metadata(time.time())), mode=0o600)
        self.env = sam_environment(os.environ if base_env is None else base_env, credentials, region, str(app_dir))
        self.log = log

    def write_overrides(self, parameters: Mapping[str, str]) -> str | None:
        """Write the parameter overrides file (0600) and return its path (None when there are none)."""
        if not parameters:
            return None
        path = self.root / "parameter-overrides.yaml"
        atomic_write(path, overrides_document(parameters), mode=0o600)
        return str(path)

    def run(self, argv: list[str], *, what: str, cwd: Path, deadline: Deadline) -> None:
        """Run one sam command, streaming its output; a failure is a HookError with sam's last lines."""
        run_process(argv, what=what, timeout=deadline.remaining(what), cwd=cwd, env=self.env, logger=self.log)

    def close(self) -> None:
        """Remove the scratch folder."""
        self._scratch.cleanup()

    def __enter__(self) -> SamRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
