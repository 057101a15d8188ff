"""The ${dotenv} lookup, through Runway's own lookup machinery."""

from __future__ import annotations

from pathlib import Path

import pytest
from runway.context import CfnginContext

from runway_ext.lookups import ALL_LOOKUPS, DotenvLookup, register_all


@pytest.fixture
def context(tmp_path: Path) -> CfnginContext:
    (tmp_path / ".env").write_text('PORT=8080\nDEBUG=true\nexport NAME=\'web app\'\nJSON={"a": 1}\nMULTI="l1\\nl2"\nEMPTY=\nBARE\n')
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "prod.env").write_text("PORT=443\n")
    return CfnginContext(config_path=tmp_path / "config.yml")


def test_defaults_to_dot_env_beside_the_config(context: CfnginContext) -> None:
    (context.config_path).write_text("namespace: x\n")
    assert DotenvLookup.handle("PORT", context) == "8080"
    assert DotenvLookup.handle("NAME", context) == "web app"
    assert DotenvLookup.handle("MULTI", context) == "l1\nl2"
    assert DotenvLookup.handle("EMPTY", context) == ""


def test_file_argument_is_relative_to_the_config(context: CfnginContext) -> None:
    assert DotenvLookup.handle("PORT::file=conf/prod.env", context) == "443"


def test_common_args_apply(context: CfnginContext) -> None:
    assert DotenvLookup.handle("DEBUG::transform=bool", context) is True
    assert DotenvLookup.handle("JSON::load=json, get=a", context) == 1
    assert DotenvLookup.handle("NOPE::default=fallback", context) == "fallback"
    assert DotenvLookup.handle("PORT::file=missing.env, default=9", context) == "9"


def test_missing_key_names_file_and_key(context: CfnginContext, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=rf"dotenv: key 'NOPE' not found in {tmp_path}/.env"):
        DotenvLookup.handle("NOPE", context)
    with pytest.raises(ValueError, match="dotenv: key 'BARE' not found"):
        DotenvLookup.handle("BARE", context)


def test_missing_file_is_named(context: CfnginContext, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=rf"dotenv: file {tmp_path}/nope.env not found"):
        DotenvLookup.handle("PORT::file=nope.env", context)


def test_an_unknown_argument_is_refused_by_name(context: CfnginContext) -> None:
    with pytest.raises(ValueError, match=r"^dotenv: fiel: unknown argument$"):
        DotenvLookup.handle("PORT::fiel=conf/prod.env", context)
    with pytest.raises(ValueError, match=r"^dotenv: region: unknown argument$"):
        DotenvLookup.handle("PORT::region=us-east-1", context)
    with pytest.raises(ValueError, match=r"^dotenv: transform: Input should be 'bool' or 'str'$"):
        DotenvLookup.handle("PORT::transform=int", context)
    with pytest.raises(ValueError, match=r"^dotenv: file: String should have at least 1 character$"):
        DotenvLookup.handle("PORT::file=", context)


def test_a_default_is_not_loaded(context: CfnginContext) -> None:
    assert DotenvLookup.handle("NOPE::default=plain, load=json", context) == "plain"
    assert DotenvLookup.handle("JSON::default=plain, load=json, get=a", context) == 1


def test_register_all_puts_handlers_in_cfngin_registry() -> None:
    from runway.cfngin.lookups.registry import CFNGIN_LOOKUP_HANDLERS

    assert register_all() == sorted(ALL_LOOKUPS)
    assert CFNGIN_LOOKUP_HANDLERS["dotenv"] is DotenvLookup
