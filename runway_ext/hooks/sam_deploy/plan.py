"""Pure decisions of the ``sam_deploy`` hook: parameters, stack states, ``sam`` command lines, outcomes.

Nothing here touches the network, the disk or a process (:mod:`.inputs`, :mod:`.stack` and
:mod:`.sam_cli` do that); the hook asks these functions what to do:

* **Parameters** — the ``param_file`` (JSON) and the ``parameters`` dict are merged (the dict
  wins) and written to a small YAML file that ``sam`` reads with
  ``--parameter-overrides file://…``, so values never appear on a command line. Each value is
  wrapped in double quotes in that file because ``sam`` strips one pair of wrapping quotes from
  every override; that keeps spaces, ``=``, quotes and a value that is itself quoted intact.
  ``sam`` also turns ``\\<space>``, ``\\"`` and ``\\'`` into the bare character whatever the
  quoting, so a value holding one of those three pairs cannot pass unchanged and is refused.
* **Stack states** — a stack's CloudFormation status is classified into what a deploy can do
  with it (create/update, wait, delete first, or stop for an operator) and what a delete can do.
* **Commands** — ``sam build`` / ``sam deploy`` / ``sam delete`` argv lists that never prompt,
  and the environment ``sam`` runs with.
* **Outcomes** — what a finished deploy did (created, updated, unchanged, executing), read from
  the stack before and after.
* **Skipping** — whether the stack provably already holds what these inputs deploy (see
  :func:`plan_skip`): the inputs' fingerprint recorded in a stack tag by the deploy that made the
  stack's current state, and no stack operation since.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePath
from typing import Any, Literal

STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
"""CloudFormation's rule for stack names."""

PARAMETER_KEY = re.compile(r"^[A-Za-z0-9]{1,255}$")
"""CloudFormation's rule for template parameter names."""

LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
"""CloudFormation's rule for logical resource ids."""

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND", "CAPABILITY_RESOURCE_POLICY")
"""The capabilities CloudFormation knows."""

MIN_SAM_VERSION = (1, 170, 0)
"""Oldest ``sam`` this hook is tested with (it relies on ``--parameter-overrides file://…``)."""

# sam unescapes these pairs in every override value, quoted or not (samcli.cli.types).
_UNPASSABLE_PAIR = re.compile(r"\\[ \"']")


class ParameterError(ValueError):
    """A parameter (or the parameter file) that cannot be handed to ``sam`` as written."""


# -- parameters --------------------------------------------------------------------------------


def parameter_text(value: object) -> str:
    """How a parameter value is sent: booleans as true/false, lists comma-joined, null as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(parameter_text(item) for item in value)
    return str(value)


def check_parameter(key: str, value: str) -> None:
    """Raise :class:`ParameterError` if ``key`` is not a parameter name or ``value`` cannot pass through ``sam``."""
    if not PARAMETER_KEY.match(key):
        raise ParameterError(f"{key!r} is not a CloudFormation parameter name (letters and digits only)")
    if "\x00" in value:
        raise ParameterError(f"{key}: value contains a NUL character")
    pair = _UNPASSABLE_PAIR.search(value)
    if pair:
        raise ParameterError(
            f"{key}: value contains {pair.group(0)!r}; sam turns a backslash before a space or quote into the bare "
            "character, so the value would not reach CloudFormation unchanged"
        )


def parse_param_file(text: str, source: str) -> dict[str, str]:
    """Read a parameter file's JSON: an object ``{"Key": "value"}``, CloudFormation's list
    ``[{"ParameterKey": …, "ParameterValue": …}]``, or ``{"Parameters": {…}}`` (CodePipeline's
    template configuration). ``source`` names the file in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParameterError(f"{source}: invalid JSON ({error.msg} at line {error.lineno})") from None
    if isinstance(data, dict) and set(data) <= {"Parameters", "Tags", "StackPolicy"} and isinstance(data.get("Parameters"), dict):
        data = data["Parameters"]
    pairs: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict,)):
                raise ParameterError(f"{source}: value of {key!r} must be a string, number, boolean or list")
            pairs[str(key)] = parameter_text(value)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if not isinstance(item, dict) or "ParameterKey" not in item:
                raise ParameterError(f'{source}: item {index} is not {{"ParameterKey": …, "ParameterValue": …}}')
            if item.get("UsePreviousValue"):
                raise ParameterError(f"{source}: item {index} uses UsePreviousValue, which sam deploy does not support")
            pairs[str(item["ParameterKey"])] = parameter_text(item.get("ParameterValue"))
    else:
        raise ParameterError(f"{source}: expected a JSON object of parameters or a list of ParameterKey/ParameterValue items")
    return pairs


