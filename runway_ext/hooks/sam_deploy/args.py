"""Arguments and results of the ``sam_deploy`` (deploy) and ``sam_delete`` (delete) hooks.

Each field's docstring is its config.yml documentation and its CLI help. Everything that can be
checked without touching the disk, AWS or ``sam`` is checked here, so a bad argument is one line
naming the field before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from runway_ext.core.args import HookArgs, Region
from runway_ext.hooks.sam_deploy.parameters import ParameterError, check_parameter, parameter_text
from runway_ext.hooks.sam_deploy.plan import CAPABILITIES, LOGICAL_ID, STACK_NAME, DeployAction


def _check_stack_name(value: str) -> str:
    if not STACK_NAME.match(value):
        raise ValueError(f"{value!r} is not a stack name (a letter, then letters, digits and '-', at most 128)")
    return value


StackName = Annotated[str, AfterValidator(_check_stack_name)]
"""A CloudFormation stack name."""


Timeout = Annotated[int, Field(gt=0)]
"""Seconds, more than zero."""


class SamDeployArgs(HookArgs):
    """Arguments of the deploy action."""

    template_file: Path = Field(json_schema_extra={"cli_aliases": ["template"]})
    """The SAM template (relative to working_directory)."""

    stack_name: StackName
    """Name of the CloudFormation stack."""

    config_file: Path | None = None
    """A samconfig file (relative to working_directory) passed to sam as --config-file."""

    env: str | None = None
    """The environment (section) of the samconfig file to use (sam's --config-env)."""

    parameters: dict[str, str | int | float | bool | None] = {}
    """Template parameter overrides, name -> value; they win over param_file. Values pass unchanged (spaces, '=', quotes)."""

    param_file: Path | None = None
    """JSON file of parameter overrides: {"Name": "value"}, [{"ParameterKey": …, "ParameterValue": …}] or {"Parameters": {…}}."""

    capabilities: list[str] = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    """CloudFormation capabilities to acknowledge (an empty list leaves them to the samconfig file)."""

    region: Region | None = None
    """AWS region of the stack (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    wait: bool = True
    """Wait for the stack update to finish. With false sam only creates the change set; the hook starts it and returns at once."""

    timeout: Timeout = 1800
    """Seconds the whole hook may take (waiting for a busy stack, deleting a failed one, build, deploy)."""

    working_directory: Path | None = None
    """Folder sam runs in and relative paths start from (default: the current directory, Runway's module folder)."""

    skip_build: bool = False
    """Do not run sam build; deploy template_file as it is (point it at .aws-sam/build/template.yaml to deploy an earlier build)."""

    sam_executable: str = "sam"
    """The sam CLI: a name looked up on PATH, or a path to the executable."""

    s3_bucket: str | None = None
    """Bucket sam uploads code and templates to (needed for functions with local code unless the samconfig file names one)."""

    s3_prefix: str | None = None
    """Key prefix for the uploads in s3_bucket."""

    resolve_s3: bool = False
    """Let sam create and use its managed artifacts bucket instead of s3_bucket."""

    create_s3_bucket: bool = False
    """Create s3_bucket (private, public access blocked) when it does not exist yet, and reuse it on later deploys; never deleted by the hook."""

    build_env: list[str] = []  # a plain default (pydantic copies it), so the CLI help can show it
    """Names of environment variables sam build reads (a Makefile's, a build tool's): their values count for the skip, as a slow salted hash. Only these count."""

    force: bool = False
    """Build and deploy even when the stack provably holds these inputs already (the skip is otherwise automatic: see the docs)."""

    delete_failed_stack: bool = True
    """Delete a stack whose creation failed (ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED, DELETE_FAILED) and deploy it anew; with false such a stack is an error."""

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, values: list[str]) -> list[str]:
        unknown = [value for value in values if value not in CAPABILITIES]
        if unknown:
            raise ValueError(f"unknown capabilities {', '.join(unknown)} (known: {', '.join(CAPABILITIES)})")
        return values

    @field_validator("build_env")
    @classmethod
    def _build_env(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name or "=" in name or "\0" in name:
                raise ValueError(f"{name!r} is not an environment variable name")
        return names

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, values: dict[str, Any]) -> dict[str, Any]:
        for key, value in values.items():
            try:
                check_parameter(key, parameter_text(value))
            except ParameterError as error:
                raise ValueError(str(error)) from None
        return values

    @field_validator("template_file")
    @classmethod
    def _template(cls, value: Path) -> Path:
        if str(value) in ("", "."):
            raise ValueError("a template file is required")
        return value

    @model_validator(mode="after")
    def _one_bucket_source(self) -> SamDeployArgs:
        if self.s3_bucket and self.resolve_s3:
            raise ValueError("s3_bucket and resolve_s3 exclude each other; choose one")
        if self.create_s3_bucket and not self.s3_bucket:
            raise ValueError("create_s3_bucket needs s3_bucket (the name of the bucket to create and reuse)")
        return self


class SamDeleteArgs(HookArgs):
    """Arguments of the delete action."""

    stack_name: StackName
    """Name of the CloudFormation stack."""

    region: Region | None = None
    """AWS region of the stack (default: the deploy's region inside Runway; from the CLI AWS_REGION/AWS_DEFAULT_REGION or the profile's; us-east-1 when nothing says otherwise)."""

    wait: bool = True
    """Wait until the stack is deleted (with sam delete, which also removes its uploaded artifacts). With false CloudFormation's DeleteStack is started and the hook returns at once."""

    timeout: Timeout = 1800
    """Seconds the whole hook may take (waiting for a busy stack and for the deletion)."""

    retain_resources: list[str] = []
    """Logical ids of resources to keep when their deletion fails (CloudFormation can only retain resources of a DELETE_FAILED stack)."""

    sam_executable: str = "sam"
    """The sam CLI: a name looked up on PATH, or a path to the executable."""

    @field_validator("retain_resources")
    @classmethod
    def _logical_ids(cls, values: list[str]) -> list[str]:
        bad = [value for value in values if not LOGICAL_ID.match(value)]
        if bad:
            raise ValueError(f"not logical resource ids: {', '.join(repr(value) for value in bad)}")
        return values


class SamDeployResult(BaseModel):
    """What the deploy did (hook_data ``runway_ext.sam_deploy``)."""

    stack_name: str
    stack_id: str | None
    region: str
    status: str
    action: DeployAction
    changed: bool
    outputs: dict[str, str]
    built: bool
    replaced_failed_stack: str | None = None
    skipped: bool = False
    """True when sam was not run because the stack provably holds these inputs already."""
    fingerprint: str | None = None
    """The inputs' fingerprint recorded on the stack (tag ``runway-ext:sam-deploy``); None when they could not be fingerprinted."""


class SamDeleteResult(BaseModel):
    """What the delete did (hook_data ``runway_ext.sam_delete``)."""

    stack_name: str
    region: str
    status: str
    deleted: bool
    retained_resources: list[str] = []
