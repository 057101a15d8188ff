"""The .env quoting reads back exactly with python-dotenv (property-based), and refuses what cannot."""

from __future__ import annotations

import io
import re

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from runway_ext.hooks.env_file_generator.dotenv_format import (
    UnrepresentableValue,
    as_text,
    check_representable,
    quote_value,
    render_body,
    render_file,
    strip_header,
)

TRICKY = list("$#='\"\\ \t\n{}`!;&|<>*?~%") + ["é", "日本", "🙂", "\u00a0", "export ", "${", "\\n", "''", '""']
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
values = st.one_of(
    st.lists(st.sampled_from(TRICKY + ["a", "b", "Z", "0"]), max_size=12).map("".join),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
)


def representable(value: str) -> bool:
    try:
        check_representable("X", value)
    except UnrepresentableValue:
        return False
    return True


def read_back(text: str) -> dict[str, str | None]:
    return dict(dotenv_values(stream=io.StringIO(text)))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(names, values, min_size=1, max_size=8))
def test_python_dotenv_reads_back_exactly(variables: dict[str, str]) -> None:
    assume(all(representable(value) for value in variables.values()))
    text = render_file(["Written by a test."], variables)
    assert read_back(text) == variables


@pytest.mark.parametrize(
    "value",
    [
        "",
        " leading and trailing ",
        "line1\nline2\n",
        'it\'s "quoted"',
        "C:\\path\\to\\dir\\",
        "a\\\\b",
        "pa$$word#not-a-comment",
        "key=value=more",
        "\r\nwindows",
        "tab\there",
        "日本語 🙂",
        "# looks like a comment",
        "'single'",
    ],
)
def test_examples_round_trip(value: str) -> None:
    assert read_back(f"V={quote_value('V', value)}\n") == {"V": value}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("${HOME}", "python-dotenv always expands"),
        ("it's $5", "mixes '$'"),
        ("a\\\\$b", "mixes '$'"),
        ("nul\x00", "NUL"),
    ],
)
def test_unportable_values_are_refused_with_the_key(value: str, reason: str) -> None:
    with pytest.raises(UnrepresentableValue, match=rf"^SECRET_X: .*{re.escape(reason)}"):
        quote_value("SECRET_X", value)


def test_header_is_ignored_when_comparing() -> None:
    one = render_file(["at 10:00"], {"A": "1"})
    two = render_file(["at 11:00"], {"A": "1"})
    assert one != two
    assert strip_header(one) == strip_header(two) == "A='1'\n"


def test_invalid_names_are_refused() -> None:
    with pytest.raises(UnrepresentableValue, match=r"^'1X': invalid variable name"):
        render_body({"1X": "v"})


@pytest.mark.parametrize(("value", "text"), [(None, ""), (True, "true"), (False, "false"), (3, "3"), (1.5, "1.5"), ("s", "s")])
def test_config_values_as_text(value: object, text: str) -> None:
    assert as_text(value) == text
