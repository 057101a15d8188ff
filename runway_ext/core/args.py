"""The base args model every hook's arguments derive from."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

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


_UNION_MEMBER = re.compile(r"(str|int|float|bool|none|bytes|[a-z-]+\[.*\])")
_MAX_LINE = 300


def describe_validation_error(error: ValidationError) -> list[str]:
    """Turn a pydantic error into one short ``field: problem`` line per bad field.

    A value matching none of a union's members is one line naming what was expected (pydantic
    reports one error per member), and a line quoting a huge value is cut to a readable length.
    """
    items = error.errors(include_url=False)
    locations = [tuple(item["loc"]) for item in items]
    lines: list[str] = []
    unions: dict[tuple[object, ...], tuple[int, list[str]]] = {}  # union location -> (its line, member names)
    parent: tuple[object, ...]
    for item, loc in zip(items, locations, strict=True):
        member, parent = (loc[-1], loc[:-1]) if loc else (None, ())
        if isinstance(member, str) and _UNION_MEMBER.fullmatch(member) and sum(other[:-1] == parent for other in locations) > 1:
            if parent not in unions:
                unions[parent] = (len(lines), [])
                lines.append("")
            unions[parent][1].append("null" if member == "none" else member)
            continue
        lines.append(_shorten(f"{_location(loc)}: {_message(item)}"))
    for parent, (index, members) in unions.items():
        lines[index] = _shorten(f"{_location(parent)}: expected {' or '.join(dict.fromkeys(members))}")
    return lines


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc) or "arguments"


def _message(item: ErrorDetails) -> str:
    message = str(item["msg"])
    if item["type"] == "missing":
        return "field required"
    if item["type"] == "extra_forbidden":
        return "unknown argument"
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    return message


def _shorten(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"
