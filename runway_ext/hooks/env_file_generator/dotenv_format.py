"""Render ``.env`` files that python-dotenv and docker compose both read back exactly.

The two readers disagree on most escapes, so each value gets the one quoting both read the same:

* single quotes — literal for compose; python-dotenv only decodes ``\\\\`` and ``\\'`` there.
  Used when the value has no ``'``, no ``\\\\`` pair and does not end in a backslash.
* double quotes — both decode ``\\\\``, ``\\"`` and ``\\n``; compose expands ``$`` there.
  Used when the value has a ``'`` or such backslashes but no ``$``.

A value needing both (a ``$`` together with a ``'`` or a backslash pair) has no spelling both
readers agree on, and neither has ``${…}`` (python-dotenv expands it even in single quotes): those
are refused with an error naming the key. Config values become text by :func:`as_text`.
Pure functions only; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTENV_INTERPOLATION = re.compile(r"\$\{[^}]*\}")
HEADER_PREFIX = "# "


class UnrepresentableValue(ValueError):
    """A value that python-dotenv and docker compose cannot both read back unchanged."""


def as_text(value: object) -> str:
    """How a config value is written: booleans as ``true``/``false``, null as empty, anything else as ``str()``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_representable(name: str, value: str) -> None:
    """Raise :class:`UnrepresentableValue` if ``value`` has no portable spelling."""
    if "\x00" in value:
        raise UnrepresentableValue(f"{name}: value contains a NUL character")
    if _DOTENV_INTERPOLATION.search(value):
        raise UnrepresentableValue(f"{name}: value contains '${{…}}', which python-dotenv always expands")
    if not _fits_single_quotes(value) and "$" in value:
        raise UnrepresentableValue(
            f"{name}: value mixes '$' with a single quote or backslashes; no .env quoting reads back the same in python-dotenv and docker compose"
        )


def _fits_single_quotes(value: str) -> bool:
    return "'" not in value and "\\\\" not in value and not value.endswith("\\") and "\r" not in value


def quote_value(name: str, value: str) -> str:
    """The portable right-hand side for ``value`` (quotes included)."""
    check_representable(name, value)
    if _fits_single_quotes(value):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def render_body(variables: Mapping[str, str]) -> str:
    """The ``KEY='value'`` lines for ``variables`` in the given order, each ending in a newline."""
    lines = []
    for name, value in variables.items():
        if not VARIABLE_NAME.match(name):
            raise UnrepresentableValue(f"{name!r}: invalid variable name (expected [A-Za-z_][A-Za-z0-9_]*)")
        lines.append(f"{name}={quote_value(name, value)}\n")
    return "".join(lines)


def render_file(header: list[str], variables: Mapping[str, str]) -> str:
    """A whole file: the header comment lines, then the variables."""
    comment = "".join(f"{HEADER_PREFIX}{line}\n" for line in header)
    return comment + render_body(variables)


def strip_header(text: str) -> str:
    """The file's content without its leading comment lines (to compare two versions ignoring the header)."""
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index].startswith("#"):
        index += 1
    return "".join(lines[index:])
