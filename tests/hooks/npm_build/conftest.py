"""Fixtures of the npm_build tests: the digest cache per test, the hook's log, the site bucket, a copy of the fixture app.

Every npm_build test keeps the hook's local digest cache in its own temporary folder; ``s3`` is bucket
:data:`BUCKET` on the moto server, ``app`` a fresh copy of ``tests/fixtures/static_app`` (a real Next.js app).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "static_app"
BUCKET = "site-bucket"


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``RUNWAY_EXT_CACHE_DIR`` for this test (the CLI subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("runway-ext-cache")
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    """The hook's log records (``log.text``), down to debug."""
    monkeypatch.setattr(logging.getLogger("runway_ext"), "propagate", True)
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    return caplog


@pytest.fixture
def s3(aws: Any) -> Any:
    """An S3 client of the moto server, bucket :data:`BUCKET` created."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A fresh copy of the fixture app."""
    target = tmp_path / "app"
    shutil.copytree(FIXTURE, target)
    return target
