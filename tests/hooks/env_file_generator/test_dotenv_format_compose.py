"""The .env quoting read by the real ``docker compose`` (as an ``env_file``) equals the input.

Needs the compose v2 plugin (installed by .ci/docker-install.sh); no daemon is needed.
Each generated case is a whole file of several variables, read back in one compose call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from runway_ext.hooks.env_file_generator.dotenv_format import render_file
from tests.hooks.env_file_generator.test_dotenv_format import TRICKY, names, representable, values
from tests.support.docker_engine import compose_read_env_file, compose_unavailable_reason

pytestmark = pytest.mark.skipif(compose_unavailable_reason() is not None, reason=str(compose_unavailable_reason()))


def both_readers(tmp_path: Path, variables: dict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    env_file = tmp_path / "case.env"
    env_file.write_text(render_file(["Written by a test."], variables), encoding="utf-8")
    return dict(dotenv_values(env_file)), compose_read_env_file(env_file)


def test_every_tricky_fragment_reads_back_in_both(tmp_path: Path) -> None:
    variables = {f"V{index}": f"a{fragment}b" for index, fragment in enumerate(TRICKY) if representable(f"a{fragment}b")}
    variables |= {"EMPTY": "", "SPACES": "  both ends  ", "MULTILINE": "one\ntwo\n\nfour", "WIN_PATH": "C:\\dir\\", "QUOTES": 'it\'s "x"'}
    dotenv_read, compose_read = both_readers(tmp_path, variables)
    assert dotenv_read == variables
    assert compose_read == variables


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(variables=st.dictionaries(names, values, min_size=1, max_size=10))
def test_generated_files_read_back_in_both(tmp_path: Path, variables: dict[str, str]) -> None:
    assume(all(representable(value) for value in variables.values()))
    dotenv_read, compose_read = both_readers(tmp_path, variables)
    assert dotenv_read == variables
    assert compose_read == variables
