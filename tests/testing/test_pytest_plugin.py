"""The pytest plugin shipped to users: registered by entry point, lazy, fixtures on a loopback moto server."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

import boto3
import pytest
from runway.context import CfnginContext

from runway_ext.local.moto_server import MotoServer

pytest_plugins = ["pytester"]


REGISTERED_TEST = """
import runway_ext.testing.pytest_plugin as plugin

def test_registered(pytestconfig):
    assert pytestconfig.pluginmanager.get_plugin("runway_ext") is plugin
"""


@pytest.mark.usefixtures("inner_environment")
def test_entry_point_registers_the_plugin_module(pytester: pytest.Pytester) -> None:
    (entry,) = [entry for entry in entry_points(group="pytest11") if entry.name == "runway_ext"]
    assert entry.value == "runway_ext.testing.pytest_plugin"
    pytester.makepyfile(test_registered=REGISTERED_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_aws_fixture_points_clients_at_the_loopback_server(runway_ext_aws: MotoServer) -> None:
    assert runway_ext_aws.endpoint.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ENDPOINT_URL"] == runway_ext_aws.endpoint
    assert "AWS_PROFILE" not in os.environ
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_cfngin_context_is_real_runs_in_its_folder_and_talks_to_moto(cfngin_context: CfnginContext, tmp_path: Path) -> None:
    assert type(cfngin_context) is CfnginContext
    assert Path.cwd() == tmp_path
    cfngin_context.get_session().client("s3").create_bucket(Bucket="made-through-the-context")
    assert [bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]] == ["made-through-the-context"]


def test_run_hook_fixture_returns_the_hook_data(run_hook, cfngin_context: CfnginContext) -> None:  # type: ignore[no-untyped-def]
    hook_data = run_hook("runway_ext.hooks.env_file_generator.cfngin_hook", {"output_file": ".env", "variables": {"A": "1"}})
    assert hook_data is cfngin_context.hook_data
    assert hook_data["runway_ext"]["env_file_generator"]["keys"] == ["A"]
    assert Path(".env").is_file()


INNER_TESTS = '''
import os
import sys

import boto3


def test_a_creates_a_bucket(runway_ext_aws):
    boto3.client("s3").create_bucket(Bucket="left-behind")
    assert os.environ["AWS_ENDPOINT_URL"] == runway_ext_aws.endpoint


def test_b_starts_from_an_empty_server(runway_ext_aws):
    assert boto3.client("s3").list_buckets()["Buckets"] == []


def test_c_environment_is_restored_after_each_test():
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ.get("AWS_PROFILE") == "developer-profile"
'''

LIGHT_TEST = '''
import sys


def test_nothing_heavy_is_loaded_without_fixtures():
    assert "runway_ext.testing.pytest_plugin" in sys.modules
    assert not [name for name in ("moto", "runway", "boto3") if name in sys.modules]
'''


@pytest.fixture
def inner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's shell: a profile set (the fixtures must hide it), no endpoint, plugin autoload on."""
    for name in [name for name in os.environ if name.startswith("AWS_")] + ["PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "developer-profile")


@pytest.mark.usefixtures("inner_environment")
def test_each_test_gets_an_emptied_server_and_its_environment_back(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.usefixtures("inner_environment")
def test_a_session_without_the_fixtures_loads_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_light=LIGHT_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.usefixtures("inner_environment")
def test_the_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_off="def test_off(runway_ext_aws):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:runway_ext", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert "fixture 'runway_ext_aws' not found" in result.stdout.str()