def merge_parameters(from_file: Mapping[str, str], from_args: Mapping[str, object]) -> dict[str, str]:
    """The parameter file's values overlaid with the ``parameters`` dict (the dict wins); all checked."""
    merged = dict(from_file)
    merged.update({key: parameter_text(value) for key, value in from_args.items()})
    for key, value in merged.items():
        check_parameter(key, value)
    return merged


def overrides_document(parameters: Mapping[str, str]) -> str:
    """The ``--parameter-overrides file://…`` document (YAML, written in its JSON subset).

    Each value is wrapped in one pair of double quotes, which ``sam`` strips again, so a value
    that itself starts and ends with a quote keeps its quotes.
    """
    return json.dumps({key: f'"{value}"' for key, value in parameters.items()}, indent=2, ensure_ascii=True) + "\n"


def secret_parameter_names(template_text: str) -> set[str]:
    """Names of the template's ``NoEcho`` parameters (their values are treated as secrets).

    The template is read with a YAML loader that accepts CloudFormation's short tags
    (``!Ref``…); an unreadable template yields an empty set (``sam`` reports it properly).
    """
    import yaml

    class _TolerantLoader(yaml.SafeLoader):
        pass

    _TolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        document = yaml.load(template_text, Loader=_TolerantLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError:
        return set()
    parameters = document.get("Parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict):
        return set()
    return {str(name) for name, spec in parameters.items() if isinstance(spec, dict) and str(spec.get("NoEcho", "")).lower() == "true"}


# -- stack states ------------------------------------------------------------------------------


class StackCondition(str, Enum):
    """What a stack's status means for a deploy."""

    ABSENT = "absent"
    """No stack (or only a deleted one): sam creates it."""
    READY = "ready"
    """sam can create a change set for it (create or update)."""
    BUSY = "busy"
    """An operation is running: wait for it to settle, then look again."""
    FAILED_CREATE = "failed_create"
    """Its creation failed (or a delete did): CloudFormation allows nothing but deleting it."""
    NEEDS_OPERATOR = "needs_operator"
    """A failed rollback of a stack that once worked: a person must decide (never deleted for them)."""


READY_STATES = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_FAILED",  # left by a failed update with rollback disabled; CloudFormation accepts a new update
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",  # a stack made by a change set never executed; sam creates a new change set
    }
)
FAILED_CREATE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
NEEDS_OPERATOR_STATES = frozenset({"UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"})


def classify_stack(status: str | None) -> StackCondition:
    """Classify a CloudFormation ``StackStatus`` (``None`` when there is no stack)."""
    if status is None or status == "DELETE_COMPLETE":
        return StackCondition.ABSENT
    if status in READY_STATES:
        return StackCondition.READY
    if status in FAILED_CREATE_STATES:
        return StackCondition.FAILED_CREATE
    if status in NEEDS_OPERATOR_STATES:
        return StackCondition.NEEDS_OPERATOR
    if status.endswith("_IN_PROGRESS"):
        return StackCondition.BUSY
    return StackCondition.NEEDS_OPERATOR


@dataclass(frozen=True)
class DeployDecision:
    """What to do before running ``sam deploy``."""

    action: Literal["deploy", "wait", "delete_then_deploy", "refuse"]
    reason: str = ""


