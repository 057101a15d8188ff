"""Command-line flags derived from an args model, so config.yml keys and CLI flags cannot drift.

Each field ``some_name`` becomes ``--some-name`` (or a positional argument): booleans get
``--flag/--no-flag`` (a field named ``no_cache`` gets ``--no-cache/--cache``); lists of plain values take several values (``--paths /a /b``);
dicts of plain values take ``KEY=VALUE`` pairs (``--variables A=1 B=2``) and, as
``--json-<name>``, a JSON object; anything richer takes JSON. Values are passed to the model
unconverted, so the model's validation (and its messages) is the same for both faces: a choice
(``Literal``) and a required positional are checked by the model too, not by argparse.

Bad input never echoes a value it cannot parse (it may be a secret typed in the wrong place): a
malformed ``KEY=VALUE`` pair is named by its key or its position. A usage error argparse itself
finds (an unknown flag) is one ``error: …`` line and exit code 2; Ctrl-C is one line and exit code
130 (:func:`run_interruptible`).
"""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import logging
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from runway_ext.core.errors import HookError

_SCALARS = (str, int, float, Path)
_JSON_PREFIX = "json_"
_NEGATIVE_PREFIX = "no_"
INTERRUPTED_EXIT_CODE = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""
USAGE_EXIT_CODE = 2
"""Exit code of a usage error found by argparse (an unknown flag, a flag missing its value)."""


def unwrap_annotation(annotation: Any) -> Any:
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
    annotation = unwrap_annotation(annotation)
    if get_origin(annotation) is Literal:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member not in (bool, type(None))]
        return bool(members) and all(_is_scalar(member) for member in members)
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS) and annotation is not bool


def field_kind(info: FieldInfo) -> str:
    """How a field is typed on the command line: bool, scalar, list, dict or json."""
    annotation = unwrap_annotation(info.annotation)
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


@functools.lru_cache(maxsize=512)
def model_field_kinds(model: type[BaseModel]) -> Mapping[str, str]:
    """:func:`field_kind` of every field of ``model``, worked out once per model (a model's fields never change)."""
    return types.MappingProxyType({name: field_kind(info) for name, info in model.model_fields.items()})


def _help(info: FieldInfo) -> str:
    """CLI help for a field: its docstring, plus its default."""
    text = (info.description or "").replace("``", "`").replace("%", "%%")
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
        choices = get_args(unwrap_annotation(info.annotation)) if get_origin(unwrap_annotation(info.annotation)) is Literal else None
        if name in positional:
            # optional for argparse: a missing one is the model's "field required", as in config.yml
            nargs: Any = "*" if kind == "list" else "?"
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
            # choices are the model's to check (same message as config.yml); the help shows them
            metavar = "{" + ",".join(str(choice) for choice in choices) + "}" if choices else name.upper()
            parser.add_argument(_flag(name), *aliases, dest=name, metavar=metavar, default=argparse.SUPPRESS, help=help_text)

    required = {name for name, info in model.model_fields.items() if info.is_required()}
    shown: list[argparse.Action] = getattr(parser, SHOWN_REQUIRED, [])
    for action in parser._actions:
        if action.dest in required and action.help is not argparse.SUPPRESS and action not in shown:
            shown.append(action)
    setattr(parser, SHOWN_REQUIRED, shown)


SHOWN_REQUIRED = "_runway_ext_shown_required"
"""Parser attribute listing the actions of required fields: argparse leaves them optional (the model checks them,
with the same message as config.yml) but usage and help show them as required."""


