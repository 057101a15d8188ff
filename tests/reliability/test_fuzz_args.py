"""Arbitrary JSON-able input through both faces of every hook (hypothesis): refused in named lines, never a crash.

Each generated case is a mapping of argument names to hostile JSON-able values: hypothesis draws how many
arguments and a seed, the seed grows the names (the hook's own fields, mostly, and stray names) and the
values (:func:`hostile_value`): nested lists and objects, huge and negative numbers,
non-finite floats, text with lone surrogates, NUL and control characters, names such as ``bool`` or
``str``, paths longer than the system allows. Cases come in batches of :data:`BATCH` per hypothesis
example (hypothesis' own bookkeeping per example costs more than running a case; a failing batch still
shrinks: the other cases to the simplest one, the failing one to its fewest arguments). Each case goes, in
process, through:

* the CFNgin face: ``hook(context, None, **args)`` with a real ``CfnginContext``;
* the CLI face: the same values as flags (``--field=VALUE``, JSON for rich fields, ``--json-<dict>``,
  ``--flag/--no-flag``), parsed by the hook's own parser and run by ``run_cli`` (what ``Hook.main`` does).

Every case must end in ``False`` / exit code 1, every error line naming a field the input gave (``<hook>:
<field>…`` / ``error: <field>…``; a problem of several fields names them all, ``a, b: …``), no
traceback, no "unexpected", and nothing written in the working folder. Inputs the model accepts are
counted and left out: running a hook's body for real is the hook suites' job, and would write. What
argparse itself cannot carry (a list item starting with ``-``) is left out of the CLI form only.

``context`` and ``provider`` are never argument names: Runway calls every hook as
``hook(context=…, provider=…, **args)``, so such an argument fails in Runway before any hook code runs
(and :class:`~runway_ext.core.hook.Hook` refuses an args model with such a field).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_ext.core.cli import configure_cli_logging, field_kind, namespace_to_kwargs
from runway_ext.core.errors import HookError
from runway_ext.core.hook import RESERVED_ARGUMENT_NAMES, Hook, build_parser, shown_name
from runway_ext.core.log import redact
from runway_ext.docs_tables import discover_hooks

CASES_PER_HOOK = int(os.environ.get("RUNWAY_EXT_FUZZ_CASES", "200"))
"""Cases per hook: a quick 200 by default, for a developer running this file; CI runs 2,000 (``.ci/test`` sets it)."""
BATCH = 10
HOOKS = discover_hooks()
HUGE_DIGITS = 5000
SPECIAL_TEXT = [
    "", "\ud800", "a\udcff", "\x00", "a\x00b", "../../etc/passwd", "/", ".", "..", "$(touch PWNED)", "-x", "--help",
    "x" * 400, "x" * 5000, "a/" * 2100, "ÄÖ", "0", "-1", "1e999", "NaN", "true", "null", "https://u:p@h/",
    "a\nb", "\r", "\u2028", "bool", "str", "int", "none", "list[str]", "[key]", "*", "E123", "us-east-1", "A=1",
]  # fmt: skip
"""Text known to have broken a parser somewhere (shells, paths, JSON, pydantic's union reports)."""
TYPE_NAMES = ["bool", "str", "int", "float", "none", "bytes", "list[str]", "dict[str,str]"]
CODE_POINTS = [(0x20, 0x7E), (0x00, 0x1F), (0x7F, 0x9F), (0xA0, 0x2FF), (0xD800, 0xDFFF), (0x2028, 0x2029), (0x10000, 0x10FFFF)]


def hostile_text(rng: random.Random) -> str:
    """Short text from ranges chosen to hurt: ASCII, control characters, surrogates, line separators, astral planes."""
    if rng.random() < 0.4:
        return rng.choice(SPECIAL_TEXT)
    low, high = rng.choice(CODE_POINTS)
    return "".join(chr(rng.randint(low, high)) if rng.random() < 0.6 else chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(0, 12)))


