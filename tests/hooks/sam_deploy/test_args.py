"""The sam_deploy / sam_delete argument models: defaults and one-line validation errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.sam_deploy import SamDeleteArgs, SamDeployArgs, cfngin_delete_hook, cfngin_hook


def deploy_errors(**kwargs: Any) -> str:
    with pytest.raises(HookError) as caught:
        cfngin_hook.parse({"template_file": "template.yaml", "stack_name": "app", **kwargs})
    return str(caught.value)


def test_defaults() -> None:
    args = SamDeployArgs.model_validate({"template_file": "template.yaml", "stack_name": "app"})
    assert args.region is None  # the deploy's region (Runway) or the environment's (CLI)
    assert (args.wait, args.timeout, args.skip_build, args.delete_failed_stack) == (True, 1800, False, True)
    assert args.capabilities == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    delete = SamDeleteArgs(stack_name="app")
    assert (delete.region, delete.wait, delete.retain_resources) == (None, True, [])


def test_region_is_checked_when_given() -> None:
    assert cfngin_hook.parse({"template_file": "t.yaml", "stack_name": "app", "region": "eu-west-1"}).region == "eu-west-1"
    assert deploy_errors(region="Europe") == "region: invalid region 'Europe' (expected a name like us-east-1)"
    with pytest.raises(HookError, match="^region: invalid region"):
        cfngin_delete_hook.parse({"stack_name": "app", "region": "us_east_1"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stack_name": "9bad"}, "stack_name: '9bad' is not a stack name"),
        ({"stack_name": "a" * 129}, "stack_name: "),
        ({"template_file": ""}, "template_file: a template file is required"),
        ({"capabilities": ["CAPABILITY_IAM", "CAPABILITY_ALL"]}, "capabilities: unknown capabilities CAPABILITY_ALL"),
        ({"parameters": {"Bad-Key": "x"}}, "parameters: 'Bad-Key' is not a CloudFormation parameter name"),
        ({"parameters": {"Greeting": "a\\ b"}}, "parameters: Greeting: value contains"),
        ({"s3_bucket": "b", "resolve_s3": True}, "s3_bucket and resolve_s3 exclude each other"),
        ({"timeout": 0}, "timeout: Input should be greater than 0"),
        ({"stack": "x"}, "stack: unknown argument"),
    ],
)
def test_bad_deploy_arguments(kwargs: dict[str, Any], message: str) -> None:
    assert message in deploy_errors(**kwargs)


def test_bad_retain_resources() -> None:
    with pytest.raises(HookError, match=r"retain_resources: not logical resource ids: 'my-bucket'"):
        cfngin_delete_hook.parse({"stack_name": "app", "retain_resources": ["Good", "my-bucket"]})
