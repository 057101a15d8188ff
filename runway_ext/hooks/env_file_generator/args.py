"""The env file generator's arguments (config.yml keys and CLI flags) and its result.

Each field's docstring is its documentation and its CLI help. The result is stored in hook_data as
``runway_ext.env_file_generator`` and printed by ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from runway_ext.core.args import HookArgs
from runway_ext.hooks.env_file_generator.dotenv_format import VARIABLE_NAME, UnrepresentableValue, as_text, render_body

Outcome = Literal["created", "updated", "unchanged", "up-to-date"]
"""``created``, ``updated``, ``unchanged`` (same variables already there), ``up-to-date`` (check mode, no drift)."""


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
                render_body({name: as_text(value)})
            except UnrepresentableValue as error:
                raise ValueError(str(error)) from None
        return variables

    @field_validator("output_file")
    @classmethod
    def _not_a_folder(cls, path: Path) -> Path:
        try:
            is_folder = str(path) in ("", ".") or path.is_dir()
        except OSError as error:  # a name longer than the system allows, a loop of links
            raise ValueError(f"cannot be used as a file path ({error.strerror or type(error).__name__})") from None
        if is_folder:
            raise ValueError(f"{str(path)!r} is a folder, not a file")
        return path

    def text_variables(self) -> dict[str, str]:
        """The variables as the strings that will be written."""
        return {name: as_text(value) for name, value in self.variables.items()}


class EnvFileResult(BaseModel):
    """What the hook did (stored in hook_data as ``runway_ext.env_file_generator``)."""

    output_file: str
    action: Outcome
    keys: list[str]
    backup_file: str | None = None
