"""Deploy and delete AWS SAM applications from Runway with the real ``sam`` CLI, without prompts.

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.sam_deploy.cfngin_hook
        args:
          template_file: sam-app/template.yaml
          stack_name: ${namespace}-api
          s3_bucket: ${cfngin_bucket}
          parameters:
            Environment: ${environment}
    post_destroy:
      - path: runway_ext.hooks.sam_deploy.cfngin_delete_hook
        args:
          stack_name: ${namespace}-api

Deploy runs ``sam build`` (unless ``skip_build``) and ``sam deploy`` with the Runway session's
credentials and region, treats "no changes" as success, and deletes a stack left unusable by a
failed creation (``ROLLBACK_COMPLETE`` …) first when ``delete_failed_stack`` is on. Its result
(hook_data ``runway_ext.sam_deploy``) holds the stack's status and Outputs. Delete runs
``sam delete --no-prompts``; ``retain_resources`` keeps resources of a ``DELETE_FAILED`` stack
through CloudFormation's ``DeleteStack``. CLI::

    python -m runway_ext.hooks.sam_deploy deploy --template template.yaml --stack-name s --parameters Env=dev
    python -m runway_ext.hooks.sam_deploy delete --stack-name s --retain-resources MyS3Bucket
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from ..core.args import HookArgs
from ..core.errors import HookError
from ..core.files import atomic_write
from ..core.hook import HookContext, HookGroup, hook, run_module
from ..core.log import is_secret_name, register_secret
from ..core.process import find_executable, run_process
from ..sam_plan import (
    CAPABILITIES,
    LOGICAL_ID,
    MIN_SAM_VERSION,
    STACK_NAME,
    Credentials,
    DeployTarget,
    ParameterError,
    SamCommonOptions,
    app_dir_metadata,
    build_command,
    check_parameter,
    delete_command,
    deploy_command,
    merge_parameters,
    outputs_dict,
    overrides_document,
    parameter_text,
    parse_param_file,
    parse_sam_version,
    plan_delete,
    plan_deploy,
    plan_retain_retry,
    sam_environment,
    secret_parameter_names,
)
from ..sam_stack import (
    Deadline,
    aws_call,
    change_set_ids,
    delete_stack_and_wait,
    describe_stack,
    failed_resources,
    latest_event_id,
    new_change_set,
    present_resources,
    wait_until_settled,
)

INSTALL_HINT = "install the AWS SAM CLI (pip install aws-sam-cli, e.g. in its own virtualenv) or set sam_executable"
VERSION_CHECK_TIMEOUT = 60.0
BUILD_DIR = Path(".aws-sam") / "build"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


# -- arguments ---------------------------------------------------------------------------------


def _check_stack_name(value: str) -> str:
    if not STACK_NAME.match(value):
        raise ValueError(f"{value!r} is not a stack name (a letter, then letters, digits and '-', at most 128)")
    return value


def _check_region(value: str) -> str:
    if not REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region name (like us-east-1)")
    return value


StackName = Annotated[str, AfterValidator(_check_stack_name)]
Region = Annotated[str, AfterValidator(_check_region)]
Timeout = Annotated[int, Field(gt=0)]


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

    region: Region = "us-east-1"
    """AWS region of the stack (inside Runway use ${region} to follow the deployment)."""

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

    delete_failed_stack: bool = True
    """Delete a stack whose creation failed (ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED, DELETE_FAILED) and deploy it anew; with false such a stack is an error."""

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, values: list[str]) -> list[str]:
        unknown = [value for value in values if value not in CAPABILITIES]
        if unknown:
            raise ValueError(f"unknown capabilities {', '.join(unknown)} (known: {', '.join(CAPABILITIES)})")
        return values

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
        return self


class SamDeleteArgs(HookArgs):
    """Arguments of the delete action."""

    stack_name: StackName
    """Name of the CloudFormation stack."""

    region: Region = "us-east-1"
    """AWS region of the stack (inside Runway use ${region} to follow the deployment)."""

    wait: bool = True
    """Wait until the stack is deleted (with sam delete, which also removes its uploaded artifacts). With false CloudFormation's DeleteStack is started and the hook returns at once."""

    timeout: Timeout = 1800
    """Seconds the whole hook may take (waiting for a busy stack and for the deletion)."""

    retain_resources: list[str] = []
    """Logical ids of resources to keep when their deletion fails (CloudFormation can only retain resources of a DELETE_FAILED stack)."""

    @field_validator("retain_resources")
    @classmethod
    def _logical_ids(cls, values: list[str]) -> list[str]:
        bad = [value for value in values if not LOGICAL_ID.match(value)]
        if bad:
            raise ValueError(f"not logical resource ids: {', '.join(repr(value) for value in bad)}")
        return values

    sam_executable: str = "sam"
    """The sam CLI: a name looked up on PATH, or a path to the executable."""


