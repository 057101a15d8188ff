"""Helpers of the sam_deploy tests: the fixture app's fingerprint, and the real hook deploying it under a process watch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3

from runway_ext.hooks.sam_deploy import SamDeployArgs, cfngin_hook
from runway_ext.hooks.sam_deploy.fingerprint import fingerprint_inputs
from runway_ext.hooks.sam_deploy.inputs import read_deploy_inputs
from tests.support.process_watch import ProcessWatch

REPO = Path(__file__).resolve().parents[3]
FIXTURE_APP = REPO / "tests" / "fixtures" / "sam_app"
REGION = "us-east-1"
ARTIFACTS = "sam-artifacts"


def digest_of(app: Path, *, environ: dict[str, str] | None = None, **overrides: Any) -> str | None:
    """The fingerprint of deploying ``app``'s template with ``overrides`` (``None``: not provable)."""
    arguments: dict[str, Any] = {"template_file": str(app / "template.yaml"), "stack_name": "s", "parameters": {"BucketName": "b"}}
    arguments.update(overrides)
    args = SamDeployArgs.model_validate(arguments)
    inputs = read_deploy_inputs(args, app)
    return fingerprint_inputs(args, inputs, REGION, "aws-sam-cli 1.170.0", inputs.no_echo, environ or {}).digest


def deploy(sam: str, app: Path, stack: str, **kwargs: Any) -> Any:
    """Run the real hook (CFNgin face) with the real sam against moto; returns the hook's result (``False`` on failure)."""
    arguments: dict[str, Any] = {
        "template_file": str(app / "template.yaml"),
        "stack_name": stack,
        "sam_executable": sam,
        "s3_bucket": ARTIFACTS,
        "skip_build": True,
        "parameters": {"Environment": "dev", "BucketName": f"{stack}-data", "Greeting": "hello", "ApiToken": "none"},
    }
    arguments.update(kwargs)
    return cfngin_hook(None, None, **arguments)


def watched_deploy(sam: str, app: Path, stack: str, **kwargs: Any) -> tuple[Any, list[str]]:
    """:func:`deploy`, and the sam processes for ``app`` seen running meanwhile.

    Only command lines naming the app's folder count (each sam run names its template): the machine
    may run other sam processes at the same time, for other tests.
    """
    with ProcessWatch(sam, os.path.realpath(sam)) as watch:
        result = deploy(sam, app, stack, **kwargs)
    assert watch.polls > 3
    return result, [line for line in watch.seen if str(app) in line]


def cfn() -> Any:
    return boto3.client("cloudformation", region_name=REGION)
