"""Reading .env files for ${dotenv}: nothing from the environment unasked, the file's own expansion as python-dotenv
gives it, single quotes literal, NUL refused, and one pass without copying the environment."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from unittest import mock

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st
from runway.context import CfnginContext

from runway_ext.core.dotenv_file import UnreadableDotenvFile, parse_dotenv_text, read_dotenv
from runway_ext.lookups import DotenvLookup

TOKEN = "ci-secret-token-value"


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CfnginContext:
    """A real CfnginContext whose environment (and the process's) holds a CI token."""
    monkeypatch.setenv("CI_DEPLOY_TOKEN", TOKEN)
    (tmp_path / ".env").write_text(
        "GREETING=hello-${CI_DEPLOY_TOKEN}\n"
        'DOUBLE="hello-${CI_DEPLOY_TOKEN}"\n'
        "SINGLE='hello-${CI_DEPLOY_TOKEN}'\n"
        "export EXPORTED=${CI_DEPLOY_TOKEN:-unset}\n"
        "HOST=db.internal\n"
        "URL=postgres://${HOST}:5432\n"
        "SINGLE_URL='postgres://${HOST}:5432'\n"
        "FALLBACK=${MISSING:-fallback}\n"
    )
    return CfnginContext(config_path=tmp_path / "config.yml")


def test_the_process_environment_never_reaches_a_value_unasked(context: CfnginContext) -> None:
    assert context.env.vars["CI_DEPLOY_TOKEN"] == TOKEN
    assert DotenvLookup.handle("GREETING", context) == "hello-"
    assert DotenvLookup.handle("DOUBLE", context) == "hello-"
    assert DotenvLookup.handle("SINGLE", context) == "hello-${CI_DEPLOY_TOKEN}"
    assert DotenvLookup.handle("EXPORTED", context) == "unset"


def test_the_files_own_earlier_keys_still_expand(context: CfnginContext) -> None:
    assert DotenvLookup.handle("URL", context) == "postgres://db.internal:5432"
    assert DotenvLookup.handle("FALLBACK", context) == "fallback"
    assert DotenvLookup.handle("SINGLE_URL", context) == "postgres://${HOST}:5432"  # single quotes: as written


def test_environment_expansion_when_asked_but_never_in_single_quotes(context: CfnginContext) -> None:
    assert DotenvLookup.handle("GREETING::expand_environment=true", context) == f"hello-{TOKEN}"
    assert DotenvLookup.handle("DOUBLE::expand_environment=true", context) == f"hello-{TOKEN}"
    assert DotenvLookup.handle("EXPORTED::expand_environment=true", context) == TOKEN
    assert DotenvLookup.handle("SINGLE::expand_environment=true", context) == "hello-${CI_DEPLOY_TOKEN}"
    assert DotenvLookup.handle("GREETING::expand_environment=false", context) == "hello-"


def test_environment_expansion_reads_runways_copy_and_the_file_wins(context: CfnginContext) -> None:
    context.env.vars["HOST"] = "from-environment"
    context.env.vars["ONLY_IN_RUNWAY"] = "runway-value"
    (Path(context.config_path).parent / "other.env").write_text("A=${ONLY_IN_RUNWAY}\nHOST=file\nB=${HOST}\n")
    assert DotenvLookup.handle("A::file=other.env, expand_environment=true", context) == "runway-value"
    assert DotenvLookup.handle("B::file=other.env, expand_environment=true", context) == "file"


def test_a_nul_character_is_refused_by_key_and_line_and_default_does_not_hide_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"# comment\n\nOK=1\nBAD=a\x00b\n")
    context = CfnginContext(config_path=tmp_path / "config.yml")
    message = rf"^dotenv: {tmp_path}/\.env: the value of 'BAD' holds a NUL character \(line 4\)$"
    with pytest.raises(UnreadableDotenvFile, match=message):
        DotenvLookup.handle("OK", context)
    with pytest.raises(UnreadableDotenvFile, match=message):
        DotenvLookup.handle("OK::default=x", context)
    with pytest.raises(UnreadableDotenvFile, match=r"a key holds a NUL character \(line 1\)"):
        parse_dotenv_text("K\x00EY=1\n")


