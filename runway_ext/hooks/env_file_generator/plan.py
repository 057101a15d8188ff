"""What to do with the .env file, decided from the args and the file's current content: pure, no I/O.

:func:`plan_env_file` compares what would be written with what is there (ignoring the generated
header), and says whether to create, replace (after a backup), leave alone, refuse (an existing
file without ``overwrite``) or report drift (check mode). :func:`outcome` is what the result calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from runway_ext import __version__
from runway_ext.hooks.env_file_generator.args import EnvFileArgs, Outcome
from runway_ext.hooks.env_file_generator.dotenv_format import render_file, strip_header

PlanAction = Literal["create", "replace", "unchanged", "refuse", "drift"]


@dataclass(frozen=True)
class EnvFilePlan:
    """The decision for one run: what to write and whether to back up first."""

    action: PlanAction
    content: str
    backup: bool = False
    reason: str = ""
    """Why a ``refuse`` or ``drift`` plan writes nothing (ends the error message)."""

    @property
    def writes(self) -> bool:
        """Whether carrying out the plan writes the file."""
        return self.action in ("create", "replace")


def plan_env_file(args: EnvFileArgs, existing: str | None, header: list[str]) -> EnvFilePlan:
    """Decide what to do given the current file content (``None`` if there is no file)."""
    content = render_file(header, args.text_variables())
    if existing is not None and strip_header(existing) == strip_header(content):
        return EnvFilePlan("unchanged", content)
    if args.check:
        reason = "does not exist" if existing is None else "differs from the variables"
        return EnvFilePlan("drift", content, reason=reason)
    if existing is None:
        return EnvFilePlan("create", content)
    if not args.overwrite:
        return EnvFilePlan("refuse", content, reason="exists; set overwrite: true (--overwrite) to replace it")
    return EnvFilePlan("replace", content, backup=args.create_backup)


def outcome(plan: EnvFilePlan, *, check: bool) -> Outcome:
    """The result's ``action`` for a carried-out plan (a ``refuse`` or ``drift`` plan has none: it is an error)."""
    if plan.action == "create":
        return "created"
    if plan.action == "replace":
        return "updated"
    if plan.action == "unchanged":
        return "up-to-date" if check else "unchanged"
    raise ValueError(f"a {plan.action} plan has no outcome")


def make_header(now: datetime | None = None) -> list[str]:
    """The generated header: what wrote the file and when (never any value)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [f"Written by runway_ext {__version__} env_file_generator at {stamp}.", "Do not edit: regenerated on deploy."]
