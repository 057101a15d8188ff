"""``site forget`` on the moto server: a secret published by mistake can be taken back, in both retention kinds."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from runway_ext.hooks.site import forget_hook
from tests.hooks.site.test_rollback import BUCKET, REPO, deploy, distribution, invalidation_paths, rollback, s3, snapshot, version

__all__ = ["distribution", "s3"]

SECRET = b'{"api_key": "sk_live_0123456789abcdef"}'


def every_byte(client: Any) -> list[bytes]:
    """The bytes of every object and every object version in the bucket."""
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for item in page.get("Versions", []):
            found.append(client.get_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])["Body"].read())
    return found


def published_then_removed(s3: Any, tmp_path: Any) -> None:
    r1 = version(1)
    r1["config.json"] = SECRET
    deploy(tmp_path, r1)
    deploy(tmp_path, version(2))  # config.json left the build: kept for the skew window (not a page)
    assert SECRET in every_byte(s3) and "config.json" in snapshot(s3)


def test_forget_purges_every_retained_byte_and_a_rollback_leaves_the_path_out(
    s3: Any, tmp_path: Any, distribution: str, caplog: pytest.LogCaptureFixture
) -> None:
    published_then_removed(s3, tmp_path)
    result = forget_hook(None, None, bucket_name=BUCKET, paths=["config.json"], distribution_id=distribution)
    assert result, "forget failed"
    # r1 had it in its build, r2 kept it for the skew window: forget deletes it from the bucket too
    assert result["forgotten"] == ["config.json"] and "config.json" in result["purged"] and result["records"] == ["r1", "r2"]
    assert "config.json" not in snapshot(s3)
    assert invalidation_paths(distribution, result["invalidation_id"]) == ["/config.json"]
    assert SECRET not in every_byte(s3)
    with caplog.at_level("WARNING"):
        back = rollback(steps=1)
    assert back and back["left_out"] == ["config.json"] and "forgotten path(s) left out" in caplog.text
    assert "config.json" not in snapshot(s3)
    assert {key: value[0] for key, value in snapshot(s3).items()} == version(1)
    assert SECRET not in every_byte(s3)
    again = rollback(steps=1)  # the rollback's own record keeps the path forgotten
    assert again and "config.json" not in snapshot(s3)


def test_forget_is_refused_for_a_path_the_live_release_serves(s3: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    r1 = version(1)
    r1["config.json"] = SECRET
    deploy(tmp_path, r1)
    before = every_byte(s3)
    with caplog.at_level("ERROR"):
        assert forget_hook(None, None, bucket_name=BUCKET, paths=["config.json"]) is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "still served by the live release r1" in errors[0] and "nothing was changed" in errors[0]
    assert sorted(every_byte(s3)) == sorted(before)


def test_content_the_live_release_serves_under_another_path_is_named_and_kept(s3: Any, tmp_path: Any) -> None:
    published_then_removed(s3, tmp_path)
    r3 = version(2)
    r3["public-copy.json"] = SECRET  # the same bytes, live under another path
    deploy(tmp_path, r3)
    result = forget_hook(None, None, bucket_name=BUCKET, paths=["config.json"])
    assert result and list(result["kept"].values()) == [["public-copy.json"]]
    assert s3.get_object(Bucket=BUCKET, Key="public-copy.json")["Body"].read() == SECRET
    assert rollback(to="r1")
    assert "config.json" not in snapshot(s3)


def test_cli_forget_prints_what_was_purged_and_refuses_bad_paths(s3: Any, tmp_path: Any, aws: Any) -> None:
    published_then_removed(s3, tmp_path)
    environment = {**os.environ, **aws.environment(), "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "runway_ext", "site", "forget"]
    for argv, needle in [
        ([], "PATHS: field required"),
        (["../x", "--bucket-name", BUCKET], "PATHS:"),
        (["nope.json", "--bucket-name", BUCKET], "named by no kept"),
    ]:
        run = subprocess.run([*base, *argv], env=environment, capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and needle in run.stderr and "Traceback" not in run.stderr, run.stderr
    run = subprocess.run([*base, "config.json", "--bucket-name", BUCKET], env=environment, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("forgot config.json in s3://release-bucket/: ") and "purged" in run.stdout
    assert SECRET not in every_byte(s3)
    rerun = subprocess.run([*base, "config.json", "--bucket-name", BUCKET], env=environment, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "0 retained object(s) purged" in rerun.stdout, rerun.stderr
