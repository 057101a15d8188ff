"""The ``runway-ext`` console script: one sub-command per hook (and the project tools).

Every module in :mod:`runway_ext.hooks` that defines ``COMMAND`` (a hook or a hook group) is a
sub-command named after it, so adding a hook module adds its command.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from runway_ext.core.cli import OneLineErrorParser, add_common_flags, configure_cli_logging, run_interruptible
from runway_ext.core.hook import Hook

TOOL_MODULES: tuple[str, ...] = ("runway_ext.local.command", "runway_ext.scaffold")
"""Modules outside ``runway_ext.hooks`` that contribute a ``COMMAND`` (project tools)."""


def discover_commands() -> list[Any]:
    """Every ``COMMAND`` of the hook modules and tool modules, in name order."""
    from runway_ext import hooks

    modules = [f"{hooks.__name__}.{info.name}" for info in pkgutil.iter_modules(hooks.__path__) if not info.name.startswith("_")]
    commands = []
    for module_name in [*modules, *TOOL_MODULES]:
        command = getattr(importlib.import_module(module_name), "COMMAND", None)
        if command is not None:
            commands.append(command)
    return sorted(commands, key=lambda command: command.name)


def build_main_parser() -> argparse.ArgumentParser:
    """The ``runway-ext`` parser with all sub-commands."""
    from runway_ext import __version__

    parser = OneLineErrorParser(prog="runway-ext", description="Runway hooks and tools, from the command line.")
    parser.add_argument("--version", action="version", version=f"runway-ext {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in discover_commands():
        name = command.name.replace("_", "-")
        sub = subparsers.add_parser(name, help=command.summary, description=command.summary)
        if isinstance(command, Hook):
            add_common_flags(sub)
        command.configure_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``runway-ext``."""
    return run_interruptible(lambda: _run(argv))


def _run(argv: Sequence[str] | None) -> int:
    namespace = build_main_parser().parse_args(argv)
    configure_cli_logging(verbose=False)
    return int(namespace._command.run_cli(namespace))


if __name__ == "__main__":
    sys.exit(main())
