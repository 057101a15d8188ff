"""Hostile input through real ``runway deploy --ci`` (config.yml → Runway → hook): one clear line, exit 1, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_ext.testing.runway_cli import run_runway

MARKER = "PWNED_MARKER"


def project(root: Path, hook: str) -> Path:
    module = root / "app.cfn"
    module.mkdir(parents=True)
    (root / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "config.yml").write_text(f'namespace: ${{namespace}}\ncfngin_bucket: ""\npre_deploy:\n{hook}')
    return root


CASES = [
    pytest.param(
        "  - path: runway_ext.hooks.env_file_generator.cfngin_hook\n    args:\n      output_file: out/.env\n"
        f"      variables:\n        \"$(touch {MARKER})\": x\n",
        "env_file_generator: variables", id="env-file-shell-variable-name"),
    pytest.param(
        "  - path: runway_ext.hooks.npm_build.build_and_sync_app\n    args:\n      bucket_name: site-bucket\n"
        "      app_path: ./app\n      prefix: ../../other\n",
        "npm_build: prefix", id="npm-build-prefix-traversal"),
    pytest.param(
        "  - path: runway_ext.hooks.docker_build_push.cfngin_hook\n    args:\n      repository_name: app\n"
        f"      image_tag: \"`touch {MARKER}`\"\n",
        "docker_build_push: image_tag", id="docker-shell-tag"),
]


@pytest.mark.runway
@pytest.mark.parametrize(("hook", "line"), CASES)
def test_runway_deploy_refuses_in_one_clear_line(hook: str, line: str, aws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path / "project", hook)
    before = sorted(path.name for path in root.rglob("*"))
    run = run_runway(root, ["deploy", "--ci"], environment=aws.environment(), timeout=300)
    assert run.returncode != 0
    matching = [text for text in run.output.splitlines() if line in text]
    assert len(matching) == 1, run.output[-2000:]
    assert "Traceback" not in run.output
    after = sorted(path.name for path in root.rglob("*") if ".runway" not in path.parts)
    assert after == before  # no .env, no marker, nothing else
    assert not (root / "app.cfn" / MARKER).exists() and not (root / MARKER).exists()