def plan_deploy(stack_name: str, status: str | None, *, delete_failed_stack: bool) -> DeployDecision:
    """Decide how to deploy over a stack in ``status`` (``None``: no stack)."""
    condition = classify_stack(status)
    if condition in (StackCondition.ABSENT, StackCondition.READY):
        return DeployDecision("deploy")
    if condition is StackCondition.BUSY:
        return DeployDecision("wait", f"stack {stack_name} is {status}")
    if condition is StackCondition.FAILED_CREATE:
        if delete_failed_stack:
            return DeployDecision("delete_then_deploy", f"stack {stack_name} is {status}; deleting it before deploying again")
        return DeployDecision(
            "refuse",
            f"stack {stack_name} is {status}: CloudFormation can only delete it; set delete_failed_stack: true "
            "(--delete-failed-stack) to delete it and deploy again, or delete it yourself",
        )
    advice = (
        "continue the rollback (aws cloudformation continue-update-rollback) or delete the stack yourself"
        if status == "UPDATE_ROLLBACK_FAILED"
        else "resolve it in CloudFormation first"
    )
    return DeployDecision(
        "refuse",
        f"stack {stack_name} is {status}: a rollback of a stack that once worked failed; it is never deleted "
        f"automatically (not even with delete_failed_stack); {advice}",
    )


@dataclass(frozen=True)
class DeleteDecision:
    """What the delete hook does with a stack."""

    action: Literal["nothing", "wait", "sam_delete", "delete_retaining", "start_delete"]
    """``nothing`` (no stack), ``wait`` (busy: settle first, then decide again), ``sam_delete``,
    ``delete_retaining`` (DeleteStack keeping ``retain``, then wait), ``start_delete`` (DeleteStack, no wait)."""
    retain: tuple[str, ...] = ()
    reason: str = ""


def retains_resources(status: str | None, retain_resources: Sequence[str]) -> bool:
    """Whether deleting a stack in ``status`` can keep resources (then the stack's present resources are needed).

    CloudFormation keeps resources (``RetainResources``) only when deleting a stack that is already
    ``DELETE_FAILED``.
    """
    return status == "DELETE_FAILED" and bool(retain_resources)


def plan_delete(
    status: str | None, retain_resources: Sequence[str], present_resources: Iterable[str] = (), *, wait: bool = True
) -> DeleteDecision:
    """Decide how to delete a stack in ``status``.

    For a ``DELETE_FAILED`` stack with ``retain_resources`` (see :func:`retains_resources`) the
    listed resources still in the stack (``present_resources``) are retained and the rest deleted.
    Any other stack is deleted by ``sam delete`` (which also removes its uploaded artifacts), after
    waiting for a running operation to settle. Without ``wait`` CloudFormation's DeleteStack is only
    started (sam's uploaded artifacts are left in place).
    """
    if classify_stack(status) is StackCondition.ABSENT:
        return DeleteDecision("nothing", reason="no such stack")
    retain: tuple[str, ...] = ()
    if retains_resources(status, retain_resources):
        present = set(present_resources)
        retain = tuple(name for name in retain_resources if name in present)
    if not wait:
        return DeleteDecision("start_delete", retain)
    if retains_resources(status, retain_resources):
        return DeleteDecision("delete_retaining", retain)
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return DeleteDecision("wait", reason=f"stack is {status}")
    if retain_resources:
        return DeleteDecision(
            "sam_delete", reason="retain_resources: CloudFormation keeps only resources whose deletion fails; the others are deleted"
        )
    return DeleteDecision("sam_delete")


def plan_retain_retry(failed_resources: Mapping[str, str], retain_resources: Sequence[str]) -> tuple[list[str], list[str]]:
    """After a delete ended ``DELETE_FAILED``: which failed resources to retain on a retry, and which block it.

    ``failed_resources`` maps logical id -> CloudFormation's reason. A retry can only succeed if
    every failed resource is retained, so the retry happens only when all are in
    ``retain_resources``; the second list names those that are not (with their reasons).
    """
    wanted = set(retain_resources)
    retain = [name for name in failed_resources if name in wanted]
    blocking = {name: reason for name, reason in failed_resources.items() if name not in wanted}
    return retain, _failure_items(blocking)


def describe_failures(failed_resources: Mapping[str, str]) -> str:
    """``Bucket (not empty); Role`` for resources whose deletion failed (``see the stack events`` if none are known)."""
    return "; ".join(_failure_items(failed_resources)) or "see the stack events"