# -- results -----------------------------------------------------------------------------------


class SamDeployResult(BaseModel):
    """What the deploy did (hook_data ``runway_ext.sam_deploy``)."""

    stack_name: str
    stack_id: str | None
    region: str
    status: str
    action: Literal["created", "updated", "unchanged", "executing"]
    changed: bool
    outputs: dict[str, str]
    built: bool
    replaced_failed_stack: str | None = None


class SamDeleteResult(BaseModel):
    """What the delete did (hook_data ``runway_ext.sam_delete``)."""

    stack_name: str
    region: str
    status: str
    deleted: bool
    retained_resources: list[str] = []


# -- helpers -----------------------------------------------------------------------------------


def _session_credentials(ctx: HookContext, region: str) -> Credentials:
    """The session's frozen credentials, registered as secrets so no log line shows them."""
    found = ctx.session(region).get_credentials()
    if found is None:
        raise HookError(f"no AWS credentials found for region {region} (configure a profile, role or AWS_ACCESS_KEY_ID)")
    frozen = found.get_frozen_credentials()
    for value in (frozen.access_key, frozen.secret_key, frozen.token):
        register_secret(value)
    ctx.log.debug("sam gets the session's credentials (%s) through its environment", getattr(found, "method", "unknown source"))
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)


def _resolve_sam(args: SamDeployArgs | SamDeleteArgs, ctx: HookContext, deadline: Deadline) -> str:
    """Find sam and check it is new enough."""
    sam = find_executable(args.sam_executable, install_hint=INSTALL_HINT)
    result = run_process(
        [sam, "--version"],
        what="sam --version",
        timeout=min(VERSION_CHECK_TIMEOUT, deadline.remaining("sam --version")),
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_stdout=True,
        logger=ctx.log,
    )
    version = parse_sam_version(result.stdout)
    if version is None:
        ctx.log.warning("could not read the sam version from %r; continuing", result.stdout.strip())
    elif version < MIN_SAM_VERSION:
        shown = ".".join(map(str, version))
        needed = ".".join(map(str, MIN_SAM_VERSION))
        raise HookError(f"sam_executable: sam {shown} is older than {needed}, the oldest this hook supports; upgrade it (pip install -U aws-sam-cli)")
    else:
        ctx.log.debug("using %s (sam %s)", sam, ".".join(map(str, version)))
    return sam


class _SamRun:
    """A scratch folder for one run: sam's app folder (update check parked) and the parameter file."""

    def __init__(self, ctx: HookContext, credentials: Credentials, region: str) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="runway-ext-sam-")
        root = Path(self._scratch.name)
        app_dir = root / "sam-app-dir"
        app_dir.mkdir(mode=0o700)
        atomic_write(app_dir / "metadata.json", json.dumps(app_dir_metadata(time.time())), mode=0o600)
        self.root = root
        self.env = sam_environment(os.environ, credentials, region, str(app_dir))
        self.ctx = ctx

    def write_overrides(self, parameters: dict[str, str]) -> str | None:
        """Write the parameter overrides file (0600) and return its path (None when there are none)."""
        if not parameters:
            return None
        path = self.root / "parameter-overrides.yaml"
        atomic_write(path, overrides_document(parameters), mode=0o600)
        return str(path)

    def run(self, argv: list[str], *, what: str, cwd: Path, deadline: Deadline) -> None:
        run_process(argv, what=what, timeout=deadline.remaining(what), cwd=cwd, env=self.env, logger=self.ctx.log)

    def close(self) -> None:
        self._scratch.cleanup()

    def __enter__(self) -> _SamRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _existing(base: Path, path: Path, field: str, *, kind: str = "file") -> Path:
    resolved = path if path.is_absolute() else base / path
    if kind == "file" and not resolved.is_file():
        raise HookError(f"{field}: {resolved} is not a file")
    if kind == "dir" and not resolved.is_dir():
        raise HookError(f"{field}: {resolved} is not a folder")
    return resolved.resolve()


