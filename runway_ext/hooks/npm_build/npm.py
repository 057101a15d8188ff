"""The app and npm: read package.json, copy the environment's env file, install and build.

Nothing here touches the bucket. :func:`copy_env_file` writes ``.env.local`` atomically (mode 0600)
and registers the secret-looking values of the env file first, so they are masked in every log line,
npm's output included. :func:`run_build` installs dependencies only when ``node_modules`` is missing
(``npm ci`` with a lockfile, ``npm install`` without) and then runs ``npm run build``, each step bounded
by a timeout.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from runway_ext.core.dotenv_file import read_dotenv
from runway_ext.core.errors import HookError
from runway_ext.core.files import atomic_write
from runway_ext.core.log import register_secrets
from runway_ext.core.process import find_executable, run_process

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
"""Lockfiles that make the install ``npm ci`` (exactly what they pin)."""

NEXT_CONFIGS = ("next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")
"""Files whose presence marks a Next.js app."""

ENV_LOCAL = ".env.local"
"""The env file the build reads, written from ``.env.<environment>``."""

NPM_ENVIRONMENT_DEFAULTS = {
    "NEXT_TELEMETRY_DISABLED": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}
"""Set for npm unless the environment already sets them: no telemetry, update checks or audit calls."""


def read_package(app_path: Path, *, required: bool = True) -> dict[str, Any]:
    """The app's package.json (``{}`` when absent and not ``required``); the app folder must exist."""
    if not app_path.is_dir():
        raise HookError(f"app_path: {app_path} is not a folder")
    package_file = app_path / "package.json"
    if not required and not package_file.is_file():
        return {}
    try:
        package = json.loads(package_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HookError(f"app_path: no package.json in {app_path}") from None
    except (ValueError, OSError) as error:
        raise HookError(f"app_path: cannot read {package_file}: {error}") from None
    if not isinstance(package, dict):
        raise HookError(f"app_path: {package_file} is not a JSON object")
    return package


def declared_dependencies(package: dict[str, Any]) -> list[str]:
    """Names of every dependency package.json declares (all kinds). Pure."""
    names: list[str] = []
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        value = package.get(section)
        if isinstance(value, dict):
            names.extend(value)
    return names


def is_nextjs(app_path: Path, package: dict[str, Any]) -> bool:
    """Whether the app is a Next.js app (its static export lands in ``out/``)."""
    return "next" in declared_dependencies(package) or any((app_path / name).exists() for name in NEXT_CONFIGS)


def copy_env_file(app_path: Path, environment: str, *, required: bool, log: logging.Logger) -> bool:
    """Copy ``.env.<environment>`` to ``.env.local`` (atomic, 0600); a missing file is a notice or, if required, an error.

    Returns whether an env file was in place for the build.
    """
    source = app_path / f".env.{environment}"
    target = app_path / ENV_LOCAL
    if not source.is_file():
        if required:
            raise HookError(f"environment: {source} does not exist (require_env_file is set)")
        note = f"; the existing {ENV_LOCAL} is left as it is" if target.exists() else ""
        log.warning("no %s in %s: building without an environment file%s", source.name, app_path, note)
        return False
    try:  # expanded as the build's own dotenv reads it: earlier keys of the file, then the environment
        register_secrets(read_dotenv(source, environment=dict(os.environ)))
    except ValueError as error:
        raise HookError(f"environment: {error}") from None
    content = source.read_bytes()
    if target.is_file() and not target.is_symlink() and target.read_bytes() == content:
        log.info("%s already matches %s", ENV_LOCAL, source.name)
        return True
    atomic_write(target, content, mode=0o600)
    log.info("copied %s to %s", source.name, ENV_LOCAL)
    return True


def npm_environment() -> dict[str, str]:
    """The environment npm runs with: ours, plus quiet defaults."""
    env = dict(os.environ)
    for name, value in NPM_ENVIRONMENT_DEFAULTS.items():
        env.setdefault(name, value)
    return env


def run_build(app_path: Path, package: dict[str, Any], *, timeout: float, log: logging.Logger) -> None:
    """Install dependencies if ``node_modules`` is missing, then ``npm run build``; each step within ``timeout`` seconds."""
    scripts = package.get("scripts")
    if not isinstance(scripts, dict) or "build" not in scripts:
        raise HookError(f'app_path: {app_path / "package.json"} has no "build" script')
    npm = find_executable("npm", install_hint="install Node.js (it ships npm): https://nodejs.org/")
    env = npm_environment()
    if not (app_path / "node_modules").is_dir():
        if not declared_dependencies(package):
            log.info("package.json declares no dependencies: nothing to install")
        else:
            lockfile = next((name for name in LOCKFILES if (app_path / name).is_file()), None)
            command = "ci" if lockfile else "install"
            log.info("node_modules is missing: npm %s%s", command, f" (from {lockfile})" if lockfile else "")
            run_process(
                [npm, command, "--no-audit", "--no-fund"],
                what=f"npm {command}",
                timeout=timeout,
                cwd=app_path,
                env=env,
                logger=log,
            )
    log.info("npm run build in %s", app_path)
    run_process([npm, "run", "build"], what="npm run build", timeout=timeout, cwd=app_path, env=env, logger=log)