def hostile_number(rng: random.Random) -> int | float:
    choice = rng.randrange(9)
    if choice == 0:
        return rng.choice([1, -1]) * 10**HUGE_DIGITS  # more digits than Python turns into text
    if choice == 1:
        return rng.choice([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324])
    if choice == 2:
        return rng.choice([2**63, -(2**63) - 1, 2**64])
    if choice in (3, 4):
        return rng.randint(-3, 3)
    if choice in (5, 6):
        return rng.randint(-(2**70), 2**70)
    return rng.uniform(-1e6, 1e6)


def hostile_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-able value of any shape, grown from ``rng``; rarely, nested deeper than any hook accepts."""
    roll = rng.random()
    if roll < 0.01:
        value: Any = "deep"
        for _ in range(rng.choice([65, 200, 1200])):
            value = [value] if rng.random() < 0.5 else {"k": value}
        return value
    if depth < 3 and roll < 0.16:
        return [hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3 and roll < 0.31:
        return {hostile_key(rng): hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if roll < 0.40:
        return rng.choice([None, True, False])
    if roll < 0.62:
        return hostile_number(rng)
    return hostile_text(rng)


def hostile_key(rng: random.Random) -> str:
    return rng.choice(TYPE_NAMES) if rng.random() < 0.15 else hostile_text(rng)


def build_case(fields: list[str], count: int, seed: int) -> dict[str, Any]:
    """``count`` arguments grown from ``seed``: a field's name (mostly) or a stray one, each with a hostile value.

    The arguments come one after another from the same generator, so fewer of them (what hypothesis
    tries when it shrinks a failing case) are the first ones of the longer case.
    """
    rng = random.Random(seed)
    case: dict[str, Any] = {}
    for _ in range(count):
        if rng.random() < 0.75:
            name = rng.choice(fields)
        else:
            name = hostile_key(rng) or "_"
            name = name + "_" if name in RESERVED_ARGUMENT_NAMES else name  # Runway's own call parameters
        case[name] = hostile_value(rng)
    return case


def args_strategy(hook: Hook[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """One case: hypothesis draws how many arguments and a seed (two draws: cheap), the seed grows the rest."""
    fields = sorted(hook.args_model.model_fields)
    return st.tuples(st.integers(1, 5), st.integers(0, 2**32 - 1)).map(lambda drawn: build_case(fields, *drawn))


def as_text(value: Any) -> str:
    """A value as one command-line word: text as it is, anything else as JSON (a too-long integer as its digits)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except ValueError:
        return "9" * HUGE_DIGITS
    except RecursionError:
        return "[" * 5000


def as_argv(hook: Hook[Any], args: dict[str, Any]) -> list[str]:
    """The flags a user would type for ``args`` (the hook's own fields only: a stray flag is argparse's usage error)."""
    argv: list[str] = []
    positional: list[str] = []
    for name, value in args.items():
        info = hook.args_model.model_fields.get(name)
        if info is None:
            continue
        flag = "--" + name.replace("_", "-")
        kind = field_kind(info)
        if name in hook.positional:
            positional += [as_text(item) for item in value] if kind == "list" and isinstance(value, list) else [as_text(value)]
        elif kind == "bool":
            if isinstance(value, bool):
                argv.append(flag if value else ("--" + name[3:].replace("_", "-") if name.startswith("no_") else "--no-" + flag[2:]))
        elif kind == "list" and isinstance(value, list):
            items = [as_text(item) for item in value]
            argv += [flag, *[item for item in items if not item.startswith("-")]]
        elif kind == "dict":
            argv.append(f"--json-{flag[2:]}={as_text(value) if not isinstance(value, str) else json.dumps(value)}")
        elif kind == "json":
            argv.append(f"{flag}={json.dumps(value) if isinstance(value, str) else as_text(value)}")
        else:
            argv.append(f"{flag}={as_text(value)}")
    return [*argv, "--", *positional] if positional else argv


