"""What a local deploy did, in a few lines: stacks and outputs, then what each hook reported."""

from __future__ import annotations

from typing import Any

_HOOK_FIELDS = {
    "npm_build": ("uploaded", "deleted", "unchanged", "skipped", "source_hash"),
    "cloudfront_invalidation": ("distribution_id", "invalidation_id", "status", "skipped"),
    "docker_build_push": ("image_uri", "digest", "skipped"),
    "env_file_generator": ("output_file", "action"),
    "sam_deploy": ("stack_name", "status", "changed"),
}


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
        shown = ", ".join(f"{key}={_short(result[key])}" for key in fields if key in result)
        lines.append(f"  {name}: {shown}")
    return lines


def render_summary(action: str, endpoint: str, stacks: list[dict[str, Any]], entries: list[dict[str, Any]], ok: bool) -> str:
    """The whole summary block printed after a local run."""
    lines = [f"runway-ext local {action}: {'succeeded' if ok else 'FAILED'} (AWS stand-in at {endpoint})", "stacks:"]
    lines += stack_lines(stacks) or ["  (none)"]
    lines.append("hooks:")
    lines += hook_lines(entries) or ["  (none ran)"]
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
