"""What a local run did, in a few lines: stacks and outputs, what each hook reported, and where the sites are."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from runway_ext.local.runway_output import StepVerdict

_HOOK_FIELDS = {
    # layout and release: an atomic site names the release its deploy made live (release=r2)
    "npm_build": ("uploaded", "deleted", "unchanged", "skipped", "copied", "layout", "release", "served_seconds", "source_hash"),
    "cloudfront_invalidation": ("distribution_id", "invalidation_id", "status", "skipped", "paths"),
    "docker_build_push": ("image_uri", "digest", "platforms", "skipped"),
    "env_file_generator": ("output_file", "action"),
    "sam_deploy": ("stack_name", "status", "changed"),
}


@dataclass(frozen=True)
class Site:
    """A CloudFront distribution of the stand-in and where the local edge serves it (``None``: not served)."""

    distribution_id: str
    comment: str
    url: str | None


def stack_lines(stacks: list[dict[str, Any]], verdicts: Mapping[str, StepVerdict] | None = None) -> list[str]:
    """One line per stack with its status (and what this run's step did when it failed), then its outputs indented.

    ``verdicts`` (Runway's last status of each step, by its short stack name): a stack whose step failed says so
    beside its CloudFormation status (which may still be an old ``CREATE_COMPLETE``), and a failed step with no
    stack at all gets its own line.
    """
    verdicts = verdicts or {}
    lines = []
    matched: set[str] = set()
    for stack in sorted(stacks, key=lambda item: item["StackName"]):
        name = stack["StackName"]
        step = step_name(name, verdicts)
        line = f"  {name}: {stack['StackStatus']}"
        if step is not None:
            matched.add(step)
            if verdicts[step].status == "failed":
                line += f" (this run: failed: {_short(verdicts[step].reason) or 'see above'})"
        lines.append(line)
        for output in sorted(stack.get("Outputs", []), key=lambda item: item["OutputKey"]):
            lines.append(f"      {output['OutputKey']} = {_text(output.get('OutputValue', ''))}")
    for step, verdict in sorted(verdicts.items()):
        if step not in matched and verdict.status == "failed":
            lines.append(f"  {step}: not created (this run: failed: {_short(verdict.reason) or 'see above'})")
    return lines


def project_stacks(
    stacks: list[dict[str, Any]], verdicts: Mapping[str, StepVerdict], changed: set[str], named: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The stacks of the project this run deployed: each Runway step's stack, among all stacks of the stand-in.

    Runway names a step by its short name (``site``), the stack is ``NAMESPACE-site``; when several stacks fit one
    step (two projects on one stand-in), those this run created or changed (``changed``) are the project's; if
    none of them changed, all that fit are shown rather than guessing. Stacks in ``named`` (those the run's hooks
    deployed, such as a SAM app's) are the project's too.
    """
    by_step: dict[str, list[dict[str, Any]]] = {}
    for stack in stacks:
        step = step_name(stack["StackName"], verdicts)
        if step is not None:
            by_step.setdefault(step, []).append(stack)
    chosen = [stack for stack in stacks if stack["StackName"] in named and step_name(stack["StackName"], verdicts) is None]
    for fitting in by_step.values():
        touched = [stack for stack in fitting if stack["StackName"] in changed]
        chosen += touched if len(fitting) > 1 and touched else fitting
    return sorted(chosen, key=lambda stack: stack["StackName"])


def step_name(stack_name: str, verdicts: Mapping[str, StepVerdict]) -> str | None:
    """The Runway step of a CloudFormation stack: its own name, or ``NAMESPACE-STEP`` (the longest step that fits)."""
    if stack_name in verdicts:
        return stack_name
    fitting = [step for step in verdicts if stack_name.endswith("-" + step)]
    return max(fitting, key=len) if fitting else None


def hook_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One line per hook run from the journal: its key figures, or its error."""
    lines = []
    for entry in entries:
        name = entry.get("hook", "?")
        if not entry.get("ok"):
            lines.append(f"  {name}: FAILED: {entry.get('error', '')}")
            continue
        result = entry.get("result") or {}
        fields = _HOOK_FIELDS.get(name, tuple(key for key in result if key != "ok")[:4])
        shown = ", ".join(f"{key}={_short(_text(result[key]))}" for key in fields if key in result)
        lines.append(f"  {name}: {shown}")
    return lines


def site_lines(sites: list[Site] | None, edge_notices: dict[str, list[str]]) -> list[str]:
    """One line per distribution with its local URL, then what its config has that the edge does not emulate."""
    if sites is None:
        return ["  not served: add --serve to browse the sites after the deploy, or deploy against `runway-ext local serve`"]
    if not sites:
        return ["  (no CloudFront distribution)"]
    lines = []
    for site in sorted(sites, key=lambda item: item.distribution_id):
        where = site.url or "not served yet (the edge has not picked it up)"
        lines.append(f"  {site.distribution_id}{f' ({site.comment})' if site.comment else ''}: {where}")
        lines += [f"      not emulated: {notice}" for notice in edge_notices.get(site.distribution_id, [])]
    return lines


def render_summary(
    action: str,
    endpoint: str,
    stacks: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    ok: bool,
    *,
    fresh: bool = True,
    sites: list[Site] | None = None,
    edge_notices: dict[str, list[str]] | None = None,
    failure: str | None = None,
    verdicts: Mapping[str, StepVerdict] | None = None,
    hidden_stacks: int = 0,
) -> str:
    """The whole summary block printed after a local run (``fresh``: the stand-in was started empty for it).

    ``failure``: one line naming the failed step and its cause, shown right under the verdict.
    ``hidden_stacks``: stacks of other projects on the same stand-in, counted but not listed.
    """
    where = f"AWS stand-in at {endpoint}"
    if fresh:
        where += ", started empty for this run: nothing is kept for the next one (use `runway-ext local serve` for that)"
    lines = [f"runway-ext local {action}: {'succeeded' if ok else 'FAILED'} ({where})"]
    if not ok and failure:
        lines.append(f"failed: {failure}")
    lines.append("stacks:")
    lines += stack_lines(stacks, verdicts) or ["  (none)"]
    if hidden_stacks:
        lines.append(f"  ({hidden_stacks} stack{'s' if hidden_stacks != 1 else ''} of other projects on this stand-in not shown)")
    lines.append("hooks:")
    lines += hook_lines(entries) or ["  (none ran)"]
    if action == "deploy":
        lines.append("sites:")
        lines += site_lines(sites, edge_notices or {})
    return "\n".join(lines)


def _text(value: Any) -> str:
    """A value as a person reads it: lists as ``a b c``, ``None`` and booleans in JSON's spelling (``null``, ``true``)."""
    if isinstance(value, (list, tuple)):
        return " ".join(_text(item) for item in value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
