"""The env file planner: create, replace (with backup), leave alone, refuse, report drift; the header; outcomes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from runway_ext.hooks.env_file_generator.args import EnvFileArgs
from runway_ext.hooks.env_file_generator.plan import EnvFilePlan, make_header, outcome, plan_env_file


def args(**overrides: object) -> EnvFileArgs:
    return EnvFileArgs.model_validate({"output_file": ".env", "variables": {"A": "1"}, **overrides})


def test_new_file_is_created() -> None:
    plan = plan_env_file(args(), None, ["h"])
    assert (plan.action, plan.content, plan.writes) == ("create", "# h\nA='1'\n", True)


def test_existing_file_needs_overwrite() -> None:
    refused = plan_env_file(args(), "A='2'\n", ["h"])
    assert (refused.action, refused.writes, refused.reason) == ("refuse", False, "exists; set overwrite: true (--overwrite) to replace it")
    plan = plan_env_file(args(overwrite=True), "A='2'\n", ["h"])
    assert (plan.action, plan.backup, plan.writes) == ("replace", True, True)
    assert plan_env_file(args(overwrite=True, create_backup=False), "A='2'\n", ["h"]).backup is False


def test_same_variables_with_other_header_is_unchanged() -> None:
    plan = plan_env_file(args(), "# old header\nA='1'\n", ["new header"])
    assert (plan.action, plan.writes) == ("unchanged", False)


def test_check_mode_reports_drift() -> None:
    assert plan_env_file(args(check=True), None, ["h"]).reason == "does not exist"
    assert plan_env_file(args(check=True), "A='2'\n", ["h"]).reason == "differs from the variables"
    assert plan_env_file(args(check=True, overwrite=True), "A='2'\n", ["h"]).action == "drift"
    assert plan_env_file(args(check=True), "A='1'\n", ["h"]).action == "unchanged"


@pytest.mark.parametrize(
    ("action", "check", "expected"),
    [("create", False, "created"), ("replace", False, "updated"), ("unchanged", False, "unchanged"), ("unchanged", True, "up-to-date")],
)
def test_outcome(action: str, check: bool, expected: str) -> None:
    assert outcome(EnvFilePlan(action, ""), check=check) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["refuse", "drift"])
def test_a_plan_that_writes_nothing_has_no_outcome(action: str) -> None:
    with pytest.raises(ValueError, match="has no outcome"):
        outcome(EnvFilePlan(action, ""), check=False)  # type: ignore[arg-type]


def test_header_says_what_and_when_never_values() -> None:
    header = make_header(datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc))
    assert header[0].startswith("Written by runway_ext ") and header[0].endswith(" env_file_generator at 2026-11-02T10:00:00Z.")
    assert all("=" not in line for line in make_header())