def test_line_ends_and_a_byte_order_mark_read_as_python_dotenv_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "crlf.env"
    path.write_bytes('\ufeffA=1\r\nB="x\r\ny"\rC=${A}\n'.encode())
    assert read_dotenv(path) == dict(dotenv_values(path, encoding="utf-8", interpolate=False)) | {"C": "1"}


class CountingEnvironment(Mapping[str, str]):
    """An environment that counts how it is read: a copy iterates it, a lookup does not."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.iterations = 0
        self.lookups = 0

    def __getitem__(self, key: str) -> str:
        self.lookups += 1
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        self.iterations += 1
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_expansion_looks_names_up_without_copying_the_environment() -> None:
    environment = CountingEnvironment({f"VAR_{n}": str(n) for n in range(1000)})
    text = "".join(f"K{n}=${{VAR_{n}}}-${{K{n - 1}:-start}}\n" for n in range(500))
    values = parse_dotenv_text(text, environment)
    assert values["K499"].startswith("499-498-497-")
    assert environment.iterations == 0
    # the file's own keys are found first: only the 500 VAR_n (and K-1) reach the environment, each a test and a get
    assert environment.lookups <= 2 * 501


# -- the same answers as python-dotenv -------------------------------------------------------------
NAMES = ["A", "B", "C", "HOME_DIR", "X"]
_literal = st.text(alphabet="abc xyz-_/:.@", max_size=6)
_reference = st.builds(
    lambda name, default: "${" + name + (f":-{default}" if default is not None else "") + "}",
    st.sampled_from(NAMES + ["UNSET"]),
    st.none() | st.text(alphabet="dflt-", max_size=4),
)
_value = st.lists(_literal | _reference, max_size=4).map("".join)


@st.composite
def dotenv_lines(draw: st.DrawFn, quotes: tuple[str, ...]) -> str:
    """A .env line python-dotenv parses: an assignment (optionally ``export``-ed) or a comment."""
    if draw(st.integers(0, 9)) == 0:
        return "# a comment ${A}\n"
    quote = draw(st.sampled_from(quotes))
    value = draw(_value)
    if not quote:
        value = value.strip()
    export = draw(st.sampled_from(["", "export "]))
    return f"{export}{draw(st.sampled_from(NAMES))}={quote}{value}{quote}\n"


def dotenv_answer(text: str, environment: dict[str, str], *, interpolate: bool = True) -> dict[str, str | None]:
    """What python-dotenv reads from ``text`` with exactly ``environment`` as the process environment."""
    with mock.patch.dict(os.environ, environment, clear=True):
        return dict(dotenv_values(stream=io.StringIO(text), interpolate=interpolate))


@settings(max_examples=150, deadline=None)
@given(st.lists(dotenv_lines(("", '"')), max_size=8).map("".join))
def test_file_only_expansion_equals_python_dotenv_with_an_empty_environment(text: str) -> None:
    assert parse_dotenv_text(text) == dotenv_answer(text, {})


@settings(max_examples=150, deadline=None)
@given(
    st.lists(dotenv_lines(("", '"')), max_size=8).map("".join),
    st.dictionaries(st.sampled_from(NAMES + ["UNSET"]), st.text(alphabet="ENV-", max_size=4), max_size=4),
)
def test_asked_environment_expansion_equals_python_dotenvs(text: str, environment: dict[str, str]) -> None:
    assert parse_dotenv_text(text, environment) == dotenv_answer(text, environment)


@settings(max_examples=100, deadline=None)
@given(st.lists(dotenv_lines(("'",)), min_size=1, max_size=6).map("".join))
def test_single_quoted_values_are_python_dotenvs_unexpanded_values(text: str) -> None:
    assert parse_dotenv_text(text, {"A": "env"}) == dotenv_answer(text, {}, interpolate=False)