def _failure_items(failed_resources: Mapping[str, str]) -> list[str]:
    return [f"{name} ({reason})" if reason else name for name, reason in failed_resources.items()]


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamCommonOptions:
    """Options shared by ``sam build`` and ``sam deploy``."""

    sam: str
    overrides_file: str | None = None
    config_file: str | None = None
    config_env: str | None = None

    def arguments(self) -> list[str]:
        """The shared flags."""
        argv: list[str] = []
        if self.config_file:
            argv += ["--config-file", self.config_file]
        if self.config_env:
            argv += ["--config-env", self.config_env]
        if self.overrides_file:
            argv += ["--parameter-overrides", f"file://{self.overrides_file}"]
        return argv


BUILD_DIR = PurePath(".aws-sam") / "build"
"""Where ``sam build`` puts its output, beside the template (sam's own default)."""


def build_layout(template: PurePath) -> tuple[PurePath, PurePath]:
    """The build folder of ``template`` and the template ``sam build`` writes there (what is then deployed)."""
    build_dir = template.parent / BUILD_DIR
    return build_dir, build_dir / "template.yaml"


def build_command(common: SamCommonOptions, template: str, build_dir: str) -> list[str]:
    """``sam build`` of ``template`` into ``build_dir`` (no container, no prompt)."""
    return [common.sam, "build", "--template-file", template, "--build-dir", build_dir, *common.arguments()]


@dataclass(frozen=True)
class DeployTarget:
    """Where and how ``sam deploy`` deploys."""

    stack_name: str
    region: str
    capabilities: Sequence[str] = ()
    s3_bucket: str | None = None
    s3_prefix: str | None = None
    resolve_s3: bool = False
    execute: bool = True
    tags: Sequence[str] = ()
    """``--tags`` values (each ``Key=Value`` pairs as sam reads them): the samconfig's own, then the hook's record."""


def deploy_command(common: SamCommonOptions, template: str, target: DeployTarget) -> list[str]:
    """``sam deploy`` that never prompts and treats "no changes" as success."""
    argv = [
        common.sam,
        "deploy",
        "--template-file",
        template,
        "--stack-name",
        target.stack_name,
        "--region",
        target.region,
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--no-progressbar",
    ]
    if target.capabilities:
        argv += ["--capabilities", *target.capabilities]
    if target.s3_bucket:
        argv += ["--s3-bucket", target.s3_bucket]
    if target.s3_prefix:
        argv += ["--s3-prefix", target.s3_prefix]
    if target.resolve_s3:
        argv.append("--resolve-s3")
    if not target.execute:
        argv.append("--no-execute-changeset")
    if target.tags:
        argv += ["--tags", *target.tags]
    return argv + common.arguments()


def delete_command(sam: str, stack_name: str, region: str) -> list[str]:
    """``sam delete`` without prompts (it also deletes the stack's uploaded artifacts)."""
    return [sam, "delete", "--stack-name", stack_name, "--region", region, "--no-prompts"]


# -- environment -------------------------------------------------------------------------------

_DROPPED_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)


