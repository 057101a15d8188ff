"""Per-argument tables of the docs pages, generated from the hooks' and lookups' args models so they cannot drift.

A page asks for a hook's table with a pair of markers; everything between them is replaced::

    <!-- args:runway_ext.hooks.env_file_generator.cfngin_hook -->
    <!-- /args -->

The name after ``args:`` is the hook's config.yml ``path``, or a lookup's ``lookups:`` class path
(``runway_ext.lookups.DotenvLookup``). Hooks are found the way the ``runway-ext`` command finds them
(every ``COMMAND`` of :mod:`runway_ext.hooks`, groups included), lookups in
:data:`runway_ext.lookups.ALL_LOOKUPS`; a marker naming anything else is an error. Run
``python -m runway_ext.docs_tables [DOCS_DIR]`` to rewrite the pages, ``--check`` to only report
stale ones (exit 1), ``--list`` to see which hooks and lookups have no table anywhere yet.
"""

from __future__ import annotations

import argparse
import enum
import json
import re
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from runway_ext.core.cli import cli_aliases, field_kind
from runway_ext.core.hook import Hook

REGION = re.compile(r"(?P<open><!-- args:(?P<path>[A-Za-z0-9_.]+) -->\n)(?P<body>.*?)(?P<close><!-- /args -->)", re.DOTALL)
HEADER = ("Argument", "Type", "Default", "CLI", "Description")
LOOKUP_HEADER = ("Argument", "Type", "Default", "Description")
_TYPE_NAMES: dict[Any, str] = {type(None): "null", Path: "path", str: "str", int: "int", float: "float", bool: "bool"}


class DocsTableError(ValueError):
    """A page names a hook or lookup that does not exist."""


def discover_hooks() -> dict[str, Hook[Any]]:
    """Every hook of the package by its config.yml path (``module.function``), groups expanded."""
    from runway_ext.cli import discover_commands

    found: dict[str, Hook[Any]] = {}
    for command in discover_commands():
        members = [command] if isinstance(command, Hook) else list(getattr(command, "hooks", {}).values())
        for member in members:
            if isinstance(member, Hook):
                found[f"{member.__module__}.{member.__name__}"] = member
    return found


def discover_lookups() -> dict[str, type[Any]]:
    """Every lookup of the package by the class path a ``lookups:`` entry names (``runway_ext.lookups.DotenvLookup``)."""
    from runway_ext.lookups import ALL_LOOKUPS

    return {f"runway_ext.lookups.{handler.__name__}": handler for handler in ALL_LOOKUPS.values()}


def discover_documented() -> dict[str, Any]:
    """Everything a page may ask a table for: hooks and lookups, by path."""
    return {**discover_hooks(), **discover_lookups()}


