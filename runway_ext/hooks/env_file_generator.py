"""Write a ``.env`` file from CFNgin variables (stack outputs, SSM parameters, plain values).

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.env_file_generator.cfngin_hook
        args:
          output_file: app/.env.local
          variables:
            API_URL: ${cfn ${namespace}-api.Url}
            DB_PASSWORD: ${ssm /app/db/password}
          overwrite: true

Lookups in ``variables`` are resolved by Runway before the hook runs. The file is written
atomically with mode 0600; an existing file is only replaced with ``overwrite`` (after a backup),
and not at all when its variables are unchanged. CLI::

    python -m runway_ext.hooks.env_file_generator --output-file .env.local --variables K=V K2=V2
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from .. import __version__
from ..core.args import HookArgs
from ..core.errors import HookError
from ..core.files import atomic_write, backup_file
from ..core.hook import HookContext, hook, run_module
from ..core.log import has_url_credentials, is_secret_name, register_secret
from ..dotenv_writer import VARIABLE_NAME, UnrepresentableValue, render_body, render_file, strip_header

FILE_MODE = 0o600


class EnvFileArgs(HookArgs):
    """Arguments of the env file generator."""

    output_file: Path
    """Path of the .env file to write (relative to the working directory; parent folders are created)."""

    variables: dict[str, str | int | float | bool | None] = Field(min_length=1)
    """Variables to write, name -> value. Lookups are already resolved; null writes an empty value."""

    overwrite: bool = False
    """Replace the file if it exists (otherwise an existing file is an error and is left untouched)."""

    create_backup: bool = True
    """Before replacing an existing file, copy it beside itself as <name>.<UTC timestamp>.bak."""

    check: bool = False
    """Write nothing; fail if the file is missing or its variables differ (a CI drift check)."""

    @field_validator("variables")
    @classmethod
    def _names_and_values(cls, variables: dict[str, object]) -> dict[str, object]:
        for name, value in variables.items():
            if not VARIABLE_NAME.match(name):
                raise ValueError(f"invalid variable name {name!r} (expected [A-Za-z_][A-Za-z0-9_]*)")
            try:
                render_body({name: _as_text(value)})
            except UnrepresentableValue as error:
                raise ValueError(str(error)) from None
        return variables

    @field_validator("output_file")
    @classmethod
    def _not_a_folder(cls, path: Path) -> Path:
        if str(path) in ("", ".") or path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder, not a file")
        return path

    def text_variables(self) -> dict[str, str]:
        """The variables as the strings that will be written."""
        return {name: _as_text(value) for name, value in self.variables.items()}


def _as_text(value: object) -> str:
    """How a config value is written: booleans as true/false, null as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class EnvFileResult(BaseModel):
    """What the hook did (stored in hook_data as ``runway_ext.env_file_generator``)."""

    output_file: str
    action: Literal["created", "updated", "unchanged", "up-to-date"]
    keys: list[str]
    backup_file: str | None = None


@dataclass(frozen=True)
class EnvFilePlan:
    """The decision for one run: what to write and whether to back up first."""

    action: Literal["create", "replace", "unchanged", "refuse", "drift"]
    content: str
    backup: bool = False
    reason: str = ""


def plan_env_file(args: EnvFileArgs, existing: str | None, header: list[str]) -> EnvFilePlan:
    """Decide what to do given the current file content (``None`` if there is no file). Pure."""
    content = render_file(header, args.text_variables())
    if existing is not None and strip_header(existing) == strip_header(content):
        return EnvFilePlan("unchanged", content)
    if args.check:
        reason = "does not exist" if existing is None else "differs from the variables"
        return EnvFilePlan("drift", content, reason=reason)
    if existing is None:
        return EnvFilePlan("create", content)
    if not args.overwrite:
        return EnvFilePlan("refuse", content, reason="exists; set overwrite: true (--overwrite) to replace it")
    return EnvFilePlan("replace", content, backup=args.create_backup)


def make_header(now: datetime | None = None) -> list[str]:
    """The generated header: what wrote the file and when (never any value)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [f"Written by runway_ext {__version__} env_file_generator at {stamp}.", "Do not edit: regenerated on deploy."]


def _register_secrets(variables: dict[str, str]) -> None:
    for name, value in variables.items():
        if is_secret_name(name) or has_url_credentials(value):
            register_secret(value)


def _read_existing(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, OSError) as error:
        raise HookError(f"output_file: cannot read existing {path}: {error}") from None


@hook("env_file_generator", EnvFileArgs, summary="Write a .env file from variables (atomic, 0600, backed up).")
def cfngin_hook(args: EnvFileArgs, ctx: HookContext) -> EnvFileResult:
    """Write (or check) the .env file described by ``args``."""
    variables = args.text_variables()
    _register_secrets(variables)
    for name, value in variables.items():
        shown = "***" if is_secret_name(name) or has_url_credentials(value) else value
        ctx.log.debug("variable %s=%s", name, shown)
    path = args.output_file
    plan = plan_env_file(args, _read_existing(path), make_header())
    keys = list(variables)
    if plan.action == "unchanged":
        ctx.log.info("%s already holds these %d variables; not rewritten", path, len(keys))
        return EnvFileResult(output_file=str(path), action="up-to-date" if args.check else "unchanged", keys=keys)
    if plan.action == "drift":
        raise HookError(f"output_file: {path} {plan.reason} (check mode; nothing written)")
    if plan.action == "refuse":
        raise HookError(f"output_file: {path} {plan.reason}")
    backup = None
    if plan.backup:
        backup = backup_file(path, mode=FILE_MODE)
        ctx.log.info("backed up %s to %s", path, backup.name)
    atomic_write(path, plan.content, mode=FILE_MODE)
    action = "created" if plan.action == "create" else "updated"
    ctx.log.info("%s %s with %d variables: %s", action, path, len(keys), ", ".join(keys))
    return EnvFileResult(output_file=str(path), action=action, keys=keys, backup_file=str(backup) if backup else None)


COMMAND = cfngin_hook

if __name__ == "__main__":
    run_module(COMMAND)
