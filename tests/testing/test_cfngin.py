"""Running a hook as Runway does: a real CfnginContext on moto, Runway's own hook runner, lookups, flags."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import boto3
import pytest
from dotenv import dotenv_values
from runway.cfngin.lookups.registry import CFNGIN_LOOKUP_HANDLERS
from runway.context import CfnginContext
from runway.exceptions import FailedVariableLookup

from runway_ext.hooks.env_file_generator import cfngin_hook as env_file_hook
from runway_ext.lookups import DotenvLookup
from runway_ext.testing.cfngin import HookRunFailed, hook_path, make_cfngin_context, registered_lookups, run_hook_as_runway

HOOK_PATH = "runway_ext.hooks.env_file_generator.cfngin_hook"


def test_context_is_real_and_reads_the_environment_of_its_creation(tmp_path: Path) -> None:
    context = make_cfngin_context(
        tmp_path, namespace="shop", environ={"AWS_DEFAULT_REGION": "eu-west-1"}, parameters={"size": "small"}
    )
    assert isinstance(context, CfnginContext)
    assert context.namespace == "shop"
    assert context.env.name == "test"
    assert context.env.aws_region == "eu-west-1"
    assert context.parameters == {"namespace": "shop", "environment": "test", "region": "eu-west-1", "size": "small"}
    assert context.config_path == tmp_path / "config.yml"
    assert context.hook_data == {}


def test_hook_path_of_a_string_and_of_a_hook_object() -> None:
    assert hook_path("pkg.mod.fn") == "pkg.mod.fn"
    assert hook_path(env_file_hook) == HOOK_PATH
    with pytest.raises(TypeError, match="give the path as a string"):
        hook_path(object())


def test_lookups_are_registered_for_the_run_only() -> None:
    before = dict(CFNGIN_LOOKUP_HANDLERS)
    with registered_lookups({"dotenv_test_only": DotenvLookup, "envvar": "runway_ext.lookups.DotenvLookup"}):
        assert CFNGIN_LOOKUP_HANDLERS["dotenv_test_only"] is DotenvLookup
        assert CFNGIN_LOOKUP_HANDLERS["envvar"] is DotenvLookup
    assert CFNGIN_LOOKUP_HANDLERS == before


def test_args_go_through_runway_lookups_and_data_key(cfngin_context: CfnginContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_COLOUR", "green")
    Path("settings.env").write_text("API_URL=https://api.example.test\n")
    boto3.client("ssm").put_parameter(Name="/app/db-name", Value="orders", Type="String")
    args = {
        "output_file": "out/.env",
        "variables": {
            "COLOUR": "${envvar APP_COLOUR}",
            "API_URL": "${dotenv API_URL::file=settings.env}",
            "DB_NAME": "${ssm /app/db-name}",
        },
    }
    hook_data = run_hook_as_runway(cfngin_context, HOOK_PATH, args, data_key="envfile", lookups={"dotenv": DotenvLookup})
    assert dotenv_values("out/.env") == {"COLOUR": "green", "API_URL": "https://api.example.test", "DB_NAME": "orders"}
    assert hook_data["runway_ext"]["env_file_generator"]["action"] == "created"
    assert hook_data["envfile"]["keys"] == ["COLOUR", "API_URL", "DB_NAME"]


def test_a_failed_required_hook_stops_the_run(cfngin_context: CfnginContext) -> None:
    with pytest.raises(HookRunFailed, match="required hook runway_ext.hooks.env_file_generator.cfngin_hook failed in pre_deploy"):
        run_hook_as_runway(cfngin_context, HOOK_PATH, {"variables": {"A": "1"}})
    assert not any(Path.cwd().iterdir())


def test_a_failed_optional_hook_only_warns(cfngin_context: CfnginContext, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    hook_data = run_hook_as_runway(cfngin_context, HOOK_PATH, {"variables": {"A": "1"}}, required=False, stage="post_deploy")
    assert hook_data == {}
    assert "non-required hook runway_ext.hooks.env_file_generator.cfngin_hook failed" in caplog.text


def test_a_disabled_hook_is_not_even_imported(cfngin_context: CfnginContext) -> None:
    assert run_hook_as_runway(cfngin_context, "no_such_module.hook", {"x": "${ssm /nope}"}, enabled=False) == {}


def test_an_unknown_path_fails_as_in_runway(cfngin_context: CfnginContext) -> None:
    with pytest.raises(ImportError):
        run_hook_as_runway(cfngin_context, "no_such_module.hook")


def test_a_failing_lookup_fails_as_in_runway(cfngin_context: CfnginContext) -> None:
    with pytest.raises(FailedVariableLookup):
        run_hook_as_runway(cfngin_context, HOOK_PATH, {"output_file": ".env", "variables": {"A": "${ssm /missing}"}})
    assert not os.path.exists(".env")