@dataclass(frozen=True)
class Credentials:
    """Frozen AWS credentials of the session (never put on a command line)."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        """Never show the values."""
        return "Credentials(***)"


def sam_environment(base: Mapping[str, str], credentials: Credentials, region: str, app_dir: str) -> dict[str, str]:
    """The environment ``sam`` runs with: the session's credentials and region, no profile, quiet.

    Other credential sources (profiles, web identity, container endpoints) are removed so ``sam``
    deploys with exactly the credentials of the session, to the same account. Telemetry is off,
    the update check is parked by ``app_dir`` (see :func:`app_dir_metadata`), output unbuffered.
    Runway's ``CFNGIN_STACK_POLL_TIME`` becomes sam's ``SAM_CLI_POLL_DELAY`` unless that is set.
    """
    env = {name: value for name, value in base.items() if name not in _DROPPED_VARIABLES}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "SAM_CLI_TELEMETRY": "0",
            "__SAM_CLI_APP_DIR": app_dir,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if "SAM_CLI_POLL_DELAY" not in env and env.get("CFNGIN_STACK_POLL_TIME"):
        env["SAM_CLI_POLL_DELAY"] = env["CFNGIN_STACK_POLL_TIME"]
    if credentials.token:
        env["AWS_SESSION_TOKEN"] = credentials.token
    return env


def app_dir_metadata(now_epoch: float) -> dict[str, Any]:
    """``metadata.json`` for sam's app folder: telemetry off and the last update check a year ahead,
    so ``sam`` does not ask PyPI for a newer version."""
    return {"telemetryEnabled": False, "lastVersionCheck": now_epoch + 365 * 24 * 3600}


def parse_sam_version(text: str) -> tuple[int, ...] | None:
    """The version in ``sam --version`` output (``SAM CLI, version 1.170.0``), or ``None``."""
    match = re.search(r"version\s+(\d+(?:\.\d+)+)", text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def version_text(version: Sequence[int]) -> str:
    """``(1, 170, 0)`` → ``1.170.0``."""
    return ".".join(map(str, version))


def sam_version_problem(version: Sequence[int]) -> str | None:
    """Why a ``sam`` of ``version`` cannot be used (older than :data:`MIN_SAM_VERSION`), or ``None``."""
    if tuple(version) >= MIN_SAM_VERSION:
        return None
    return (
        f"sam_executable: sam {version_text(version)} is older than {version_text(MIN_SAM_VERSION)}, the oldest this hook "
        "supports; upgrade it (pip install -U aws-sam-cli)"
    )


# -- outcomes ----------------------------------------------------------------------------------

DeployAction = Literal["created", "updated", "unchanged", "executing"]
"""What a deploy did to the stack."""


def deploy_outcome(
    *,
    waited: bool,
    change_set_started: bool,
    previous_stack_id: str | None,
    final_stack_id: str,
    previous_event: str | None,
    latest_event: str | None,
) -> tuple[DeployAction, bool]:
    """What a finished ``sam deploy`` did, and whether the stack changed.

    Without waiting, a change set the hook started means ``executing``. Otherwise a stack id
    other than the one before the deploy means ``created``; the same stack changed exactly when
    its newest event did (``updated``), which holds on real AWS where a no-change deploy leaves
    no event; anything else is ``unchanged``.
    """
    if not waited:
        return ("executing", True) if change_set_started else ("unchanged", False)
    if final_stack_id != previous_stack_id:
        return "created", True
    if latest_event != previous_event:
        return "updated", True
    return "unchanged", False


def newest_available_change_set(summaries: Iterable[Mapping[str, Any]], stack_name: str, known: Iterable[str]) -> str | None:
    """Id of the newest change set of ``stack_name`` that is ready to execute and not in ``known`` (``None``: none)."""
    seen = set(known)
    fresh = [
        item
        for item in summaries
        if item.get("StackName") == stack_name and item.get("ChangeSetId") not in seen and item.get("ExecutionStatus") == "AVAILABLE"
    ]
    fresh.sort(key=lambda item: str(item.get("CreationTime", "")))
    return str(fresh[-1]["ChangeSetId"]) if fresh else None


# -- results -----------------------------------------------------------------------------------


def outputs_dict(stack: Mapping[str, Any]) -> dict[str, str]:
    """A ``describe_stacks`` stack's Outputs as ``{OutputKey: OutputValue}``."""
    return {str(item["OutputKey"]): str(item.get("OutputValue", "")) for item in stack.get("Outputs") or []}


def parameters_dict(stack: Mapping[str, Any]) -> dict[str, str]:
    """A ``describe_stacks`` stack's Parameters as ``{ParameterKey: ParameterValue}``."""
    return {str(item["ParameterKey"]): str(item.get("ParameterValue", "")) for item in stack.get("Parameters") or []}


# -- skipping an unchanged deploy --------------------------------------------------------------

RECORD_TAG = "runway-ext:sam-deploy"
"""The stack tag in which each deploy records the fingerprint of its inputs (and where the stack stood before)."""

RECORD_VERSION = "v1"
"""Version of the record's format and of what the fingerprint covers; a new version never matches an old record."""

CHANGING_INPUTS = "changed-during-build"
"""Recorded instead of a fingerprint when the inputs changed while ``sam build`` ran: it matches no fingerprint."""

NEW_STACK_MARKER = "new"
"""The record's marker when the deploy created the stack (there was no event before it)."""

SKIPPABLE_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
"""Stack states a skip can stand on: the last operation succeeded (a rollback, failure or import never counts)."""

