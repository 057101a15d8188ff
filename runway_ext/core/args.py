"""The base args model every hook's arguments derive from."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _environment_name(name: str) -> str:
    if not _ENVIRONMENT_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid environment name (letters, digits, '_', '.', '-'; no slashes)")
    return name


EnvironmentName = Annotated[str, AfterValidator(_environment_name)]
"""A deploy environment name (``dev``, ``prod-eu``): safe in file names, tags and stack names."""


class HookArgs(BaseModel):
    """Base of every hook's arguments: the single source for config.yml keys and CLI flags.

    Unknown keys are refused (a typo in config.yml is an error, not a silently ignored
    option). Each field's docstring is its documentation and its CLI help.
    """

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        frozen=True,
    )

    verbose: bool = False
    """Log every step in detail (secret values are still redacted)."""


def describe_validation_error(error: ValidationError) -> list[str]:
    """Turn a pydantic error into one ``field: problem`` line per bad field."""
    lines: list[str] = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "arguments"
        message = item["msg"]
        if item["type"] == "missing":
            message = "field required"
        elif item["type"] == "extra_forbidden":
            message = "unknown argument"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{location}: {message}")
    return lines