def refused(hook: Hook[Any], kwargs: dict[str, Any]) -> bool:
    try:
        hook.parse(kwargs)
    except HookError:
        return True
    return False


def names_a_field(rest: str, hook: Hook[Any], args: dict[str, Any]) -> bool:
    """Whether an error line (without its prefix) starts with a field of the hook or a name the input gave.

    A problem of several fields together starts with all of them: ``paths, paths_from_hook_data: …``.
    """
    fields = set(hook.args_model.model_fields)
    cli_spellings = {"--" + field.replace("_", "-") for field in fields} | {field.upper() for field in fields}  # flag or metavar
    names = fields | cli_spellings | {redact(shown_name(str(name))) for name in args}
    head = rest.split(": ", 1)[0]
    if ", " in head and all(part in hook.args_model.model_fields for part in head.split(", ")):
        return True
    cut = rest[:-1] if rest.endswith("…") else None  # a line cut at its length limit while still in the name
    return any(rest.startswith(name + ":") or rest.startswith(name + ".") or (cut is not None and name.startswith(cut)) for name in names)


def test_no_hook_takes_an_argument_runway_passes_itself() -> None:
    for hook in HOOKS.values():
        assert not set(hook.args_model.model_fields) & RESERVED_ARGUMENT_NAMES, hook.name


@pytest.mark.parametrize("hook", list(HOOKS.values()), ids=[hook.name for hook in HOOKS.values()])
def test_arbitrary_input_is_refused_naming_a_field_in_both_faces(
    hook: Hook[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from runway_ext.testing.cfngin import make_cfngin_context

    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    context = make_cfngin_context(tmp_path)
    parser = build_parser("fuzz", hook)
    configure_cli_logging(verbose=False)  # as the CLI's main does before running
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    counted = {"generated": 0, "accepted": 0, "cfngin": 0, "cli": 0}

    def check(args: dict[str, Any]) -> None:
        counted["generated"] += 1
        if not refused(hook, args):
            counted["accepted"] += 1
            return
        # the CFNgin face
        caplog.clear()
        assert hook(context, None, **args) is False
        records = caplog.records
        assert records and all(record.exc_info is None for record in records)
        for record in records:
            line = record.getMessage()
            assert record.levelno == logging.ERROR and line.startswith(f"{hook.name}: "), line
            assert names_a_field(line[len(hook.name) + 2 :], hook, args), line
            assert "unexpected" not in line and "Traceback" not in line
        counted["cfngin"] += 1
        # the CLI face
        argv = as_argv(hook, args)
        namespace = parser.parse_args(argv)
        try:
            cli_refused = refused(hook, namespace_to_kwargs(namespace, hook.args_model))
        except HookError:
            cli_refused = True  # malformed JSON or KEY=VALUE: run_cli names it too
        if not cli_refused:
            return  # the CLI form of these values happens to be valid (e.g. a stray key left out)
        capsys.readouterr()
        assert hook.run_cli(namespace) == 1
        out, err = capsys.readouterr()
        assert out == ""
        lines = err.splitlines()
        assert lines, argv
        for line in lines:
            assert line.startswith("error: ") and names_a_field(line[7:], hook, args), line
            assert "unexpected" not in line and "Traceback" not in line
        counted["cli"] += 1
        assert os.listdir(workdir) == []

    @settings(
        max_examples=-(-CASES_PER_HOOK // BATCH),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=st.lists(args_strategy(hook), min_size=BATCH, max_size=BATCH))
    def cases(batch: list[dict[str, Any]]) -> None:
        for args in batch:
            check(args)

    cases()
    print(f"{hook.name}: {counted['generated']} cases, {counted['accepted']} accepted by the model (not run),", end=" ")
    print(f"{counted['cfngin']} refused through the CFNgin face, {counted['cli']} through the CLI")
    assert counted["generated"] >= CASES_PER_HOOK
    assert counted["cfngin"] >= CASES_PER_HOOK * 0.85
    assert list(workdir.iterdir()) == []
