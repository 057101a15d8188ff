"""Command-line flags derived from an args model, so config.yml keys and CLI flags cannot drift.

Each field ``some_name`` becomes ``--some-name`` (or a positional argument): booleans get
``--flag/--no-flag`` (a field named ``no_cache`` gets ``--no-cache/--cache``); lists of plain values take several values (``--paths /a /b``);
dicts of plain values take ``KEY=VALUE`` pairs (``--variables A=1 B=2``) and, as
``--json-<name>``, a JSON object; anything richer takes JSON. Values are passed to the model
unconverted, so the model's validation (and its messages) is the same for both faces.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .errors import HookError

_SCALARS = (str, int, float, Path)
_JSON_PREFIX = "json_"
_NEGATIVE_PREFIX = "no_"


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` wrappers from a type annotation."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [member for member in get_args(annotation) if member is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_scalar(annotation: Any) -> bool:
    """Whether a value of this type is typed on a command line as one plain word."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member not in (bool, type(None))]
        return bool(members) and all(_is_scalar(member) for member in members)
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS) and annotation is not bool


def field_kind(info: FieldInfo) -> str:
    """How a field is typed on the command line: bool, scalar, list, dict or json."""
    annotation = _unwrap(info.annotation)
    origin = get_origin(annotation)
    if annotation is bool:
        return "bool"
    if origin in (list, tuple, set, frozenset) and all(_is_scalar(arg) for arg in get_args(annotation) if arg is not Ellipsis):
        return "list"
    if origin is dict and len(get_args(annotation)) == 2 and _is_scalar(get_args(annotation)[1]):
        return "dict"
    if _is_scalar(annotation):
        return "scalar"
    return "json"


