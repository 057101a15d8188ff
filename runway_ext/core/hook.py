"""One args model, two faces: the CFNgin hook and the command line, built from the same model.

A hook is written once, as a function of its validated args and a :class:`HookContext`::

    class GreetArgs(HookArgs):
        name: str
        \"\"\"Who to greet.\"\"\"

    @hook("greet", GreetArgs, summary="Say hello.")
    def greet(args: GreetArgs, ctx: HookContext) -> dict:
        ctx.log.info("hello %s", args.name)
        return {"greeted": args.name}

``greet`` is then both the CFNgin entry point (``path: my_module.greet`` in config.yml) and a
command line (``greet.main()``, ``--name Bob``). Results are stored in Runway's hook_data under
``runway_ext.<name>``; failures are one logged line and a falsy result (CFNgin) or exit code 1 (CLI).

Input no hook can use is refused by :meth:`Hook.parse` before the body runs, naming the field: text
that is not valid Unicode (a lone surrogate; in a path field only Python's escapes of non-UTF-8 file
name bytes are kept; a path holding NUL), integers longer than Python converts to text, non-finite numbers, and values
nested more than :data:`MAX_NESTING` levels deep. A file the body cannot read or write (read-only
folder, missing parent) is one line naming that file — the file asked for, never a temporary file
beside it. Ctrl-C in the CLI is one line and exit code 130. ``unexpected`` is kept for real bugs.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from runway_ext.core import journal
from runway_ext.core.args import HookArgs, describe_validation_error
from runway_ext.core.aws import make_client, make_session
from runway_ext.core.cli import (
    OneLineErrorParser,
    add_common_flags,
    add_model_arguments,
    cli_flag_lines,
    configure_cli_logging,
    field_kind,
    namespace_to_kwargs,
    print_result,
    run_interruptible,
    unwrap_annotation,
)
from runway_ext.core.errors import HookError
from runway_ext.core.log import adopt_runway_logging, get_logger

if TYPE_CHECKING:
    import argparse

    import boto3
    from runway.context import CfnginContext

ArgsT = TypeVar("ArgsT", bound=HookArgs)
DEFAULT_REGION = "us-east-1"
"""The region used when neither the args, the deploy nor the environment names one."""
HOOK_DATA_NAMESPACE = "runway_ext"
"""hook_data key under which every runway_ext hook stores its result, by hook name."""
MAX_NESTING = 64
"""Deepest nesting of lists and mappings an argument may have."""
RESERVED_ARGUMENT_NAMES = frozenset({"context", "provider"})
"""Names no args model may use: Runway calls every hook as ``hook(context=…, provider=…, **args)``."""
_MAX_INT_BITS = int(sys.get_int_max_str_digits() * math.log2(10)) if sys.get_int_max_str_digits() else 0
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LONE_SURROGATE_NOT_ESCAPE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
"""Surrogates other than ``\udc80``-``\udcff``, which are Python's escapes of non-UTF-8 file name bytes."""
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Characters that would break an error line apart or hide part of it."""
_TEMPORARY_FILE = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]+\.tmp$")


@dataclass
class HookContext:
    """What a hook's body gets besides its args: logging, AWS access and where it runs."""

    name: str
    log: logging.Logger
    cfngin: CfnginContext | None = None
    provider: Any = None
    _sessions: dict[str | None, boto3.Session] = field(default_factory=dict, repr=False)

    @property
    def in_runway(self) -> bool:
        """Whether the hook runs inside a Runway/CFNgin deploy (not from the CLI)."""
        return self.cfngin is not None

    def session(self, region: str | None = None) -> boto3.Session:
        """The boto3 session for ``region`` (Runway's own session inside a deploy); one per region."""
        if region not in self._sessions:
            self._sessions[region] = make_session(self.cfngin, region)
        return self._sessions[region]

    def region(self, explicit: str | None = None) -> str:
        """The AWS region a hook works in: ``explicit`` when given, else the deploy's region inside Runway,
        else the CLI environment's (``AWS_REGION``/``AWS_DEFAULT_REGION``/the profile's), else ``us-east-1``."""
        if explicit:
            return explicit
        if self.cfngin is not None:
            region = getattr(getattr(self.cfngin, "env", None), "aws_region", None)
            if region:
                return str(region)
        return self.session().region_name or DEFAULT_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client with bounded standard retries."""
        return make_client(self.session(region), service, region)

    def hook_data(self) -> Mapping[str, Any]:
        """Runway's hook_data of this run (empty from the CLI)."""
        return self.cfngin.hook_data if self.cfngin is not None else {}


Body = Callable[[ArgsT, HookContext], Any]


