"""Flags derived from args models: every field reachable, values reach the model unchanged."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from runway_ext.core.args import HookArgs
from runway_ext.core.cli import add_model_arguments, field_kind, namespace_to_kwargs
from runway_ext.core.errors import HookError


class SampleArgs(HookArgs):
    """Every kind of field the builder supports."""

    target: str
    """A positional value."""
    output_file: Path = Path("out.txt")
    """A path."""
    retries: int = 3
    """A number."""
    mode: Literal["fast", "safe"] = "safe"
    """A choice."""
    paths: list[str] = ["/*"]
    """Several values."""
    variables: dict[str, str] = {}
    """Pairs."""
    rules: list[dict[str, str]] = []
    """Something richer, as JSON."""
    overwrite: bool = False
    """A switch."""
    template_file: str = Field("template.yaml", json_schema_extra={"cli_aliases": ["template"]})
    """A field with an extra flag name."""


def parse(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, SampleArgs, positional=("target",))
    return namespace_to_kwargs(parser.parse_args(argv), SampleArgs)


def test_kinds() -> None:
    fields = SampleArgs.model_fields
    assert [field_kind(fields[name]) for name in ("target", "paths", "variables", "rules", "overwrite", "mode")] == [
        "scalar",
        "list",
        "dict",
        "json",
        "bool",
        "scalar",
    ]


def test_only_given_flags_are_passed_so_model_defaults_apply() -> None:
    assert parse(["T"]) == {"target": "T"}
    assert SampleArgs.model_validate(parse(["T"])).paths == ["/*"]


def test_every_kind_parses() -> None:
    kwargs = parse(
        [
            "T",
            "--output-file",
            "a b.txt",
            "--retries",
            "5",
            "--mode",
            "fast",
            "--paths",
            "/index.html",
            "/assets/*",
            "--variables",
            "A=1",
            "B=x=y",
            "--json-variables",
            '{"A": "0", "C": "3"}',
            "--rules",
            '[{"glob": "*.html"}]',
            "--no-overwrite",
            "--template",
            "t.yaml",
        ]
    )
    args = SampleArgs.model_validate(kwargs)
    assert args.output_file == Path("a b.txt")
    assert args.retries == 5
    assert args.paths == ["/index.html", "/assets/*"]
    assert args.variables == {"A": "1", "B": "x=y", "C": "3"}  # pairs win over JSON
    assert args.rules == [{"glob": "*.html"}]
    assert args.overwrite is False
    assert args.template_file == "t.yaml"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["T", "--variables", "NOEQUALS"], "variables: expected KEY=VALUE"),
        (["T", "--json-variables", "{oops"], "variables: invalid JSON"),
        (["T", "--json-variables", "[1]"], "variables: expected a JSON object"),
        (["T", "--rules", "nope"], "rules: invalid JSON"),
    ],
)
def test_malformed_values_name_the_field(argv: list[str], message: str) -> None:
    with pytest.raises(HookError, match=message):
        parse(argv)


def test_bad_choice_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(["T", "--mode", "reckless"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'reckless'" in capsys.readouterr().err


def test_help_shows_defaults_including_factories(capsys: pytest.CaptureFixture[str]) -> None:
    class FactoryArgs(HookArgs):
        rules: list[dict[str, str]] = Field(default_factory=lambda: [{"glob": "*.html"}])
        """Rules."""
        where: Path = Path("out dir")
        """A path default."""

    parser = argparse.ArgumentParser()
    add_model_arguments(parser, FactoryArgs)
    parser.print_help()
    text = " ".join(capsys.readouterr().out.split())
    assert '(default: [{"glob": "*.html"}])' in text
    assert "(default: out dir)" in text