@contextmanager
def _as_required(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Within the block, the required fields' actions look required to argparse's formatter."""
    saved = []
    for action in getattr(parser, SHOWN_REQUIRED, []):
        saved.append((action, action.required, action.nargs))
        if action.option_strings:
            action.required = True
        else:
            action.nargs = "+" if action.nargs == "*" else None
    try:
        yield
    finally:
        for action, required, nargs in saved:
            action.required, action.nargs = required, nargs


def cli_flag_lines(lines: Sequence[str], model: type[BaseModel], positional: Sequence[str] = ()) -> list[str]:
    """Validation lines as the CLI shows them: a field named by its flag (``--bucket-name``) or its metavar."""
    fields = model.model_fields
    shown = []
    for line in lines:
        name, sep, rest = line.partition(":")
        head, dot, tail = name.partition(".")
        if sep and head in fields:
            flag = head.upper() if head in positional else _flag(head)
            shown.append(f"{flag}{dot}{tail}:{rest}")
        else:
            shown.append(line)
    return shown


def namespace_to_kwargs(namespace: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """Collect the flags that were given into model kwargs; malformed pairs or JSON raise ``HookError``."""
    given = vars(namespace)
    kwargs: dict[str, Any] = {}
    for name, kind in model_field_kinds(model).items():
        if kind == "dict":
            merged: dict[str, Any] = {}
            if _JSON_PREFIX + name in given:
                merged.update(_load_json(name, given[_JSON_PREFIX + name], expect=dict))
            for position, pair in enumerate(given.get(name, []), start=1):
                key, sep, value = pair.partition("=")
                if not sep:  # the text may be a secret typed with the wrong separator: never echo it
                    raise HookError(f"{name}: item {position} of {_flag(name)} has no '=' (expected KEY=VALUE)")
                if not key:
                    raise HookError(f"{name}: item {position} of {_flag(name)} has an empty KEY (expected KEY=VALUE)")
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
    except ValueError:  # an integer literal longer than Python converts
        raise HookError(f"{name}: invalid JSON (a number of more than {sys.get_int_max_str_digits()} digits)") from None
    except RecursionError:
        raise HookError(f"{name}: invalid JSON (nested too deeply)") from None
    if expect is not None and not isinstance(value, expect):
        raise HookError(f"{name}: expected a JSON object")
    return value


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """Flags every command has: ``--json`` output and ``--debug`` tracebacks."""
    parser.add_argument("--json", dest="_json", action="store_true", help="print the result as JSON")
    parser.add_argument("--debug", dest="_debug", action="store_true", help="show a traceback on unexpected errors")


def _with_suggestion(flag: str, known: Sequence[str]) -> str:
    """``--bucket (did you mean --bucket-name?)`` when a known flag is close, else the flag."""
    close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
    if not close:
        close = [option for option in known if option.startswith(flag) and option != flag][:1]
    return f"{flag} (did you mean {close[0]}?)" if close else flag


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error: …`` line (exit code 2), not usage text plus an error.

    Flags are never abbreviated (``--output-fil`` is an unknown flag, not ``--output-file``): a typo is caught.
    """

    _completed: list[argparse.ArgumentParser] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An ``argparse.ArgumentParser`` without flag abbreviations."""
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        """Parse like argparse; unknown arguments are named by their flags only, never their values (one may be a secret),
        each with the closest known flag of its command when one is close (``did you mean --bucket-name?``)."""
        OneLineErrorParser._completed = []
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            flags = [extra.split("=", 1)[0] for extra in extras if extra.startswith("-") and len(extra) > 1]
            values = len(extras) - len(flags)
            named = ", ".join(_with_suggestion(flag, self._known_flags()) for flag in flags) if flags else ""
            counted = f"{values} unexpected value{'s' if values != 1 else ''}" if values else ""
            deepest = self._completed[0] if self._completed else self  # the sub-command typed: its --help lists its flags
            deepest.error("unrecognized arguments: " + " and ".join(part for part in (named, counted) if part))
        return parsed

    def _known_flags(self) -> list[str]:
        """Every flag of the parser that ran: this one, or the sub-command chosen (the deepest one parsed)."""
        parser = self._completed[0] if self._completed else self
        return [option for action in parser._actions for option in action.option_strings if option.startswith("--")]

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> tuple[Any, list[str]]:  # type: ignore[override]
        """Parse like argparse, noting which parsers finished (a sub-command's parser finishes before its parent's)."""
        parsed = super().parse_known_args(args, namespace)
        OneLineErrorParser._completed.append(self)
        return parsed

    def format_usage(self) -> str:
        """Usage, with required fields shown as required."""
        with _as_required(self):
            return super().format_usage()

    def format_help(self) -> str:
        """Help, with required fields shown as required."""
        with _as_required(self):
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        """Print one line naming the flag and what was wrong; exit with :data:`USAGE_EXIT_CODE`."""
        self.exit(USAGE_EXIT_CODE, f"error: {message} (see {self.prog} --help)\n")


def run_interruptible(run: Callable[[], int]) -> int:
    """Run a command; Ctrl-C becomes one ``error: interrupted`` line and exit code 130, never a traceback."""
    try:
        return run()
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C); stopped", file=sys.stderr, flush=True)
        return INTERRUPTED_EXIT_CODE


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
        text = json.dumps(result, indent=2, sort_keys=True)
    elif render is not None:
        text = render(result)
    else:
        lines = []
        for key, value in result.items():
            shown = json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else value
            lines.append(f"{key}: {shown}")
        text = "\n".join(lines)
    # a file name that is not UTF-8 (kept by Python as surrogate escapes) is shown escaped, not a crash
    print(text.encode("utf-8", "backslashreplace").decode("utf-8"))
