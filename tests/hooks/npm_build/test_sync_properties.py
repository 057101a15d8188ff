"""Property: whatever happens between runs, after a run that succeeds the bucket holds its build byte for byte, and
besides it no page: only scripts of earlier builds, kept for the skew window.

Random sequences of {new build, deploy, deploy killed after N uploads, two deploys at once, an object
deleted behind the tool's back, rollback to an earlier build}, against a real moto server bucket.
A kill is simulated in-process (the run stops dead at the Nth upload and nothing of it runs
afterwards — no release of its lock); the real SIGKILL of a real process is in test_exactness.py.
"""

from __future__ import annotations

import itertools
import random
import shutil
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.lock import SiteLease
from runway_ext.static_site.manifest import parse_manifest
from runway_ext.static_site.s3 import S3Site

BUCKETS = itertools.count()


class Killed(BaseException):
    """The simulated SIGKILL: nothing catches it, nothing runs after it."""


def build_files(version: int) -> dict[str, bytes]:
    rng = random.Random(version)
    files = {"index.html": f"<h1>home v{version}</h1>".encode()}
    for number in rng.sample(range(12), rng.randint(3, 9)):
        files[f"page-{number}/index.html"] = f"<p>page {number} of v{rng.randint(0, 2)}</p>".encode()
    files[f"static/app-{version % 3}.js"] = f"console.log({version % 3})".encode()
    return files


EARLIER_SCRIPTS = {f"static/app-{number}.js" for number in range(3)}
"""The only non-page files builds have: what the skew window may keep after a build drops them."""


def write_build(out: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(out, ignore_errors=True)
    for name, content in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content)


def bucket_site(s3: Any, bucket: str) -> dict[str, bytes]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if not item["Key"].startswith(".runway-ext/")]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def sync(app: Path, bucket: str) -> Any:
    return build_and_sync_app(
        None,
        None,
        bucket_name=bucket,
        app_path=str(app),
        build=False,
        output_dir="out",
        delete=True,
        workers=2,
        max_delete_fraction=1,  # switching between unrelated builds deletes most of a small site: not a fault here
    )


def killed_sync(app: Path, bucket: str, after: int) -> None:
    uploads = 0
    upload = S3Site._upload
    lock = threading.Lock()

    def dying_upload(self: S3Site, *args: Any, **kwargs: Any) -> str:
        nonlocal uploads
        with lock:
            uploads += 1
            if uploads > after:
                raise Killed
        return upload(self, *args, **kwargs)

    with (
        mock.patch.object(S3Site, "_upload", dying_upload),
        mock.patch.object(SiteLease, "release", lambda self: self._stop_renewing()),
    ):
        try:
            sync(app, bucket)
        except Killed:
            pass


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("build"), st.integers(0, 20)),
        st.tuples(st.just("deploy"), st.just(0)),
        st.tuples(st.just("kill"), st.integers(0, 6)),
        st.tuples(st.just("concurrent"), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("rollback"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_after_every_successful_run_the_bucket_equals_its_build(aws: Any, tmp_path: Path, steps: list[tuple[str, int]]) -> None:
    s3 = boto3.client("s3")
    bucket = f"property-{next(BUCKETS)}"
    s3.create_bucket(Bucket=bucket)
    root = tmp_path / bucket
    app, other = root / "app", root / "other"
    history = [1]
    write_build(app / "out", build_files(1))

    def check(result: Any, folder: Path) -> None:
        assert result, "a run failed without a fault to explain it"
        expected = {
            path.relative_to(folder / "out").as_posix(): path.read_bytes() for path in (folder / "out").rglob("*") if path.is_file()
        }
        held = bucket_site(s3, bucket)
        assert {key: held.get(key) for key in expected} == expected
        assert set(held) - set(expected) <= EARLIER_SCRIPTS

    for action, value in steps:
        if action == "build":
            history.append(value)
            write_build(app / "out", build_files(value))
        elif action == "rollback":
            version = history[max(0, len(history) - 2 - value)]
            history.append(version)
            write_build(app / "out", build_files(version))
        elif action == "deploy":
            check(sync(app, bucket), app)
        elif action == "kill":
            killed_sync(app, bucket, value)
        elif action == "delete":
            keys = sorted(bucket_site(s3, bucket))
            if keys:
                s3.delete_object(Bucket=bucket, Key=keys[value % len(keys)])
        elif action == "concurrent":
            write_build(other / "out", build_files(100 + value))
            results: dict[Path, Any] = {}

            def run(folder: Path, results: dict[Path, Any] = results) -> None:
                results[folder] = sync(folder, bucket)

            threads = [threading.Thread(target=run, args=(folder,)) for folder in (app, other)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert any(results.values()), "neither of two concurrent deploys succeeded"
            manifest = parse_manifest(s3.get_object(Bucket=bucket, Key=".runway-ext/site-manifest.json")["Body"].read())
            assert manifest is not None and manifest.state == "complete"
            winners = [folder for folder, result in results.items() if result and result["source_hash"] == manifest.source_hash]
            assert winners, "the manifest records a deploy that did not succeed"
            check(results[winners[-1]], winners[-1])
    check(sync(app, bucket), app)


@pytest.mark.parametrize("after", [0, 3])
def test_a_kill_leaves_the_site_marked_half_written(aws: Any, tmp_path: Path, after: int) -> None:
    s3 = boto3.client("s3")
    bucket = f"property-kill-{after}"
    s3.create_bucket(Bucket=bucket)
    write_build(tmp_path / "out", build_files(1))
    killed_sync(tmp_path, bucket, after)
    manifest = parse_manifest(s3.get_object(Bucket=bucket, Key=".runway-ext/site-manifest.json")["Body"].read())
    assert manifest is not None and manifest.state == "syncing" and manifest.lock is not None
    assert sync(tmp_path, bucket)
    assert bucket_site(s3, bucket) == build_files(1)
