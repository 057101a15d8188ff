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
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from . import journal
from .args import HookArgs, describe_validation_error
from .aws import make_client, make_session
from .cli import add_model_arguments, configure_cli_logging, namespace_to_kwargs, print_result
from .errors import HookError
from .log import adopt_runway_logging, get_logger

if TYPE_CHECKING:
    import argparse

    import boto3
    from runway.context import CfnginContext

ArgsT = TypeVar("ArgsT", bound=HookArgs)
DEFAULT_REGION = "us-east-1"
"""The region used when neither the args, the deploy nor the environment names one."""
HOOK_DATA_NAMESPACE = "runway_ext"
"""hook_data key under which every runway_ext hook stores its result, by hook name."""


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
        """Bind ``body`` to ``args_model`` under ``name`` (the hook_data key and CLI command name)."""
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
            journal.record(self.name, error=_error_lines(error)[0])
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
        try:
            return self.args_model.model_validate(dict(kwargs))
        except pydantic.ValidationError as error:
            raise HookError("\n".join(describe_validation_error(error))) from None

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
        """Run from parsed command-line flags; print the result; return the exit code."""
        try:
            args = self.parse(namespace_to_kwargs(namespace, self.args_model))
            configure_cli_logging(verbose=args.verbose)
            result = self.execute(args, HookContext(self.name, self.log))
        except HookError as error:
            for line in _error_lines(error):
                self.log.error("%s", line)
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
        from .cli import build_parser

        parser = build_parser(prog or _default_prog(self.__module__), self)
        namespace = parser.parse_args(argv)
        configure_cli_logging(verbose=False)
        return namespace._command.run_cli(namespace)


class HookGroup:
    """Several hooks under one command, as sub-commands (``start``/``stop``/``status``)."""

    def __init__(self, name: str, hooks: Mapping[str, Hook[Any]], *, summary: str = "") -> None:
        """Group ``hooks`` (sub-command name -> hook) under the command ``name``."""
        self.name = name
        self.hooks = dict(hooks)
        self.summary = summary

    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """Add one sub-parser per hook."""
        from .cli import add_common_flags

        parser.description = self.summary
        subparsers = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
        for action, member in self.hooks.items():
            sub = subparsers.add_parser(action, help=member.summary, description=member.summary)
            add_common_flags(sub)
            member.configure_parser(sub)

    def main(self, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
        """Parse ``argv`` and run the chosen action; used by ``python -m``."""
        from .cli import build_parser

        module = next(iter(self.hooks.values())).__module__
        parser = build_parser(prog or _default_prog(module), self)
        namespace = parser.parse_args(argv)
        configure_cli_logging(verbose=False)
        return namespace._command.run_cli(namespace)


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
    """Entry point for ``python -m runway_ext.hooks.<name>``."""
    sys.exit(command.main())


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
