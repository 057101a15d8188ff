"""The sample project's env_file_generator step, run as the sample configures it: no ``.bak`` left per deploy.

The sample regenerates ``.env.local`` from the stack outputs on every deploy (and a fresh stand-in gives new
names each time), so a backup per run would only litter the copy a user works in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runway_ext.hooks.env_file_generator import cfngin_hook

SAMPLE_CONFIG = Path(__file__).resolve().parents[3] / "sample-project" / "site.cfn" / "config.yml"


def sample_args() -> dict[str, Any]:
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    step = next(hook for hook in config["post_deploy"] if hook["path"] == "runway_ext.hooks.env_file_generator.cfngin_hook")
    return dict(step["args"])


def test_two_deploys_of_the_sample_leave_no_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "site.cfn"
    module.mkdir()
    monkeypatch.chdir(module)
    args = sample_args()
    for run in ("first", "second"):  # the lookups as a deploy resolves them: new values on every fresh stand-in
        variables = {name: f"{run}-value" for name in args["variables"]}
        assert cfngin_hook(None, None, **{**args, "variables": variables}), run
    assert sorted(path.name for path in tmp_path.iterdir()) == [".env.local", "site.cfn"]
    assert "second-value" in (tmp_path / ".env.local").read_text()
