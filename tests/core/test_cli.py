"""Flags derived from args models: every field reachable, values reach the model unchanged."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, ValidationError

from runway_ext.core.args import HookArgs
from runway_ext.core.cli import OneLineErrorParser, add_model_arguments, field_kind, namespace_to_kwargs, run_interruptible
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
        (["T", "--variables", "NOEQUALS"], "variables: item 1 of --variables has no '=' \\(expected KEY=VALUE\\)"),
        (["T", "--variables", "A=1", "=x"], "variables: item 2 of --variables has an empty KEY"),
        (["T", "--json-variables", "{oops"], "variables: invalid JSON"),
        (["T", "--json-variables", '{"A": ' + "9" * 5000 + "}"], "variables: invalid JSON \\(a number of more than 4300 digits\\)"),
        (["T", "--rules", "[" * 100_000 + "]" * 100_000], "rules: invalid JSON \\(nested too deeply\\)"),
        (["T", "--json-variables", "[1]"], "variables: expected a JSON object"),
        (["T", "--rules", "nope"], "rules: invalid JSON"),
    ],
)
def test_malformed_values_name_the_field(argv: list[str], message: str) -> None:
    with pytest.raises(HookError, match=message):
        parse(argv)


def test_a_typo_with_the_wrong_separator_never_echoes_the_value() -> None:
    with pytest.raises(HookError) as caught:
        parse(["T", "--variables", "A=1", "DB_PASSWORD:hunter2-secret"])
    assert "hunter2" not in str(caught.value) and "DB_PASSWORD" not in str(caught.value)
    assert str(caught.value) == "variables: item 2 of --variables has no '=' (expected KEY=VALUE)"


def test_choices_and_required_positionals_are_the_models_to_check() -> None:
    """Same message as config.yml gives, exit code 1 from the CLI; argparse only shows the choices in the help."""
    kwargs = parse(["--mode", "reckless"])
    assert kwargs == {"mode": "reckless"}  # no positional: the model says "field required"
    with pytest.raises(ValidationError) as caught:
        SampleArgs.model_validate(kwargs)
    assert {error["loc"][0] for error in caught.value.errors()} == {"target", "mode"}


def test_help_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, SampleArgs, positional=("target",))
    parser.print_help()
    assert "--mode {fast,safe}" in capsys.readouterr().out


def test_usage_errors_are_one_line_naming_flags_but_never_values(capsys: pytest.CaptureFixture[str]) -> None:
    parser = OneLineErrorParser(prog="tool")
    add_model_arguments(parser, SampleArgs, positional=("target",))
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["T", "--output-fil", "x", "--variable", "DB_PASSWORD=hunter2-secret"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "error: unrecognized arguments: --output-fil (did you mean --output-file?), --variable (did you mean --variables?) "
        "and 2 unexpected values (see tool --help)\n"
    )
    with pytest.raises(SystemExit):  # flags are never abbreviated: a typo is not silently another flag
        parser.parse_args(["T", "--retr", "5"])
    assert "--retr" in capsys.readouterr().err


def test_interrupt_is_one_line_and_exit_code_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_interruptible(interrupted) == 130
    assert capsys.readouterr().err == "error: interrupted (Ctrl-C); stopped\n"
    assert run_interruptible(lambda: 0) == 0


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
