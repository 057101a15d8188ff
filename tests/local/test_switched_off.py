"""A plain ``runway-ext local deploy`` of the sample with Docker switched off and no sam CLI on PATH.

The parts that need them are skipped (``enabled:`` switches), each named once under "not available here",
never reported as failures; everything else deploys; the run says it started from an empty stand-in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNWAY_EXT = str(Path(sys.executable).parent / "runway-ext")


@pytest.mark.runway
def test_docker_off_and_no_sam_skip_their_steps_without_failing(tmp_path: Path) -> None:
    project = tmp_path / "sample"
    shutil.copytree(
        REPO / "sample-project", project, ignore=shutil.ignore_patterns("node_modules", "out", ".env.local", ".runway", ".aws-sam")
    )
    without_sam = os.pathsep.join(
        folder for folder in os.environ["PATH"].split(os.pathsep) if folder and not (Path(folder) / "sam").exists()
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "RUNWAY_EXT_"))}
    env["PATH"] = without_sam
    done = subprocess.run(
        [RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    summary = done.stdout[done.stdout.index("runway-ext local deploy:") :]
    assert "FAILED" not in summary and "Traceback" not in output
    hooks = summary.split("hooks:\n", 1)[1]
    (npm_build,) = [line for line in hooks.splitlines() if line.startswith("  npm_build: ")]
    assert "layout=atomic" in npm_build and "release=r1" in npm_build, npm_build
    assert "cloudfront_invalidation" not in hooks  # an atomic release has nothing to invalidate: the sample has no such step
    assert "docker_build_push" not in hooks and "sam_deploy" not in hooks
    unavailable = summary.split("not available here:\n", 1)[1].splitlines()
    assert [line.strip().split(":", 1)[0] for line in unavailable if line.strip()] == ["docker", "sam"]
    assert "started empty for this run" in summary
