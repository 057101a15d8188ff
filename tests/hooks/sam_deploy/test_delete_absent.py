"""``sam-deploy delete`` of a stack that never existed: a success that says so, never ``DELETE_COMPLETE``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runway_ext.local.moto_server import MotoServer


def test_deleting_a_stack_that_never_existed_says_it_does_not_exist(tmp_path: Path, aws: MotoServer) -> None:
    sam = tmp_path / "sam"
    sam.write_text('#!/bin/sh\necho "SAM CLI, version 1.170.0"\n')  # only --version is asked: no stack, no sam delete
    sam.chmod(0o755)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "runway-ext"),
            "sam-deploy",
            "delete",
            "--stack-name",
            "never-was",
            "--sam-executable",
            str(sam),
        ],
        env={**os.environ, **aws.environment()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "status: DOES_NOT_EXIST" in lines and "deleted: false" in lines, done.stdout
    assert "DELETE_COMPLETE" not in done.stdout
