"""The env file generator's arguments: bad input is one line naming the field (CFNgin face), values become text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from runway.context import CfnginContext

from runway_ext.hooks.env_file_generator import EnvFileArgs, cfngin_hook


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"variables": {"A": "1"}}, "output_file: field required"),
        ({"output_file": ".env"}, "variables: field required"),
        ({"output_file": ".env", "variables": {}}, "variables: Dictionary should have at least 1 item"),
        ({"output_file": ".env", "variables": {"1BAD": "x"}}, "variables: invalid variable name '1BAD'"),
        ({"output_file": ".env", "variables": {"A-B": "x"}}, "variables: invalid variable name 'A-B'"),
        ({"output_file": ".env", "variables": {"A": "${HOME}"}}, "variables: A: value contains '${…}'"),
        ({"output_file": ".env", "variables": {"A": {"nested": 1}}}, "variables.A: expected str or int or float or bool"),
        ({"output_file": ".", "variables": {"A": "1"}}, "output_file: '.' is a folder, not a file"),
        ({"output_file": ".env", "variables": {"A": "1"}, "overwite": True}, "overwite: unknown argument"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(
    raw: dict[str, object], message: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    assert cfngin_hook(context=CfnginContext(config_path=tmp_path), provider=None, **raw) is False
    logged = [record.getMessage() for record in caplog.records]
    assert any(line.startswith(f"env_file_generator: {message}") for line in logged), logged


def test_scalars_are_written_as_text() -> None:
    args = EnvFileArgs.model_validate({"output_file": ".env", "variables": {"N": 3, "F": 1.5, "B": True, "E": None}})
    assert args.text_variables() == {"N": "3", "F": "1.5", "B": "true", "E": ""}
