"""Properties of the env file generator's pure planner (``plan_env_file``), not covered by its own suite.

Whatever the variables and the file on disk: check mode never writes, an existing file is never
replaced without ``overwrite``, unchanged variables are never rewritten (whatever the header says),
and what would be written reads back as exactly the variables.
"""

from __future__ import annotations

import io

from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_ext.hooks.env_file_generator.args import EnvFileArgs
from runway_ext.hooks.env_file_generator.dotenv_format import UnrepresentableValue, render_body
from runway_ext.hooks.env_file_generator.plan import make_header, plan_env_file

NAMES = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z")
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def representable(variables: dict[str, str]) -> bool:
    try:
        render_body(variables)
    except UnrepresentableValue:
        return False
    return True


VARIABLES = st.dictionaries(NAMES, VALUES, min_size=1, max_size=6).filter(representable)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(variables=VARIABLES, other=VARIABLES, overwrite=st.booleans(), check=st.booleans(), exists=st.booleans(), same=st.booleans())
def test_plan_invariants(variables: dict[str, str], other: dict[str, str], overwrite: bool, check: bool, exists: bool, same: bool) -> None:
    args = EnvFileArgs(output_file="out/.env", variables=variables, overwrite=overwrite, check=check)
    on_disk_variables = variables if same else other
    existing = plan_env_file(EnvFileArgs(output_file="x", variables=on_disk_variables), None, ["older header"]).content if exists else None
    plan = plan_env_file(args, existing, make_header())

    assert dotenv_values(stream=io.StringIO(plan.content)) == variables  # what would be written reads back exactly
    if exists and on_disk_variables == variables:
        assert plan.action == "unchanged"  # a new header alone never causes a rewrite
    elif check:
        assert plan.action == "drift"  # check mode never writes
    elif not exists:
        assert plan.action == "create"
    elif not overwrite:
        assert plan.action == "refuse"
    else:
        assert plan.action == "replace" and plan.backup
