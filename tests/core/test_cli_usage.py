"""The command line as a newcomer first meets it: usage, help, a missing flag, a typo, the printed result.

Real parsers of real hooks (``runway-ext npm-build``, ``docker-build-push``) and a small model of its own.
"""

from __future__ import annotations

import pytest

from runway_ext.cli import build_main_parser, main
from runway_ext.core.args import HookArgs
from runway_ext.core.cli import OneLineErrorParser, add_model_arguments, print_result


class TwoArgs(HookArgs):
    target: str
    """The ``target`` to hit."""

    mode: str = "fast"
    """How: ``fast`` or ``slow``."""

    bucket_name: str
    """Where."""


def test_required_flags_and_positionals_are_shown_as_required_in_usage() -> None:
    parser = OneLineErrorParser(prog="tool")
    add_model_arguments(parser, TwoArgs, positional=("target",))
    usage = " ".join(parser.format_usage().split())
    assert "--bucket-name BUCKET_NAME" in usage and "[--bucket-name" not in usage
    assert "[--mode MODE]" in usage
    assert " TARGET" in usage and "[TARGET]" not in usage
    assert parser.parse_args([]).__dict__ == {}  # still the model's to check, with its own message


def test_the_real_hooks_usage_marks_their_required_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["npm-build", "--help"])
    usage = " ".join(capsys.readouterr().out.split("\n\n", 1)[0].split())
    assert " --bucket-name BUCKET_NAME " in usage and "[--bucket-name" not in usage and "[--app-path APP_PATH]" in usage


def test_help_shows_markdown_backticks_not_rst() -> None:
    parser = OneLineErrorParser(prog="tool")
    add_model_arguments(parser, TwoArgs, positional=("target",))
    text = parser.format_help()
    assert "``" not in text and "`fast` or `slow`" in text
    for sub in build_main_parser()._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        assert "``" not in sub.format_help(), sub.prog


def test_a_missing_flag_is_named_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["npm-build"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == ["error: --bucket-name: field required"]
    assert main(["docker-build-push"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == ["error: REPOSITORY_NAME: field required"]


def test_a_mistyped_flag_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["npm-build", "--bucket-nme", "b"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: unrecognized arguments: --bucket-nme (did you mean --bucket-name?) and 1 unexpected value (see runway-ext npm-build --help)"
    )
    with pytest.raises(SystemExit):
        main(["local", "deploy", "--endpont", "http://127.0.0.1:1"])
    assert "--endpont (did you mean --endpoint?)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["npm-build", "--zzzz"])
    assert capsys.readouterr().err.startswith("error: unrecognized arguments: --zzzz (see")


def test_key_value_output_uses_json_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    print_result({"skipped": True, "built": False, "output_dir": None, "count": 3, "name": "x"}, as_json=False, render=None)
    assert capsys.readouterr().out.splitlines() == ["skipped: true", "built: false", "output_dir: null", "count: 3", "name: x"]