def _help(info: FieldInfo) -> str:
    """CLI help for a field: its docstring, plus its default."""
    text = (info.description or "").replace("%", "%%")
    default = info.get_default(call_default_factory=True) if not info.is_required() else None
    if default not in (None, "", [], {}, ()):
        text += f" (default: {json.dumps(default, default=str) if not isinstance(default, (str, Path)) else default})".replace("%", "%%")
    return text


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def cli_aliases(info: FieldInfo) -> list[str]:
    """Extra flag names of a field, declared as ``Field(json_schema_extra={"cli_aliases": ["template"]})``."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return [_flag(str(alias)) for alias in extra.get("cli_aliases", [])]  # type: ignore[union-attr]


def add_model_arguments(parser: argparse.ArgumentParser, model: type[BaseModel], *, positional: Sequence[str] = ()) -> None:
    """Add one CLI argument per field of ``model`` (absent flags leave the model's default)."""
    for name, info in model.model_fields.items():
        kind = field_kind(info)
        help_text = _help(info)
        aliases = cli_aliases(info)
        choices = get_args(_unwrap(info.annotation)) if get_origin(_unwrap(info.annotation)) is Literal else None
        if name in positional:
            nargs: Any = None if info.is_required() else "?"
            if kind == "list":
                nargs = "+" if info.is_required() else "*"
            parser.add_argument(name, metavar=name.upper(), nargs=nargs, help=help_text, default=argparse.SUPPRESS)
            continue
        if kind == "bool" and name.startswith(_NEGATIVE_PREFIX):
            # ``no_cache`` is ``--no-cache`` (true) and ``--cache`` (false), never ``--no-no-cache``.
            parser.add_argument(
                _flag(name), *aliases, dest=name, action="store_const", const=True, default=argparse.SUPPRESS, help=help_text
            )
            parser.add_argument(
                _flag(name[len(_NEGATIVE_PREFIX) :]),
                dest=name,
                action="store_const",
                const=False,
                default=argparse.SUPPRESS,
                help=argparse.SUPPRESS,
            )
        elif kind == "bool":
            parser.add_argument(
                _flag(name), *aliases, dest=name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text
            )
        elif kind == "list":
            parser.add_argument(_flag(name), *aliases, dest=name, nargs="*", metavar="VALUE", default=argparse.SUPPRESS, help=help_text)
        elif kind == "dict":
            parser.add_argument(_flag(name), *aliases, dest=name, nargs="+", metavar="KEY=VALUE", default=argparse.SUPPRESS, help=help_text)
            parser.add_argument(
                _flag(_JSON_PREFIX + name),
                dest=_JSON_PREFIX + name,
                metavar="JSON",
                default=argparse.SUPPRESS,
                help=f"{name} as a JSON object (KEY=VALUE pairs given too take precedence)",
            )
        elif kind == "json":
            parser.add_argument(_flag(name), *aliases, dest=name, metavar="JSON", default=argparse.SUPPRESS, help=help_text + " (JSON)")
        else:
            parser.add_argument(
                _flag(name),
                *aliases,
                dest=name,
                metavar=name.upper(),
                default=argparse.SUPPRESS,
                choices=choices or None,
                help=help_text,
            )


def namespace_to_kwargs(namespace: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """Collect the flags that were given into model kwargs; malformed pairs or JSON raise ``HookError``."""
    given = vars(namespace)
    kwargs: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = field_kind(info)
        if kind == "dict":
            merged: dict[str, Any] = {}
            if _JSON_PREFIX + name in given:
                merged.update(_load_json(name, given[_JSON_PREFIX + name], expect=dict))
            for pair in given.get(name, []):
                key, sep, value = pair.partition("=")
                if not sep or not key:
                    raise HookError(f"{name}: expected KEY=VALUE, got {pair!r}")
                merged[key] = value
            if _JSON_PREFIX + name in given or name in given:
                kwargs[name] = merged
        elif name in given:
            kwargs[name] = _load_json(name, given[name], expect=None) if kind == "json" else given[name]
    return kwargs


def _load_json(name: str, text: str, *, expect: type | None) -> Any:
    """Parse a JSON flag value, failing with the field's name."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise HookError(f"{name}: invalid JSON ({error.msg} at position {error.pos})") from None
    if expect is not None and not isinstance(value, expect):
        raise HookError(f"{name}: expected a JSON object")
    return value


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """Flags every command has: ``--json`` output and ``--debug`` tracebacks."""
    parser.add_argument("--json", dest="_json", action="store_true", help="print the result as JSON")
    parser.add_argument("--debug", dest="_debug", action="store_true", help="show a traceback on unexpected errors")


def build_parser(prog: str, command: Any) -> argparse.ArgumentParser:
    """A parser for one command (a hook, or a group of hooks)."""
    from .hook import Hook

    parser = argparse.ArgumentParser(prog=prog)
    if isinstance(command, Hook):
        add_common_flags(parser)
    command.configure_parser(parser)
    return parser


class _StderrHandler(logging.StreamHandler):
    """A stream handler that always writes to the current ``sys.stderr`` (which may be replaced)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _CliFormatter(logging.Formatter):
    """Plain messages for info, ``level: message`` for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno == logging.INFO:
            return message
        return f"{record.levelname.lower()}: {message}"


_CLI_HANDLER_NAME = "runway_ext.cli"


def configure_cli_logging(*, verbose: bool) -> None:
    """Send ``runway_ext`` logs to stderr (debug when verbose); idempotent.

    Records still propagate (a command line has no root handlers, so nothing is printed twice; a test's
    ``caplog`` keeps seeing them after a CLI ran in the same process).
    """
    logger = logging.getLogger("runway_ext")
    handler = next((h for h in logger.handlers if h.get_name() == _CLI_HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_CLI_HANDLER_NAME)
        handler.setFormatter(_CliFormatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def print_result(result: dict[str, Any], *, as_json: bool, render: Callable[[dict[str, Any]], str] | None) -> None:
    """Print a hook's result to stdout: JSON, the hook's own rendering, or ``key: value`` lines."""
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True))
    elif render is not None:
        print(render(result))
    else:
        for key, value in result.items():
            shown = json.dumps(value) if isinstance(value, (dict, list)) else value
            print(f"{key}: {shown}")
