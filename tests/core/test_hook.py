"""The two faces of a hook: CFNgin entry point and CLI, from one args model."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pydantic
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


def test_cfngin_face_bad_args_is_false_with_one_line_per_field(cfngin_context: CfnginContext, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    assert greet(context=cfngin_context, provider=None, times="many", colour="red") is False
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "greet: name: field required",
        "greet: times: Input should be a valid integer, unable to parse string as an integer",
        "greet: colour: unknown argument",
    ]
    assert HOOK_DATA_NAMESPACE not in cfngin_context.hook_data


@pytest.mark.parametrize(
    ("name", "expected"), [("nobody", "greet: name: nobody is there"), ("crash", "greet: unexpected RuntimeError: boom")]
)
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
        "error: --name: field required",  # the CLI names the flag typed, config.yml the key
        "error: --times: Input should be a valid integer, unable to parse string as an integer",
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


class RichArgs(HookArgs):
    """Fields of every shape the refusals below walk through."""

    output: Path | None = None
    """A path field."""
    labels: dict[str, str | int | bool] = {}
    """A mapping whose values are a union."""
    items: list[str] = []
    """A list."""
    either: str | list[str] | None = None
    """A union field."""


@hook("rich", RichArgs)
def rich(args: RichArgs, ctx) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Write ``output`` when given (for the OSError cases)."""
    if args.output is not None:
        args.output.write_text("x")
    return {"done": True}


def refusal(**kwargs: object) -> str:
    with pytest.raises(HookError) as raised:
        rich.parse(kwargs)
    return str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"items": ["ok", "\ud800"]}, "items.1: text is not valid Unicode (lone surrogate '\\ud800' at position 0)"),
        ({"labels": {"\udcff": "v"}}, "labels: key '\\udcff' is not valid Unicode (lone surrogate)"),
        ({"labels": {"A\nB": "v"}}, "labels: key 'A\\nB' holds a control character (a line break, a tab, NUL, ...)"),
        ({"items": [10**5000]}, "items.0: a number of more than 4300 digits"),
        ({"labels": {"A": -(10**5000)}}, "labels.A: a number of more than 4300 digits"),
        ({"items": [float("nan")]}, "items.0: nan is not a usable number"),
        ({"labels": {"A": float("-inf")}}, "labels.A: -inf is not a usable number"),
        ({"output": "a\x00b"}, "output: a path cannot contain a NUL character (at position 1)"),
        ({"output": "\ud800.txt"}, "output: text is not valid Unicode (lone surrogate '\\ud800' at position 0)"),
        ({"bad\nname": 1}, "bad\\nname: unknown argument"),
        ({"\ud800": 1}, "\\ud800: unknown argument"),
    ],
    ids=[
        "lone-surrogate",
        "surrogate-key",
        "control-key",
        "huge-int",
        "huge-negative-int",
        "nan",
        "infinity",
        "nul-in-path",
        "surrogate-in-path",
        "control-in-name",
        "surrogate-name",
    ],
)
def test_parse_refuses_input_no_hook_can_use_naming_the_field(kwargs: dict[str, object], expected: str) -> None:
    assert refusal(**kwargs) == expected


def test_parse_refuses_deep_nesting_without_recursing() -> None:
    value: object = "leaf"
    for _ in range(100_000):  # far deeper than Python's recursion limit: the walk is iterative
        value = [value]
    assert refusal(items=value) == "items" + ".0" * 64 + ": nested more than 64 levels deep"


def test_a_file_name_escape_is_kept_in_a_path_field(tmp_path: Path) -> None:
    """Python keeps a non-UTF-8 file name byte as ``\\udcXX``: a real file name, so a path field accepts it."""
    assert rich.parse({"output": str(tmp_path / "caf\udce9")}).output == tmp_path / "caf\udce9"


def test_arguments_named_like_types_are_names_not_union_members() -> None:
    assert refusal(bool=1, str=2).splitlines() == ["bool: unknown argument", "str: unknown argument"]
    assert refusal(labels={"str": [1], "int": {}}).splitlines() == [
        "labels.str: expected str or int or bool",
        "labels.int: expected str or int or bool",
    ]
    assert refusal(either=5) == "either: expected str or list[str]"


def test_a_message_quoting_a_line_break_stays_one_line() -> None:
    class Named(HookArgs):
        tag: str

        @pydantic.field_validator("tag")
        @classmethod
        def _tag(cls, value: str) -> str:
            raise ValueError(f"bad tag {value}")

    with pytest.raises(HookError) as raised:
        hook("named", Named)(lambda args, ctx: None).parse({"tag": "a\nb\u2028c"})
    assert str(raised.value) == "tag: bad tag a\\nb\\u2028c"


def test_a_problem_of_several_fields_names_them() -> None:
    class Either(HookArgs):
        first: str | None = None
        second: str | None = None

        @pydantic.model_validator(mode="after")
        def _one(self) -> Either:
            if self.first and self.second:
                raise ValueError("give first or second, not both")
            return self

    with pytest.raises(HookError) as raised:
        hook("either", Either)(lambda args, ctx: None).parse({"first": "a", "second": "b"})
    assert str(raised.value) == "first, second: give first or second, not both"


def test_an_args_model_may_not_take_what_runway_passes_itself() -> None:
    class Clashing(HookArgs):
        context: str = ""

    with pytest.raises(TypeError, match="may not have a field named context"):
        hook("clash", Clashing)(lambda args, ctx: None)


def read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: a chmod 500 folder, or for root (who ignores modes) sysfs."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if not os.access(folder, os.W_OK):
        return folder
    if Path("/sys/kernel").is_dir():
        return Path("/sys/kernel")  # read-only for root too (sysfs refuses new files)
    pytest.skip("no folder here is read-only for this user")


def test_an_output_file_in_a_read_only_place_is_one_line_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file asked for is named, never the temporary file written beside it first (``.NAME.random.tmp``)."""
    from runway_ext.hooks.env_file_generator import cfngin_hook as env_file_hook

    target = read_only_folder(tmp_path) / "runway-ext-test.env"
    caplog.set_level(logging.ERROR)
    assert env_file_hook(None, None, output_file=str(target), variables={"A": "1"}) is False
    assert [record.getMessage() for record in caplog.records] == [
        f"env_file_generator: output_file: cannot write {target}: Permission denied"
    ]
    capsys.readouterr()
    assert env_file_hook.main(["--output-file", str(target), "--variables", "A=1"]) == 1
    assert capsys.readouterr().err == f"error: output_file: cannot write {target}: Permission denied\n"
    assert not target.exists()
