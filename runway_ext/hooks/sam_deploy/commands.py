"""The ``sam`` command lines (``build``, ``deploy``, ``delete``: argv lists that never prompt) and the environment ``sam`` runs with. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

MIN_SAM_VERSION = (1, 170, 0)
"""Oldest ``sam`` this hook is tested with (it relies on ``--parameter-overrides file://…``)."""


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
