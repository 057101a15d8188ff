"""What a local run did, in a few lines: stacks and outputs, what each hook reported, and where the sites are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_HOOK_FIELDS = {
    # layout and release: an atomic site names the release its deploy made live (release=r2)
    "npm_build": ("uploaded", "deleted", "unchanged", "skipped", "copied", "layout", "release", "source_hash"),
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


def stack_lines(stacks: list[dict[str, Any]]) -> list[str]:
    """One line per stack with its status, then its outputs indented."""
    lines = []
    for stack in sorted(stacks, key=lambda item: item["StackName"]):
        lines.append(f"  {stack['StackName']}: {stack['StackStatus']}")
        for output in sorted(stack.get("Outputs", []), key=lambda item: item["OutputKey"]):
            lines.append(f"      {output['OutputKey']} = {output.get('OutputValue', '')}")
    return lines


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
        shown = ", ".join(f"{key}={_short(_plain(result[key]))}" for key in fields if key in result)
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
) -> str:
    """The whole summary block printed after a local run (``fresh``: the stand-in was started empty for it)."""
    where = f"AWS stand-in at {endpoint}"
    if fresh:
        where += ", started empty for this run: nothing is kept for the next one (use `runway-ext local serve` for that)"
    lines = [f"runway-ext local {action}: {'succeeded' if ok else 'FAILED'} ({where})", "stacks:"]
    lines += stack_lines(stacks) or ["  (none)"]
    lines.append("hooks:")
    lines += hook_lines(entries) or ["  (none ran)"]
    if action == "deploy":
        lines.append("sites:")
        lines += site_lines(sites, edge_notices or {})
    return "\n".join(lines)


def _plain(value: Any) -> str:
    """Lists as ``a b c`` (paths read better without brackets and quotes)."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)
    return str(value)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