def _read_parameters(args: SamDeployArgs, workdir: Path) -> dict[str, str]:
    """param_file merged with parameters (parameters win); every value checked."""
    from_file: dict[str, str] = {}
    if args.param_file is not None:
        path = _existing(workdir, args.param_file, "param_file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HookError(f"param_file: cannot read {path}: {error}") from None
        try:
            from_file = parse_param_file(text, str(args.param_file))
        except ParameterError as error:
            raise HookError(f"param_file: {error}") from None
    try:
        return merge_parameters(from_file, args.parameters)
    except ParameterError as error:
        raise HookError(f"{'param_file' if args.param_file else 'parameters'}: {error}") from None


def _register_secret_parameters(parameters: dict[str, str], template: Path) -> None:
    """NoEcho parameters and secret-looking names: their values are masked in every log line."""
    try:
        no_echo = secret_parameter_names(template.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        no_echo = set()
    for key, value in parameters.items():
        if key in no_echo or is_secret_name(key):
            register_secret(value)


# -- deploy ------------------------------------------------------------------------------------


@hook("sam_deploy", SamDeployArgs, summary="Build and deploy an AWS SAM application with the sam CLI (never prompts).")
def cfngin_hook(args: SamDeployArgs, ctx: HookContext) -> SamDeployResult:
    """Build (unless skipped) and deploy a SAM application; return the stack's status and Outputs."""
    deadline = Deadline(args.timeout)
    workdir = _existing(Path.cwd(), args.working_directory or Path("."), "working_directory", kind="dir")
    template = _existing(workdir, args.template_file, "template_file")
    config_file = _existing(workdir, args.config_file, "config_file") if args.config_file else None
    parameters = _read_parameters(args, workdir)
    _register_secret_parameters(parameters, template)
    sam = _resolve_sam(args, ctx, deadline)
    credentials = _session_credentials(ctx, args.region)
    cfn = ctx.client("cloudformation", args.region)
    name = args.stack_name

    stack = describe_stack(cfn, name)
    decision = plan_deploy(name, stack["StackStatus"] if stack else None, delete_failed_stack=args.delete_failed_stack)
    if decision.action == "wait" and stack is not None:
        stack = wait_until_settled(cfn, stack, deadline, ctx.log)
        decision = plan_deploy(name, stack["StackStatus"] if stack else None, delete_failed_stack=args.delete_failed_stack)
    if decision.action == "refuse":
        raise HookError(decision.reason)

    with _SamRun(ctx, credentials, args.region) as run:
        common = SamCommonOptions(
            sam=sam,
            overrides_file=run.write_overrides(parameters),
            config_file=str(config_file) if config_file else None,
            config_env=args.env,
        )
        deploy_template = template
        if not args.skip_build:
            build_dir = template.parent / BUILD_DIR
            ctx.log.info("sam build %s", template.name)
            run.run(build_command(common, str(template), str(build_dir)), what="sam build", cwd=workdir, deadline=deadline)
            deploy_template = build_dir / "template.yaml"

        replaced = None
        if decision.action == "delete_then_deploy" and stack is not None:
            ctx.log.warning("%s", decision.reason)
            delete_stack_and_wait(cfn, stack, deadline, ctx.log)
            replaced, stack = stack["StackStatus"], None

        previous_id = stack["StackId"] if stack else None
        previous_event = latest_event_id(cfn, previous_id) if previous_id else None
        known_change_sets = change_set_ids(cfn, name) if stack else set()
        target = DeployTarget(
            stack_name=name,
            region=args.region,
            capabilities=args.capabilities,
            s3_bucket=args.s3_bucket,
            s3_prefix=args.s3_prefix,
            resolve_s3=args.resolve_s3,
            execute=args.wait,
        )
        ctx.log.info("sam deploy %s to %s", name, args.region)
        run.run(deploy_command(common, str(deploy_template), target), what="sam deploy", cwd=workdir, deadline=deadline)

    if not args.wait:
        change_set = new_change_set(cfn, name, known_change_sets)
        if change_set is not None:
            aws_call(f"execute change set of {name}", cfn.execute_change_set, ChangeSetName=change_set, StackName=name)
            ctx.log.info("change set of %s started; not waiting (wait: false)", name)

    final = describe_stack(cfn, name)
    if final is None:
        raise HookError(f"sam deploy finished but stack {name} does not exist in {args.region}")
    if not args.wait:
        changed = change_set is not None
        action = "executing" if changed else "unchanged"
    elif final["StackId"] != previous_id:
        changed, action = True, "created"
    else:
        changed = latest_event_id(cfn, final["StackId"]) != previous_event
        action = "updated" if changed else "unchanged"
    if action == "unchanged":
        ctx.log.info("stack %s: no changes to deploy (success)", name)
    else:
        ctx.log.info("stack %s: %s (%s)", name, final["StackStatus"], action)
    return SamDeployResult(
        stack_name=name,
        stack_id=final["StackId"],
        region=args.region,
        status=final["StackStatus"],
        action=action,
        changed=changed,
        outputs=outputs_dict(final),
        built=not args.skip_build,
        replaced_failed_stack=replaced,
    )


# -- delete ------------------------------------------------------------------------------------


@hook("sam_delete", SamDeleteArgs, summary="Delete an AWS SAM application's stack (sam delete --no-prompts).")
def cfngin_delete_hook(args: SamDeleteArgs, ctx: HookContext) -> SamDeleteResult:
    """Delete the stack and its uploaded artifacts; retain listed resources where CloudFormation allows it."""
    deadline = Deadline(args.timeout)
    name = args.stack_name
    sam = _resolve_sam(args, ctx, deadline)
    credentials = _session_credentials(ctx, args.region)
    cfn = ctx.client("cloudformation", args.region)

    stack = describe_stack(cfn, name)
    if stack is not None and args.wait:
        decision = plan_delete(stack["StackStatus"], args.retain_resources)
        if decision.action == "wait":
            stack = wait_until_settled(cfn, stack, deadline, ctx.log)
    if stack is None:
        ctx.log.info("stack %s does not exist in %s; nothing to delete", name, args.region)
        return SamDeleteResult(stack_name=name, region=args.region, status="DELETE_COMPLETE", deleted=False)

    present = present_resources(cfn, stack["StackId"]) if stack["StackStatus"] == "DELETE_FAILED" and args.retain_resources else []
    decision = plan_delete(stack["StackStatus"], args.retain_resources, present)
    if args.retain_resources and decision.action == "sam_delete":
        ctx.log.info("retain_resources: CloudFormation keeps only resources whose deletion fails; the others are deleted")

    if not args.wait:
        kwargs: dict[str, Any] = {"StackName": stack["StackId"]}
        if decision.action == "delete_retaining" and decision.retain:
            kwargs["RetainResources"] = list(decision.retain)
        aws_call(f"delete stack {name}", cfn.delete_stack, **kwargs)
        ctx.log.info("deletion of %s started; not waiting (wait: false; sam's uploaded artifacts are left in place)", name)
        current = describe_stack(cfn, stack["StackId"])
        return SamDeleteResult(
            stack_name=name,
            region=args.region,
            status=current["StackStatus"] if current else "DELETE_COMPLETE",
            deleted=True,
            retained_resources=list(decision.retain),
        )

    if decision.action == "delete_retaining":
        ctx.log.info("stack %s is DELETE_FAILED; deleting it and retaining %s", name, ", ".join(decision.retain) or "nothing")
        delete_stack_and_wait(cfn, stack, deadline, ctx.log, retain=list(decision.retain))
        return SamDeleteResult(stack_name=name, region=args.region, status="DELETE_COMPLETE", deleted=True, retained_resources=list(decision.retain))

    retained: list[str] = []
    with _SamRun(ctx, credentials, args.region) as run:
        try:
            run.run(delete_command(sam, name, args.region), what="sam delete", cwd=Path.cwd(), deadline=deadline)
        except HookError as error:
            current = describe_stack(cfn, stack["StackId"])
            if current is None or current["StackStatus"] != "DELETE_FAILED":
                raise
            failed = failed_resources(cfn, stack["StackId"])
            retained, blocking = plan_retain_retry(failed, args.retain_resources)
            if blocking or not retained:
                raise HookError(
                    f"stack {name} is DELETE_FAILED; resources that could not be deleted: "
                    f"{'; '.join(blocking) or 'see the stack events'}; list them in retain_resources to keep them "
                    f"and finish the deletion\n{error}"
                ) from None
            ctx.log.info("stack %s is DELETE_FAILED; deleting it again and retaining %s", name, ", ".join(retained))
            delete_stack_and_wait(cfn, current, deadline, ctx.log, retain=retained)
    ctx.log.info("stack %s deleted", name)
    return SamDeleteResult(stack_name=name, region=args.region, status="DELETE_COMPLETE", deleted=True, retained_resources=retained)


COMMAND = HookGroup(
    "sam_deploy",
    {"deploy": cfngin_hook, "delete": cfngin_delete_hook},
    summary="Deploy or delete an AWS SAM application with the sam CLI.",
)

if __name__ == "__main__":
    run_module(COMMAND)
