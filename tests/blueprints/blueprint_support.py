"""Helpers for the blueprint tests: render as CFNgin does, lint with cfn-lint, pick resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint
from runway.cfngin.stack import Stack
from runway.config.models.cfngin import CfnginStackDefinitionModel
from runway.context import CfnginContext

LINT_REGIONS = ["us-east-1", "eu-west-1"]


def render(class_path: str, work_dir: Path, **variables: Any) -> str:
    """The template JSON CFNgin would deploy for a stack of ``class_path`` with ``variables``."""
    context = CfnginContext(config_path=work_dir)
    definition = CfnginStackDefinitionModel(name="site", class_path=class_path, variables=variables)
    stack = Stack(definition=definition, context=context)
    stack.resolve(context)
    return stack.blueprint.rendered


def lint_errors(template: str) -> list[str]:
    """cfn-lint's errors (E rules) for a template, as ``rule: message (path)`` lines."""
    return [finding for finding in lint_findings(template) if finding.startswith("E")]


def lint_findings(template: str) -> list[str]:
    """Every cfn-lint finding for a template, informational (I rules) included, as ``rule: message (path)`` lines."""
    matches = lint(template, config=ManualArgs(regions=LINT_REGIONS, include_checks=["I"]))
    return [f"{match.rule.id}: {match.message} ({'/'.join(map(str, match.path))})" for match in matches]


def resources_of(template: str, resource_type: str) -> dict[str, Any]:
    """The resources of one type in a rendered template, by logical id."""
    return {name: body for name, body in json.loads(template)["Resources"].items() if body["Type"] == resource_type}
