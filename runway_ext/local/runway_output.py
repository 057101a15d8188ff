"""Reading Runway's own output: which step failed and why, what each stack did, and tracebacks folded away.

Runway prints one ``[runway] STACK:STATUS (reason)`` line per step (``submitted``, ``complete``, ``failed``,
``skipped`` ...), ``required hook PATH failed`` when a hook returned a falsy result, and a Python traceback
when something raised. The summary of a local run is built from these lines and the run journal, so it names
the failed step and its cause in one line instead of leaving it inside the scrolled-away output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^\[runway\] (?P<name>[A-Za-z0-9][\w.-]*):(?P<status>[a-z][a-z ]*[a-z])(?: \((?P<reason>.*?)\)?)?$")
_STEP_STATUSES = ("submitted", "complete", "failed", "skipped", "pending", "not submitted", "not updated", "cancelled")
_REQUIRED_HOOK = re.compile(r"^\[runway\] required hook (?P<path>\S+) failed")
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|DoesNotExist|Interrupt|Failure))(?:: (?P<message>.*))?$")
_EARLY_LOOKUP = 'like "output", can only be used in "post_*" hooks'
_EXECUTING = re.compile(r"^\[runway\] executing (?P<stage>(?:pre|post)_(?:deploy|destroy)) hooks: (?P<hooks>.+)$")
_HTTP_500 = ("500 Internal Server Error", "invalid XML received", "(500)")


@dataclass(frozen=True)
class StepVerdict:
    """The last status Runway printed for one stack step in this run, and its reason."""

    status: str
    reason: str


def step_verdicts(lines: Iterable[str]) -> dict[str, StepVerdict]:
    """The last ``[runway] NAME:STATUS (reason)`` of each stack step (Runway's short stack names)."""
    verdicts: dict[str, StepVerdict] = {}
    for line in lines:
        found = _STEP.match(line.rstrip())
        if found and found.group("status") in _STEP_STATUSES and not found.group("name").endswith((".cfn", ".yml", ".yaml")):
            reason = (found.group("reason") or "").strip()
            if any(marker in reason for marker in _HTTP_500):
                reason = "the stand-in answered HTTP 500"
            verdicts[found.group("name")] = StepVerdict(found.group("status"), reason)
    return verdicts


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _stand_in_hint(reason: str, endpoint: str, is_serve: bool) -> str:
    """A moto HTTP 500 explained: a plain moto server cannot create what the blueprints need."""
    if not any(marker in reason for marker in _HTTP_500):
        return _one_line(reason)
    port = endpoint.rsplit(":", 1)[-1]
    if is_serve:
        return f"the stand-in at {endpoint} answered HTTP 500 (an AWS feature moto does not emulate): {_one_line(reason, 120)}"
    return (
        f"the AWS stand-in at {endpoint} answered HTTP 500: it is not a `runway-ext local serve` (a plain moto server cannot create "
        f"the CDN blueprint's CloudFront resources); stop it and start `runway-ext local serve --port {port}`"
    )


def _early_output_lookup(lines: Sequence[str]) -> str | None:
    """The one-line fix when a ``pre_*`` hook used ``${output …}`` (outputs exist only once the stacks deployed)."""
    if not any(_EARLY_LOOKUP in line for line in lines):
        return None
    stage, hook = "pre_deploy", "a hook"
    for line in lines:
        found = _EXECUTING.match(line)
        if found:
            stage, hook = found.group("stage"), found.group("hooks").split(",")[-1].strip()
    return (
        f"hook {hook} ({stage}): an ${{output …}} lookup cannot resolve before its stack is deployed: move the hook to "
        f"post_{stage.split('_', 1)[1]}, or read a stack deployed earlier with ${{cfn STACK.OUTPUT}}"
    )


def failure_cause(lines: Sequence[str], entries: Sequence[dict[str, Any]], *, endpoint: str, is_serve: bool = True) -> str:
    """One line naming the step that failed and its cause, from the journal first, then Runway's own lines."""
    early = _early_output_lookup(lines)
    if early is not None:
        return early
    failed_hook = next((entry for entry in entries if not entry.get("ok")), None)
    if failed_hook is not None:
        return f"hook {failed_hook.get('hook', '?')}: {_one_line(str(failed_hook.get('error', '')))}"
    failed_steps = [(name, verdict) for name, verdict in step_verdicts(lines).items() if verdict.status == "failed"]
    if failed_steps:
        name, verdict = failed_steps[0]
        index = max(i for i, line in enumerate(lines) if line.startswith(f"[runway] {name}:failed"))
        reason = lines[index].split(":failed", 1)[1].strip().removeprefix("(").removesuffix(")")
        if index + 1 < len(lines) and not lines[index + 1].startswith("[runway]"):
            reason += " " + lines[index + 1]  # a reason that continues on the next line (an HTTP body)
        return f"stack {name}: {_stand_in_hint(reason, endpoint, is_serve)}"
    for index, line in enumerate(lines):
        found = _REQUIRED_HOOK.match(line)
        if found:
            before = next((lines[i][len("[runway] ") :] for i in range(index - 1, -1, -1) if lines[i].startswith("[runway] ")), "")
            return f"hook {found.group('path')}: {_one_line(before) or 'returned a falsy result'}"
    exception = next((line for line in reversed(lines) if _EXCEPTION.match(line)), None)
    if exception is not None:
        return f"runway: {_stand_in_hint(exception, endpoint, is_serve)}"
    last = next((line for line in reversed(lines) if line.strip() and line.strip() != "[runway]"), "")
    return f"runway: {_one_line(last) if last else 'exited without output'}"


class TracebackFolder:
    """An output filter: copies lines to ``echo``, but a Python traceback becomes one line naming its exception.

    ``kept_in`` names where the full output is kept, for the folded line.
    """

    def __init__(self, echo: Callable[[str], None], kept_in: str) -> None:
        """Fold tracebacks out of what reaches ``echo``."""
        self.echo = echo
        self.kept_in = kept_in
        self._folded = 0

    def __call__(self, line: str) -> None:
        """Take one line of output."""
        if line.startswith("Traceback (most recent call last):"):
            self._folded = 1
            return
        if self._folded:
            if line.startswith((" ", "\t")) or not line.strip():
                self._folded += 1
                return
            # the first line that is not indented ends the traceback: it is the exception
            self.echo(f"[runway] {_one_line(line)} (a traceback of {self._folded} lines folded; full output: {self.kept_in})")
            self._folded = 0
            return
        self.echo(line)