# -- one table --------------------------------------------------------------------------------------
def type_text(annotation: Any) -> str:
    """A field type as a reader says it: ``list[str]``, ``path or null``, ``"a", "b" or "c"``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return type_text(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(member) for member in get_args(annotation))
    if origin is Literal:
        values = [json.dumps(value) for value in get_args(annotation)]
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
    if origin in (list, tuple, set, frozenset, dict):
        inner = ", ".join("..." if arg is Ellipsis else type_text(arg) for arg in get_args(annotation))
        return f"{origin.__name__}[{inner}]" if inner else origin.__name__
    if annotation in _TYPE_NAMES:
        return _TYPE_NAMES[annotation]
    return getattr(annotation, "__name__", str(annotation))


def constraints_text(info: FieldInfo) -> str:
    """Numeric bounds and minimum lengths declared on a field (``≥ 1, ≤ 3000``)."""
    parts: list[str] = []
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            parts.append(f"≥ {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            parts.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"≤ {item.le}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.MinLen):
            parts.append(f"at least {item.min_length} {_units(info.annotation, item.min_length)}")
        elif isinstance(item, annotated_types.MaxLen):
            parts.append(f"at most {item.max_length} {_units(info.annotation, item.max_length)}")
    return ", ".join(parts)


def _units(annotation: Any, count: int) -> str:
    """What a length counts: characters of a string, items of a collection."""
    unit = "character" if annotation is str else "item"
    return unit if count == 1 else unit + "s"


def default_text(info: FieldInfo) -> str:
    """The default as JSON-like text in backticks, or *required*."""
    if info.is_required():
        return "*required*"
    value = info.default
    if value is PydanticUndefined and info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{json.dumps(value, default=str)}`"


def cli_text(name: str, info: FieldInfo, positional: Iterable[str]) -> str:
    """The command-line spelling of a field, as :mod:`runway_ext.core.cli` builds it."""
    if name in positional:
        return f"`{name.upper()}` (positional)"
    flag = "--" + name.replace("_", "-")
    kind = field_kind(info)
    aliases = "".join(f", `{alias}`" for alias in cli_aliases(info))
    if kind == "bool" and flag.startswith("--no-"):
        return f"`{flag}` / `--{flag[5:]}`{aliases}"
    if kind == "bool":
        return f"`{flag}` / `--no-{flag[2:]}`{aliases}"
    if kind == "list":
        return f"`{flag} V1 V2 …`{aliases}"
    if kind == "dict":
        return f"`{flag} K=V …`{aliases}, `--json-{flag[2:]} '{{…}}'`"
    if kind == "json":
        return f"`{flag} JSON`{aliases}"
    return f"`{flag}`{aliases}"


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_PROSE_ESCAPES = str.maketrans({"|": "\\|", "<": "&lt;", "*": "\\*"})


def _cell(text: str) -> str:
    """Text fit for one table cell: one line; outside code spans, ``| < *`` cannot break the table or the HTML."""
    text = " ".join(text.split())
    parts, position = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(text[position : match.start()].translate(_PROSE_ESCAPES))
        parts.append(match.group(0))
        position = match.end()
    parts.append(text[position:].translate(_PROSE_ESCAPES))
    return "".join(parts)


def render_table(hook: Hook[Any]) -> str:
    """The Markdown table of a hook's arguments (``verbose``, common to all hooks, last)."""
    fields = dict(hook.args_model.model_fields)
    ordered = [name for name in fields if name != "verbose"] + (["verbose"] if "verbose" in fields else [])
    rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for name in ordered:
        info = fields[name]
        kind = type_text(info.annotation)
        bounds = constraints_text(info)
        cells = (
            f"`{name}`",
            _cell(kind + (f" ({bounds})" if bounds else "")),
            default_text(info),
            cli_text(name, info, hook.positional),
            _cell(info.description or ""),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def render_lookup_table(handler: type[Any]) -> str:
    """The Markdown table of a lookup's arguments: its query, its own arguments, then Runway's common ones."""
    from runway_ext.lookups.args import LookupArgs

    model: type[LookupArgs] = handler.ARGS_MODEL
    fields = dict(model.model_fields)
    common = list(LookupArgs.model_fields)
    ordered = [name for name in fields if name not in common] + common
    rows = ["| " + " | ".join(LOOKUP_HEADER) + " |", "|" + "---|" * len(LOOKUP_HEADER)]
    rows.append(f"| `{model.QUERY_NAME}` (before `::`) | str | *required* | {_cell(model.QUERY_DOC)} |")
    for name in ordered:
        info = fields[name]
        bounds = constraints_text(info)
        cells = (
            f"`{name}`",
            _cell(type_text(info.annotation) + (f" ({bounds})" if bounds else "")),
            default_text(info),
            _cell(info.description or ""),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def render_any(documented: Any) -> str:
    """The table of a hook or of a lookup class."""
    return render_table(documented) if isinstance(documented, Hook) else render_lookup_table(documented)


# -- pages ------------------------------------------------------------------------------------------
def fill_regions(text: str, hooks: Mapping[str, Any], *, page: str = "page") -> str:
    """``text`` with every args region holding the current table of the hook (or lookup) it names."""

    def replace(match: re.Match[str]) -> str:
        path = match.group("path")
        if path not in hooks:
            known = ", ".join(sorted(hooks)) or "none"
            raise DocsTableError(f"{page}: no hook or lookup {path!r} for an args table (known: {known})")
        return f"{match.group('open')}\n{render_any(hooks[path])}\n{match.group('close')}"

    return REGION.sub(replace, text)


def pages(docs_dir: Path) -> list[Path]:
    """The Markdown pages under ``docs_dir``, in a stable order."""
    return sorted(docs_dir.rglob("*.md"))


def stale_pages(docs_dir: Path, hooks: Mapping[str, Any] | None = None) -> dict[Path, str]:
    """Pages whose args tables differ from the models, with their regenerated text."""
    hooks = discover_documented() if hooks is None else hooks
    stale: dict[Path, str] = {}
    for page in pages(docs_dir):
        text = page.read_text(encoding="utf-8")
        if "<!-- args:" not in text:
            continue
        fresh = fill_regions(text, hooks, page=str(page))
        if fresh != text:
            stale[page] = fresh
    return stale


def documented_paths(docs_dir: Path) -> set[str]:
    """The hook and lookup paths that have an args region on some page."""
    return {match.group("path") for page in pages(docs_dir) for match in REGION.finditer(page.read_text(encoding="utf-8"))}


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or ``--check``, or ``--list``) the args tables of the pages under DOCS_DIR."""
    parser = argparse.ArgumentParser(prog="python -m runway_ext.docs_tables", description=__doc__.splitlines()[0])
    parser.add_argument("docs_dir", nargs="?", default="docs", help="folder of the Markdown pages (default: docs)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table is stale")
    mode.add_argument("--list", action="store_true", help="list every hook and lookup, and whether a page holds its table")
    options = parser.parse_args(argv)
    docs_dir = Path(options.docs_dir)
    if not docs_dir.is_dir():
        print(f"error: docs_dir: {docs_dir} is not a folder", file=sys.stderr)
        return 1
    hooks = discover_documented()
    if options.list:
        documented = documented_paths(docs_dir)
        for path in sorted(hooks):
            print(f"{'table ' if path in documented else 'no table'}  {path}")
        return 0
    try:
        stale = stale_pages(docs_dir, hooks)
    except DocsTableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for page, text in stale.items():
        if options.check:
            print(f"stale: {page}")
        else:
            page.write_text(text, encoding="utf-8")
            print(f"updated: {page}")
    if options.check and stale:
        print("run: python -m runway_ext.docs_tables", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
