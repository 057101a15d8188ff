"""``${dotenv KEY::file=path/.env}``: a value from a .env file, parsed by python-dotenv.

``${NAME}`` in a value expands from the file's own earlier keys only, unless
``expand_environment=true`` asks for the process environment too (never in single quotes): see
:mod:`runway_ext.core.dotenv_file`.

The arguments are the fields of :class:`DotenvArgs` (plus Runway's common ones, see
:mod:`runway_ext.lookups.args`); an unknown one is refused. ``file`` defaults to ``.env``; a
relative path resolves against the CFNgin config file's folder.

Errors are one ``ValueError`` line naming the file (and the key): a missing file or key falls back
to ``default`` when one is given; a file that exists but cannot be read (not UTF-8 text, a NUL
character, no permission, a folder) never does — a broken file is not an absent one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field
from runway.lookups.handlers.base import LookupHandler

from runway_ext.core.args import refused_by
from runway_ext.core.dotenv_file import UnreadableDotenvFile, read_dotenv
from runway_ext.lookups.args import LookupArgs, parse_lookup

__all__ = ["DEFAULT_FILE", "DotenvArgs", "DotenvLookup", "UnreadableDotenvFile", "base_folder", "read_dotenv"]

if TYPE_CHECKING:
    from runway.context import CfnginContext

DEFAULT_FILE = ".env"


def _path_problem(path: str) -> str | None:
    if "\x00" in path:
        return f"a path cannot contain a NUL character (at position {path.index(chr(0))})"
    return None


class DotenvArgs(LookupArgs):
    """The arguments of ``${dotenv KEY::…}``."""

    QUERY_NAME: ClassVar[str] = "KEY"
    QUERY_DOC: ClassVar[str] = "Name of the variable in the file (surrounding spaces are ignored)."

    file: Annotated[str, Field(min_length=1), refused_by(_path_problem)] = DEFAULT_FILE
    """The file to read. A relative path starts at the folder of the CFNgin config file (the module folder), not the folder Runway was started from; `~` is expanded."""

    expand_environment: bool = False
    """Also expand `${NAME}` from the process environment (as Runway sees it) where the file has no earlier `NAME`. Off: a value expands from the file's own earlier keys only, so nothing from the deploy's environment (a CI token) reaches a deployed value unasked. Never inside single quotes."""


def base_folder(context: Any) -> Path:
    """The folder relative lookup paths start from: the CFNgin config's folder, else the working directory."""
    config_path = getattr(context, "config_path", None)
    if config_path is None:
        return Path.cwd()
    config_path = Path(config_path)
    return config_path if config_path.is_dir() else config_path.parent


def deploy_environment(context: Any) -> Mapping[str, str]:
    """The environment Runway resolves ``${envvar}`` from (its copy on the context), else the process's."""
    variables = getattr(getattr(context, "env", None), "vars", None)
    return variables if isinstance(variables, Mapping) else os.environ


class DotenvLookup(LookupHandler["CfnginContext"]):
    """Resolve ``KEY`` from a .env file."""

    TYPE_NAME: ClassVar[str] = "dotenv"
    ARGS_MODEL: ClassVar[type[DotenvArgs]] = DotenvArgs

    @classmethod
    def handle(cls, value: str, context: CfnginContext, **_kwargs: Any) -> Any:
        """Return the value of ``KEY`` in ``file`` (or ``default``); fail naming the file and key."""
        key, args = parse_lookup(cls, DotenvArgs, value)
        path = Path(args.file).expanduser()
        if not path.is_absolute():
            path = base_folder(context) / path
        try:
            values = read_dotenv(path, key, deploy_environment(context) if args.expand_environment else None)
        except UnreadableDotenvFile:
            raise
        except ValueError:
            if args.default is not None:
                return cls.format_results(args.default, **args.format_args(for_default=True))
            raise
        found = values.get(key)
        if found is None:
            if args.default is not None:
                return cls.format_results(args.default, **args.format_args(for_default=True))
            raise ValueError(f"dotenv: key {key!r} not found in {path}")
        return cls.format_results(found, **args.format_args())