OPERATION_STARTS = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "IMPORT_IN_PROGRESS",
        "DELETE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_IN_PROGRESS",
    }
)
"""Stack-level event statuses that start an operation on the stack (``REVIEW_IN_PROGRESS`` only
reserves a new stack's name for a change set; the ``…_CLEANUP_IN_PROGRESS`` states end one)."""

ARTIFACT_KEYS = frozenset(
    {
        # what ``sam package`` uploads from a local path (samcli.lib.utils.resources), any resource type
        "CodeUri",
        "ContentUri",
        "DefinitionUri",
        "DefinitionS3Location",
        "RequestMappingTemplateS3Location",
        "ResponseMappingTemplateS3Location",
        "CodeS3Location",
        "SchemaUri",
        "Code",
        "Content",
        "BodyS3Location",
        "SourceBundle",
        "ModulePackage",
        "SchemaHandlerPackage",
        "TemplateURL",
        "Location",
        "ScriptLocation",
        "LicenseUrl",
        "ReadmeUrl",
        # what ``sam build`` builds an image function from
        "DockerContext",
        "Dockerfile",
    }
)
"""Template keys whose string value may name a local file or folder that ``sam`` builds or uploads."""

NESTED_TEMPLATE_TYPES = frozenset({"AWS::Serverless::Application", "AWS::CloudFormation::Stack"})
"""Resource types whose local ``Location``/``TemplateURL`` is itself a template with local paths of its own."""


def event_marker(event_id: str | None) -> str:
    """The record's short, tag-safe stand-in for the stack's newest event id before a deploy."""
    if event_id is None:
        return NEW_STACK_MARKER
    import hashlib

    return hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:20]


def record_value(fingerprint: str, previous_event: str | None) -> str:
    """The tag value a deploy records: ``v1:<fingerprint>:<marker of the newest event before it>``."""
    return f"{RECORD_VERSION}:{fingerprint}:{event_marker(previous_event)}"


def record_tag(fingerprint: str, previous_event: str | None) -> str:
    """The record as a ``sam deploy --tags`` item."""
    return f"{RECORD_TAG}={record_value(fingerprint, previous_event)}"


@dataclass(frozen=True)
class DeployRecord:
    """What a deploy recorded on the stack."""

    fingerprint: str
    marker: str


def read_record(stack: Mapping[str, Any]) -> DeployRecord | None:
    """The record in a ``describe_stacks`` stack's tags (``None``: none, or another version's)."""
    for tag in stack.get("Tags") or []:
        if tag.get("Key") == RECORD_TAG:
            version, _, rest = str(tag.get("Value", "")).partition(":")
            fingerprint, _, marker = rest.partition(":")
            if version == RECORD_VERSION and fingerprint and marker:
                return DeployRecord(fingerprint, marker)
    return None


@dataclass(frozen=True)
class SkipDecision:
    """Whether the deploy can be skipped; ``reason`` says why (or why not) in a few words."""

    skip: bool
    reason: str
    record: DeployRecord | None = None


def plan_skip(stack: Mapping[str, Any] | None, fingerprint: str | None, *, force: bool) -> SkipDecision:
    """First half of the skip decision, from the stack alone: is there a successful stack recording these inputs?

    A ``skip`` here is provisional: :func:`operations_since` must then find exactly one stack
    operation (the recording deploy) since the record's marker.
    """
    if force:
        return SkipDecision(False, "force: true")
    if fingerprint is None:
        return SkipDecision(False, "the inputs could not be fingerprinted")
    if stack is None:
        return SkipDecision(False, "no stack yet")
    status = str(stack.get("StackStatus"))
    if status not in SKIPPABLE_STATES:
        return SkipDecision(False, f"stack is {status}")
    record = read_record(stack)
    if record is None:
        return SkipDecision(False, f"stack has no {RECORD_TAG} tag of this hook version")
    if record.fingerprint != fingerprint:
        return SkipDecision(False, "inputs changed since the last deploy")
    return SkipDecision(True, "inputs unchanged", record)


def is_operation_start(event: Mapping[str, Any], stack_name: str, stack_id: str) -> bool:
    """Whether ``event`` starts an operation on the stack itself (not on a resource or nested stack)."""
    if event.get("ResourceType") != "AWS::CloudFormation::Stack" or event.get("LogicalResourceId") != stack_name:
        return False
    physical = event.get("PhysicalResourceId")
    return (not physical or physical == stack_id) and event.get("ResourceStatus") in OPERATION_STARTS


