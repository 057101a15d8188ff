"""The two faces of a hook: CFNgin entry point and CLI, from one args model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from runway.context import CfnginContext

from runway_ext.core.args import HookArgs
from runway_ext.core.errors import HookError
from runway_ext.core.hook import HOOK_DATA_NAMESPACE, HookGroup, hook


class GreetArgs(HookArgs):
    """Arguments of a tiny hook."""

    name: str
    """Who to greet."""
    times: int = 1
    """How often."""


@hook("greet", GreetArgs, summary="Say hello.")
def greet(args: GreetArgs, ctx) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Say hello, or fail for the name 'nobody'."""
    if args.name == "nobody":
        raise HookError("name: nobody is there")
    if args.name == "crash":
        raise RuntimeError("boom")
    ctx.log.info("hello %s", args.name)
    return {"greeting": f"hello {args.name}" * args.times}


@pytest.fixture
def cfngin_context(tmp_path: Path) -> CfnginContext:
    return CfnginContext(config_path=tmp_path / "config.yml")


def test_cfngin_face_returns_result_and_stores_hook_data(cfngin_context: CfnginContext) -> None:
    result = greet(context=cfngin_context, provider=None, name="Ann")
    assert result == {"greeting": "hello Ann", "ok": True}
    assert cfngin_context.hook_data[HOOK_DATA_NAMESPACE]["greet"] == result


def test_cfngin_face_bad_args_is_false_with_one_line_per_field(
    cfngin_context: CfnginContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    assert greet(context=cfngin_context, provider=None, times="many", colour="red") is False
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "greet: name: field required",
        "greet: times: Input should be a valid integer, unable to parse string as an integer",
        "greet: colour: unknown argument",
    ]
    assert HOOK_DATA_NAMESPACE not in cfngin_context.hook_data


@pytest.mark.parametrize(("name", "expected"), [("nobody", "greet: name: nobody is there"), ("crash", "greet: unexpected RuntimeError: boom")])
def test_cfngin_face_failures_are_false_without_traceback(
    cfngin_context: CfnginContext, caplog: pytest.LogCaptureFixture, name: str, expected: str
) -> None:
    caplog.set_level(logging.INFO)
    assert greet(context=cfngin_context, provider=None, name=name) is False
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [record.getMessage() for record in errors] == [expected]
    assert all(record.exc_info is None for record in errors)


def test_cli_face_prints_json_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert greet.main(["--name", "Bo", "--times", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"greeting": "hello Bohello Bo", "ok": True}


def test_cli_face_error_exits_one_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert greet.main(["--name", "nobody"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "error: name: nobody is there"
    assert greet.main(["--times", "x"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: name: field required",
        "error: times: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_cli_debug_shows_traceback_for_unexpected_errors() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        greet.main(["--name", "crash", "--debug"])


def test_group_dispatches_to_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    group = HookGroup("greeter", {"hello": greet}, summary="Greetings.")
    assert group.main(["hello", "--name", "Cy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["greeting"] == "hello Cy"


def test_results_must_be_mappings_or_models(cfngin_context: CfnginContext, caplog: pytest.LogCaptureFixture) -> None:
    @hook("bad", GreetArgs)
    def bad(args, ctx):  # type: ignore[no-untyped-def]
        return 42

    assert bad(context=cfngin_context, provider=None, name="x") is False
    assert "must return a pydantic model, a mapping or None" in caplog.text


def test_journal_records_each_run_with_secrets_redacted(
    cfngin_context: CfnginContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway_ext.core import journal
    from runway_ext.core.log import register_secret

    journal_file = tmp_path / "journal.jsonl"
    monkeypatch.setenv(journal.JOURNAL_VARIABLE, str(journal_file))
    register_secret("s3cret-name-value")
    greet(context=cfngin_context, provider=None, name="s3cret-name-value")
    greet(context=cfngin_context, provider=None, name="nobody")
    entries = journal.read(journal_file)
    assert entries == [
        {"hook": "greet", "ok": True, "result": {"greeting": "hello ***", "ok": True}},
        {"hook": "greet", "ok": False, "error": "name: nobody is there"},
    ]