class Hook(Generic[ArgsT]):
    """A hook body bound to its args model; callable by CFNgin, runnable as a CLI."""

    def __init__(
        self,
        name: str,
        args_model: type[ArgsT],
        body: Body[ArgsT],
        *,
        summary: str = "",
        positional: Sequence[str] = (),
        render: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        """Bind ``body`` to ``args_model`` under ``name`` (the hook_data key and CLI command name).

        An args model with a field named ``context`` or ``provider`` is refused (``TypeError``): Runway passes
        those itself, so such an argument in config.yml would fail in Runway before the hook ran.
        """
        clashing = sorted(RESERVED_ARGUMENT_NAMES & set(args_model.model_fields))
        if clashing:
            raise TypeError(
                f"{name}: {args_model.__name__} may not have a field named {' or '.join(clashing)} (Runway passes it to every hook)"
            )
        self.name = name
        self.args_model = args_model
        self.body = body
        self.summary = summary or _first_line(body.__doc__)
        self.positional = tuple(positional)
        self.render = render
        self.log = get_logger(f"runway_ext.hooks.{name}")
        self.__doc__ = body.__doc__
        self.__name__ = getattr(body, "__name__", name)
        self.__module__ = public_module(getattr(body, "__module__", __name__))

    # -- the CFNgin face -------------------------------------------------------------------------
    def __call__(self, context: CfnginContext | None = None, provider: Any = None, **kwargs: Any) -> Any:
        """Run as Runway calls a hook: truthy result dict on success, ``False`` after one logged error."""
        if context is not None:
            adopt_runway_logging()
        try:
            args = self.parse(kwargs)
            result = self.execute(args, HookContext(self.name, self.log, cfngin=context, provider=provider))
        except HookError as error:
            for line in _error_lines(error):
                self.log.error("%s: %s", self.name, line)
            journal.record(self.name, error=one_line_cause(error))
            return False
        except OSError as error:
            line = describe_os_error(error)
            self.log.error("%s: %s", self.name, line)
            journal.record(self.name, error=line)
            return False
        except Exception as error:
            self.log.error("%s: unexpected %s: %s", self.name, type(error).__name__, error)
            self.log.debug("traceback", exc_info=True)
            journal.record(self.name, error=f"unexpected {type(error).__name__}: {error}")
            return False
        if context is not None:
            context.hook_data.setdefault(HOOK_DATA_NAMESPACE, {})[self.name] = result
        journal.record(self.name, result=result)
        return result

    # -- shared by both faces --------------------------------------------------------------------
    def parse(self, kwargs: Mapping[str, Any]) -> ArgsT:
        """Validate raw arguments; a bad one becomes a :class:`HookError` of ``field: problem`` lines."""
        problems = unusable_input_problems(self.args_model, kwargs)
        if problems:
            raise HookError("\n".join(problems))
        try:
            return self.args_model.model_validate(dict(kwargs))
        except pydantic.ValidationError as error:
            raise HookError("\n".join(describe_validation_error(error, self.args_model))) from None

    def execute(self, args: ArgsT, ctx: HookContext) -> dict[str, Any]:
        """Run the body with ``args`` and return its result as a JSON-ready dict."""
        previous_level = self.log.level
        if args.verbose and self.log.getEffectiveLevel() > logging.DEBUG:
            self.log.setLevel(logging.DEBUG)
        try:
            result = self.body(args, ctx)
        finally:
            self.log.setLevel(previous_level)
        return to_result_dict(result)

    # -- the CLI face ----------------------------------------------------------------------------
    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """Add this hook's flags (one per args field) to ``parser``."""
        parser.description = self.summary
        add_model_arguments(parser, self.args_model, positional=self.positional)
        parser.set_defaults(_command=self)

    def run_cli(self, namespace: argparse.Namespace) -> int:
        """Run from parsed command-line flags; print the result; return the exit code (130 after Ctrl-C)."""
        return run_interruptible(lambda: self._run_cli(namespace))

    def _run_cli(self, namespace: argparse.Namespace) -> int:
        try:
            try:
                args = self.parse(namespace_to_kwargs(namespace, self.args_model))
            except HookError as error:  # named as typed on the command line: --bucket-name, not bucket_name
                raise HookError("\n".join(cli_flag_lines(_error_lines(error), self.args_model, self.positional))) from None
            configure_cli_logging(verbose=args.verbose)
            result = self.execute(args, HookContext(self.name, self.log))
        except HookError as error:
            for line in _error_lines(error):
                self.log.error("%s", line)
            return 1
        except OSError as error:
            self.log.error("%s", describe_os_error(error))
            if getattr(namespace, "_debug", False):
                raise
            return 1
        except Exception as error:
            self.log.error("unexpected %s: %s", type(error).__name__, error)
            if getattr(namespace, "_debug", False):
                raise
            return 1
        print_result(result, as_json=getattr(namespace, "_json", False), render=self.render)
        return 0

    def main(self, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
        """Parse ``argv`` (default ``sys.argv[1:]``) and run; used by ``python -m``."""
        parser = build_parser(prog or _default_prog(self.__module__), self)
        namespace = parser.parse_args(argv)
        configure_cli_logging(verbose=False)
        return int(namespace._command.run_cli(namespace))


class HookGroup:
    """Several hooks under one command, as sub-commands (``start``/``stop``/``status``)."""

    def __init__(self, name: str, hooks: Mapping[str, Hook[Any]], *, summary: str = "") -> None:
        """Group ``hooks`` (sub-command name -> hook) under the command ``name``."""
        self.name = name
        self.hooks = dict(hooks)
        self.summary = summary

    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """Add one sub-parser per hook."""
        parser.description = self.summary
        subparsers = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
        for action, member in self.hooks.items():
            sub = subparsers.add_parser(action, help=member.summary, description=member.summary)
            add_common_flags(sub)
            member.configure_parser(sub)

    def main(self, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
        """Parse ``argv`` and run the chosen action; used by ``python -m``."""
        module = next(iter(self.hooks.values())).__module__
        parser = build_parser(prog or _default_prog(module), self)
        namespace = parser.parse_args(argv)
        configure_cli_logging(verbose=False)
        return int(namespace._command.run_cli(namespace))


def build_parser(prog: str, command: Hook[Any] | HookGroup) -> argparse.ArgumentParser:
    """A parser for one command (a hook, with the common flags; or a group of hooks, whose actions have them)."""
    parser = OneLineErrorParser(prog=prog)
    if isinstance(command, Hook):
        add_common_flags(parser)
    command.configure_parser(parser)
    return parser


def hook(
    name: str,
    args_model: type[ArgsT],
    *,
    summary: str = "",
    positional: Sequence[str] = (),
    render: Callable[[dict[str, Any]], str] | None = None,
) -> Callable[[Body[ArgsT]], Hook[ArgsT]]:
    """Decorate a ``body(args, ctx)`` function into a :class:`Hook` (CFNgin entry point + CLI)."""

    def decorate(body: Body[ArgsT]) -> Hook[ArgsT]:
        return Hook(name, args_model, body, summary=summary, positional=positional, render=render)

    return decorate


def public_module(module: str) -> str:
    """Where users address a hook: a body written in ``<package>/hook.py`` is ``<package>.<entry>``.

    A hook package re-exports its entry points from ``__init__.py``, so its config.yml ``path:``, its docs and
    its ``python -m`` command name the package, not the file the body happens to live in.
    """
    package, _, leaf = module.rpartition(".")
    return package if leaf == "hook" and package else module


def to_result_dict(result: Any) -> dict[str, Any]:
    """Normalise a body's return value to a non-empty, JSON-ready dict (Runway treats ``{}`` as failure)."""
    if isinstance(result, pydantic.BaseModel):
        data = result.model_dump(mode="json")
    elif isinstance(result, Mapping):
        data = pydantic.TypeAdapter(dict[str, Any]).dump_python(dict(result), mode="json")
    elif result is None or result is True:
        data = {}
    else:
        raise TypeError(f"a hook body must return a pydantic model, a mapping or None, not {type(result).__name__}")
    data.setdefault("ok", True)
    return data


def run_module(command: Hook[Any] | HookGroup) -> None:
    """Entry point for ``python -m runway_ext.hooks.<name>`` (Ctrl-C while parsing is one line and exit code 130 too)."""
    sys.exit(run_interruptible(command.main))


def unusable_input_problems(model: type[HookArgs], kwargs: Mapping[str, Any]) -> list[str]:
    """One ``field: problem`` line per value no hook can use, whatever its type says (see the module docstring).

    Checked before the model, so that pydantic, a validator or a message never meets such a value.
    """
    problems: list[str] = []
    for name, value in kwargs.items():
        if isinstance(name, str) and name not in model.model_fields and (_LONE_SURROGATE.search(name) or _CONTROL.search(name)):
            problems.append(f"{shown_name(name)}: unknown argument")
            continue
        path_field = isinstance(name, str) and name in _path_fields(model)
        problem = _unusable(value, str(name) if isinstance(name, str) else "arguments", path_field=path_field, depth=0)
        if problem:
            problems.append(problem)
    return problems


def shown_name(name: str) -> str:
    """A name as an error line shows it: lone surrogates and control characters escaped (``\\ud800``, ``\\n``)."""
    if _CONTROL.search(name):
        return ascii(name)[1:-1]
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


@functools.lru_cache(maxsize=512)
def _path_fields(model: type[HookArgs]) -> frozenset[str]:
    """The fields of ``model`` that hold one file system path (worked out once per model)."""
    return frozenset(name for name, info in model.model_fields.items() if _is_path_field(info))


def _is_path_field(info: Any) -> bool:
    from pathlib import PurePath

    annotation = unwrap_annotation(info.annotation)
    return field_kind(info) == "scalar" and isinstance(annotation, type) and issubclass(annotation, PurePath)


def _unusable(value: Any, where: str, *, path_field: bool, depth: int) -> str | None:
    """The first problem found in ``value`` (walked iteratively deep-first, bounded), or ``None``."""
    stack: list[tuple[Any, str, int]] = [(value, where, depth)]
    while stack:
        item, location, level = stack.pop()
        if isinstance(item, str):
            pattern = _LONE_SURROGATE_NOT_ESCAPE if path_field else _LONE_SURROGATE
            found = pattern.search(item)
            if found:
                return f"{location}: text is not valid Unicode (lone surrogate {found.group()!a} at position {found.start()})"
            if path_field and "\x00" in item:
                return f"{location}: a path cannot contain a NUL character (at position {item.index(chr(0))})"
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if _MAX_INT_BITS and item.bit_length() > _MAX_INT_BITS:
                return f"{location}: a number of more than {sys.get_int_max_str_digits()} digits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{location}: {item!r} is not a usable number"
        elif isinstance(item, Mapping) or isinstance(item, (list, tuple, set, frozenset)):
            if level >= MAX_NESTING:
                return f"{location}: nested more than {MAX_NESTING} levels deep"
            if isinstance(item, Mapping):
                for key, member in item.items():
                    if isinstance(key, str) and _LONE_SURROGATE.search(key):
                        return f"{location}: key {ascii(key)} is not valid Unicode (lone surrogate)"
                    if isinstance(key, str) and _CONTROL.search(key):
                        return f"{location}: key {ascii(key)} holds a control character (a line break, a tab, NUL, ...)"
                    stack.append((member, f"{location}.{key}", level + 1))
            else:
                for index, member in enumerate(item):
                    stack.append((member, f"{location}.{index}", level + 1))
    return None


def describe_os_error(error: OSError) -> str:
    """One line for a file the hook could not read or write: the file asked for and why.

    A temporary file written beside a file (``.NAME.random.tmp``, as :func:`~runway_ext.core.files.atomic_write`
    makes) is reported as the file it stands for.
    """
    reason = error.strerror or type(error).__name__
    filename = error.filename
    if filename is None:
        return f"{reason}"
    from pathlib import Path

    path = Path(str(filename))
    temporary = _TEMPORARY_FILE.match(path.name)
    if temporary:
        path = path.with_name(temporary.group("name"))
    shown = str(path).encode("utf-8", "backslashreplace").decode("utf-8")
    return f"cannot write {shown}: {reason}" if temporary else f"{shown}: {reason}"


def one_line_cause(error: HookError) -> str:
    """An error as one line: its first line, and when that only leads into a program's last output
    (``…; last output:``), the output line that says what went wrong (the last one naming an error, else the last)."""
    lines = _error_lines(error)
    first = lines[0]
    if not first.endswith("last output:"):
        return first
    tail = [line.strip() for line in lines[1:] if line.strip()]
    if not tail:
        return first.removesuffix("; last output:").removesuffix(" last output:")
    telling = [line for line in tail if re.search(r"error|failed|exception|denied|not found|invalid", line, re.IGNORECASE)]
    return f"{first.removesuffix('; last output:').removesuffix(' last output:')}: {(telling or tail)[-1]}"


def _error_lines(error: HookError) -> list[str]:
    """An error's lines: one per bad field, or a summary followed by a program's last output."""
    return str(error).splitlines() or [type(error).__name__]


def _default_prog(module: str) -> str:
    """How the command was started: ``python -m package.module``, or ``python path/to/file.py`` for a script."""
    if module == "__main__" and getattr(sys.modules["__main__"], "__spec__", None) is None and sys.argv and sys.argv[0]:
        return f"python {sys.argv[0]}"
    return f"python -m {_module_name(module)}"


def _module_name(module: str) -> str:
    """The importable name of ``module`` (``__main__`` under ``python -m`` becomes the real name)."""
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        if spec is not None:
            return spec.name
    return module


def _first_line(text: str | None) -> str:
    """The first non-empty line of a docstring."""
    lines = [line.strip() for line in (text or "").strip().splitlines()]
    return lines[0] if lines else ""
