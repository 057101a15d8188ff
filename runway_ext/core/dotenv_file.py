"""Reading a .env file (the one reader of the package: ``${dotenv}``, npm_build's secret masking): python-dotenv parses, this module expands, in one linear pass.

python-dotenv's own expansion is not used, for two reasons. It expands ``${NAME}`` from the
process environment, so a line like ``GREETING=hello-${CI_DEPLOY_TOKEN}`` (even single-quoted)
would put the CI's secret into a deployed value; and it copies the whole environment and every
value read so far for every line, so its time grows with the square of the file's length (40,000
lines: minutes). Here:

* ``${NAME}`` and ``${NAME:-default}`` (python-dotenv's syntax, parsed by its own
  :func:`dotenv.variables.parse_variables`) expand to the value of a key defined **earlier in the
  same file** — the same answer python-dotenv gives with an empty environment;
* the environment is consulted only when the caller passes one (``expand_environment=true``), and
  the file's own keys still win over it, as in python-dotenv;
* a single-quoted value is never expanded (``'${NAME}'`` stays as written), as docker compose
  reads such a file;
* a NUL character in a key or value makes the file unreadable, named by key and line: no program
  can receive such a value intact.

Each line is expanded once against the values read so far, without copying them.
"""

from __future__ import annotations

import io
import re
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from dotenv.main import with_warn_for_invalid_lines
from dotenv.parser import Binding, parse_stream
from dotenv.variables import parse_variables

_SINGLE_QUOTED = re.compile(r"\s*(?:export[^\S\r\n]+)?(?:'[^']+'|[^=\#\s]+)[^\S\r\n]*=[^\S\r\n]*'")
"""A binding whose value python-dotenv read between single quotes (its own key and ``=`` grammar)."""
_NEWLINE = re.compile(r"\r\n|\n|\r")


class UnreadableDotenvFile(ValueError):
    """The .env file exists but cannot be read as UTF-8 text; ``default`` does not hide it."""


def is_single_quoted(binding: Binding) -> bool:
    """Whether ``binding``'s value was written between single quotes (``KEY='…'``)."""
    return binding.value is not None and _SINGLE_QUOTED.match(binding.original.string) is not None


def binding_line(binding: Binding) -> int:
    """The line ``binding``'s key is on (python-dotenv's own line counts the blank lines before it)."""
    text = binding.original.string
    leading = text[: len(text) - len(text.lstrip())]
    return binding.original.line + len(_NEWLINE.findall(leading))


def expand_bindings(bindings: Iterable[Binding], environment: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Every key of ``bindings`` with its value, ``${…}`` expanded from earlier keys (then ``environment``, if given)."""
    values: dict[str, str | None] = {}
    scope: Mapping[str, str | None] = values if environment is None else ChainMap(values, environment)  # type: ignore[arg-type]
    for binding in bindings:
        if binding.key is None:
            continue
        value = binding.value
        if value is not None and "${" in value and not is_single_quoted(binding):
            value = "".join(atom.resolve(scope) for atom in parse_variables(value))
        values[binding.key] = value
    return values


def checked_bindings(bindings: Iterable[Binding], source: str) -> Iterator[Binding]:
    """``bindings`` as they come, refusing (by key and line) one that holds a NUL character."""
    for binding in bindings:
        if "\x00" in (binding.key or "") or "\x00" in (binding.value or ""):
            what = f"the value of {binding.key!r}" if binding.key and "\x00" not in binding.key else "a key"
            raise UnreadableDotenvFile(f"dotenv: {source}: {what} holds a NUL character (line {binding_line(binding)})")
        yield binding


def parse_dotenv_text(text: str, environment: Mapping[str, str | None] | None = None, *, source: str = "<text>") -> dict[str, str | None]:
    """The variables of .env ``text`` (line ends read as Python's text mode does; see the module docstring). Pure."""
    stream = io.StringIO(text, newline=None)
    return expand_bindings(checked_bindings(with_warn_for_invalid_lines(parse_stream(stream)), source), environment)


def read_dotenv(path: Path, key: str = "", environment: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """All variables of a .env file (UTF-8); errors name the file and ``key``."""
    for_key = f" (looking up {key!r})" if key else ""
    if path.is_dir():
        raise UnreadableDotenvFile(f"dotenv: {path} is a folder, not a .env file{for_key}")
    if not path.is_file():
        raise ValueError(f"dotenv: file {path} not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableDotenvFile(
            f"dotenv: file {path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}){for_key}"
        ) from None
    except OSError as error:
        raise UnreadableDotenvFile(f"dotenv: cannot read {path}: {error.strerror or type(error).__name__}{for_key}") from None
    return parse_dotenv_text(text, environment, source=str(path))