def operations_since(events_newest_first: Iterable[Mapping[str, Any]], marker: str, stack_name: str, stack_id: str) -> int | None:
    """How many stack operations started after the event ``marker`` stands for (``None``: marker not among the events).

    For :data:`NEW_STACK_MARKER` every event counts (the record was made by the stack's creation).
    Exactly one means the deploy that wrote the record made the stack's current state; more mean
    something changed the stack since (an update by hand, in the console, by another tool — even one
    that changed only tags or parameters).
    """
    count = 0
    for event in events_newest_first:
        if marker != NEW_STACK_MARKER and event_marker(str(event.get("EventId"))) == marker:
            return count
        if is_operation_start(event, stack_name, stack_id):
            count += 1
    return count if marker == NEW_STACK_MARKER else None


def unchanged_by_others(operations: int | None) -> SkipDecision:
    """Second half of the skip decision, from the stack's events."""
    if operations is None:
        return SkipDecision(False, "the stack's events no longer reach back to the recorded deploy")
    if operations != 1:
        return SkipDecision(False, f"the stack was changed since the recorded deploy ({operations} operations since)")
    return SkipDecision(True, "inputs unchanged and the stack untouched since the recorded deploy")


def samconfig_tags(document: Mapping[str, Any], env: str | None) -> list[str]:
    """The ``tags`` a samconfig document gives ``sam deploy`` in ``env`` (``default``), as ``--tags`` items.

    sam takes command-line ``--tags`` instead of the samconfig's, so the hook passes these first,
    then its record: the stack keeps the tags its samconfig sets.
    """
    section = document.get(env or "default")
    if not isinstance(section, Mapping):
        return []
    for command in ("deploy", "global"):
        parameters = section.get(command, {}).get("parameters", {}) if isinstance(section.get(command), Mapping) else {}
        tags = parameters.get("tags") if isinstance(parameters, Mapping) else None
        if isinstance(tags, str) and tags.strip():
            return [tags]
        if isinstance(tags, list):
            return [str(item) for item in tags if str(item).strip()]
    return []


def load_template_document(template_text: str) -> Any:
    """A template's YAML/JSON as plain data, intrinsic functions (``!Ref x``) read as their argument (``x``)."""
    import yaml

    class _IntrinsicLoader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    _IntrinsicLoader.add_multi_constructor("!", construct)
    return yaml.load(template_text, Loader=_IntrinsicLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class ArtifactPaths:
    """The local paths a template makes ``sam`` build or upload, as written in it."""

    paths: tuple[str, ...]
    unprovable: str | None = None
    """Why the template's inputs cannot be fingerprinted (then the deploy is never skipped)."""


def artifact_paths(document: Any) -> ArtifactPaths:
    """Every string under an :data:`ARTIFACT_KEYS` key anywhere in the template (``Globals`` too), in order.

    Remote locations (``s3://``, ``https://``) are left out; whether the rest name files is decided
    by the caller (a string naming nothing changes the template's text, which is hashed anyway). A
    nested application or stack given as a local template is *unprovable*: its own local paths are
    not followed, so such a deploy is never skipped.
    """
    if not isinstance(document, Mapping):
        return ArtifactPaths((), "the template is not a mapping")
    found: list[str] = []
    resources = document.get("Resources")
    if isinstance(resources, Mapping):
        for name, resource in resources.items():
            if not isinstance(resource, Mapping) or resource.get("Type") not in NESTED_TEMPLATE_TYPES:
                continue
            properties = resource.get("Properties")
            location = properties.get("Location", properties.get("TemplateURL")) if isinstance(properties, Mapping) else None
            if isinstance(location, str) and not _is_remote(location):
                return ArtifactPaths((), f"{name} is a nested template from a local file")

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in ARTIFACT_KEYS and isinstance(value, str):
                    if not _is_remote(value):
                        found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return ArtifactPaths(tuple(dict.fromkeys(found)))


def _is_remote(location: str) -> bool:
    return location.startswith(("s3://", "http://", "https://")) or "\n" in location or not location.strip()
