"""Fixtures shared by the sam_deploy tests: a copy of the fixture SAM app, and moto applying change-set tags as AWS does.

moto applies a change set's ``Tags`` to a stack only when the change set creates it; AWS applies
them on every execution (CreateChangeSet's ``Tags`` are "key-value pairs to associate with this
stack"). ``aws_change_set_tags`` makes moto's in-process backend do what AWS does; it is the only
stand-in here.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.local.moto_server import MotoServer
from tests.hooks.sam_deploy.sam_app import ARTIFACTS, FIXTURE_APP, REGION


@pytest.fixture
def sam_app(tmp_path: Path) -> Path:
    """A copy of the fixture SAM app (one Python function, one bucket) for this interpreter's Python."""
    app = tmp_path / "sam-app"
    shutil.copytree(FIXTURE_APP, app)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("python3.11", f"python{sys.version_info.major}.{sys.version_info.minor}"))
    return app


@pytest.fixture
def aws_change_set_tags(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """moto's backend applying a change set's Tags when it executes an update, as AWS does; an artifacts bucket."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (item for item in self.change_sets.values() if item.change_set_name == change_set_name), None
        )
        original(self, change_set_name, stack_name)
        if change_set is not None and change_set.tags:
            self.stacks[change_set.stack_id].tags = dict(change_set.tags)

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_change_set)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=ARTIFACTS)
    yield aws
