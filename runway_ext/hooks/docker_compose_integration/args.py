"""The arguments of start, stop and status (config.yml keys and CLI flags), and what each returns.

Each field's docstring is its documentation and its CLI help. A result is what the hook stores in
hook_data under ``runway_ext.<hook name>`` and what ``--json`` prints.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from runway_ext.core.args import HookArgs

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""A valid compose project name: lowercase letters, digits, ``_`` and ``-``, starting with a letter or digit."""

SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""A service name we pass on a command line (never starts with ``-``, so it cannot be read as a flag)."""

PullPolicy = Literal["never", "missing", "always", "policy"]
StartAction = Literal["started", "unchanged"]
"""``started``: some container was created, recreated or started; ``unchanged``: all were already up."""
StopAction = Literal["removed", "stopped", "already-stopped", "absent"]
"""``removed`` (down), ``stopped`` (stop), ``already-stopped``, or ``absent`` (no container existed)."""


# -- arguments --------------------------------------------------------------------------------------
class ComposeArgs(HookArgs):
    """Arguments shared by start, stop and status: which project and which services."""

    compose_file: Path = Path("docker-compose.yml")
    """Compose file (relative to working_directory)."""

    services: list[str] = []
    """Services to act on (default: every service of the compose file)."""

    project_name: str | None = None
    """Compose project name (default: the compose file's folder name, normalised as compose does)."""

    env_file: Path | None = None
    """Environment file for variable interpolation in the compose file (docker compose --env-file); must exist."""

    working_directory: Path | None = None
    """Folder the relative paths are resolved from and compose runs in (default: the current directory)."""

    @field_validator("services", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: list[str]) -> list[str]:
        for name in services:
            if not SERVICE_NAME.match(name):
                raise ValueError(f"invalid service name {name!r} (expected letters, digits, '.', '_', '-', not starting with '-')")
        return list(dict.fromkeys(services))

    @field_validator("project_name")
    @classmethod
    def _project_name(cls, name: str | None) -> str | None:
        if name is not None and not PROJECT_NAME.match(name):
            raise ValueError(f"invalid project name {name!r} (lowercase letters, digits, '_' and '-', starting with a letter or digit)")
        return name


class StartArgs(ComposeArgs):
    """Arguments of the start hook."""

    build: bool = False
    """Rebuild the services' images first (docker compose build); otherwise only missing images are built."""

    wait_timeout: int = Field(300, gt=0)
    """Seconds to wait for the services to be healthy (or running, without a healthcheck)."""

    health_check: bool = True
    """Wait for healthy/running (docker compose up --wait); false returns once the containers are started."""

    pull: PullPolicy = "never"
    """Image pulls during up: never (default: images must be local or built), missing, always, or policy (the file's pull_policy)."""

    build_timeout: int = Field(1800, gt=0)
    """Seconds allowed for building images."""

    log_lines: int = Field(20, ge=0)
    """Log lines shown for each service that did not become healthy."""


class StopArgs(ComposeArgs):
    """Arguments of the stop hook."""

    cleanup: bool = True
    """Remove the containers and the project network (docker compose down); false only stops them."""

    remove_volumes: bool = False
    """Also remove the project's named and anonymous volumes (down -v); needs cleanup."""

    timeout: int = Field(30, ge=0)
    """Seconds each container gets to stop after SIGTERM before it is killed."""

    @field_validator("remove_volumes")
    @classmethod
    def _volumes_need_cleanup(cls, remove_volumes: bool, info: ValidationInfo) -> bool:
        if remove_volumes and not info.data.get("cleanup", True):
            raise ValueError("needs cleanup: true (volumes are removed together with the containers)")
        return remove_volumes


class StatusArgs(ComposeArgs):
    """Arguments of the status hook."""


# -- results ----------------------------------------------------------------------------------------
class StartResult(BaseModel):
    """What start did (hook_data ``runway_ext.docker_compose_start``)."""

    project: str
    compose_file: str
    action: StartAction
    changed: list[str]
    ready: bool
    built: bool
    waited: bool
    elapsed_seconds: float
    services: list[dict[str, Any]]


class StopResult(BaseModel):
    """What stop did (hook_data ``runway_ext.docker_compose_stop``)."""

    project: str
    compose_file: str
    action: StopAction
    services: list[str]
    volumes_removed: list[str]
    elapsed_seconds: float


class StatusResult(BaseModel):
    """The project's state (hook_data ``runway_ext.docker_compose_status``)."""

    project: str
    compose_file: str
    ready: bool
    not_ready: list[str]
    services: list[dict[str, Any]]
