"""Releases and rollback on the moto server: every deploy is a release, and a rollback restores one exactly.

Real parts only: a moto server bucket (versioned and unversioned), the npm_build hook syncing prebuilt sites,
a CloudFront distribution on moto for the invalidations, and real processes SIGKILLed or paused mid-rollback
(``rollback_process.py``) or mid-deploy (``tests/hooks/npm_build/deploy_process.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import diff_hook, releases_hook, rollback_hook
from runway_ext.static_site.layout import OBJECTS_FOLDER, blob_key, index_key
from runway_ext.static_site.records import parse_index
from tests.support.cli_process import finish, run_driver, start_driver, wait_ready

BUCKET = "release-bucket"
REPO = Path(__file__).resolve().parents[3]
ROLLBACK_PROCESS = Path(__file__).with_name("rollback_process.py")
DEPLOY_PROCESS = REPO / "tests" / "hooks" / "npm_build" / "deploy_process.py"
LONG_CACHE = [{"pattern": "*.css", "cache_control": "public, max-age=86400"}]


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture(params=["versioned", "unversioned"])
def s3(request: pytest.FixtureRequest, aws: Any) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    if request.param == "versioned":
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.versioned = request.param == "versioned"
    return client


@pytest.fixture
def s3_versioned(aws: Any) -> Any:
    """A versioned bucket only (as the CDN blueprint makes it), for tests whose subject is not the retention."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.versioned = True
    return client


@pytest.fixture
def distribution(aws: Any) -> str:
    client = boto3.client("cloudfront")
    config = {
        "CallerReference": "site",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [{"Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3",
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    return str(client.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def write_site(folder: Path, files: dict[str, bytes]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    for name, content in files.items():
        path = folder / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def version(n: int, pages: int = 6) -> dict[str, bytes]:
    """Site v<n>: each version edits the home page, adds a page, deletes one, and v2+ changes a header (rules)."""
    files = {f"page-{i:02d}/index.html": f"<h1>page {i}</h1>".encode() for i in range(n, n + pages)}
    files["index.html"] = f"<h1>home v{n}</h1>".encode()
    files["style.css"] = b"body{color:red}"
    files["logo.svg"] = b"<svg/>"
    return files


def deploy(tmp_path: Path, files: dict[str, bytes], *, prefix: str = "", **args: Any) -> dict[str, Any]:
    app = write_site(tmp_path / "app", files)
    result = build_and_sync_app(
        None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", delete=True, prefix=prefix, **args
    )
    assert result, "the deploy failed"
    return result


def snapshot(s3: Any, prefix: str = "") -> dict[str, tuple[bytes, str, str]]:
    """The site (tool files left out): key → (bytes, Content-Type, Cache-Control)."""
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        for item in page.get("Contents", [])
        if ".runway-ext/" not in item["Key"]
    ]
    found = {}
    for key in keys:
        response = s3.get_object(Bucket=BUCKET, Key=key)
        found[key] = (response["Body"].read(), response.get("ContentType", ""), response.get("CacheControl", ""))
    return found


def rollback(**args: Any) -> Any:
    return rollback_hook(None, None, bucket=BUCKET, **args)


def invalidation_paths(distribution: str, invalidation_id: str) -> list[str]:
    batch = boto3.client("cloudfront").get_invalidation(DistributionId=distribution, Id=invalidation_id)["Invalidation"][
        "InvalidationBatch"
    ]
    return sorted(batch["Paths"]["Items"])


def three_releases(s3: Any, tmp_path: Path) -> list[dict[str, tuple[bytes, str, str]]]:
    states = []
    deploy(tmp_path, version(1))
    states.append(snapshot(s3))
    deploy(tmp_path, version(2), cache_rules=LONG_CACHE)  # header change on style.css
    states.append(snapshot(s3))
    v3 = version(3)
    v3["logo.svg"] = b"<svg>v3</svg>"
    deploy(tmp_path, v3)
    states.append(snapshot(s3))
    return states


# -- roll back, and roll back the rollback -----------------------------------------------------------------
def test_rollback_restores_v1_byte_for_byte_with_headers_and_invalidates_the_diff(s3: Any, tmp_path: Path, distribution: str) -> None:
    v1, v2, v3 = three_releases(s3, tmp_path)
    assert len({json.dumps(sorted(state), default=str) for state in (v1, v2, v3)}) == 3
    result = rollback(to="r1", distribution_id=distribution)
    assert result, "the rollback failed"
    assert snapshot(s3) == v1
    differing = sorted(set(v1) ^ set(v3) | {key for key in set(v1) & set(v3) if v1[key] != v3[key]})
    assert result["changed_paths"] == ["/" + key for key in differing]
    expected = sorted(
        {"/" + key for key in differing} | {"/" + key[: -len("index.html")] for key in differing if key.endswith("index.html")}
    )
    assert invalidation_paths(distribution, result["invalidation_id"]) == expected
    assert (result["target"], result["previous"], result["release"]) == ("r1", "r3", "r4")

    again = rollback(steps=1)  # the rollback is a release: roll it back
    assert again["target"] == "r3" and snapshot(s3) == v3
    listed = releases_hook(None, None, bucket=BUCKET)["releases"]
    assert [(row["id"], row["kind"], row["restored_from"]) for row in listed] == [
        ("r1", "deploy", None),
        ("r2", "deploy", None),
        ("r3", "deploy", None),
        ("r4", "rollback", "r1"),
        ("r5", "rollback", "r3"),
    ]
    assert listed[-1]["current"] and listed[0]["changed"] is None and listed[3]["changed"] == len(differing)
    assert listed[0]["retention"] == ("versions" if s3.versioned else "copies")


def test_a_deploy_after_a_rollback_is_compared_not_skipped(s3_versioned: Any, tmp_path: Path) -> None:
    _, _, v3 = three_releases(s3_versioned, tmp_path)
    assert rollback(to="r2")
    v3_files = version(3)
    v3_files["logo.svg"] = b"<svg>v3</svg>"
    result = deploy(tmp_path, v3_files)
    assert result["skipped"] is False and snapshot(s3_versioned) == v3


def test_rerun_of_a_finished_rollback_does_nothing(s3_versioned: Any, tmp_path: Path) -> None:
    three_releases(s3_versioned, tmp_path)
    assert rollback(to="r1")["release"] == "r4"
    again = rollback(to="r1")
    assert again["release"] is None and again["changed_paths"] == []
    assert [row["id"] for row in releases_hook(None, None, bucket=BUCKET)["releases"]][-1] == "r4"


def test_diff_lists_the_paths_that_differ(s3_versioned: Any, tmp_path: Path) -> None:
    three_releases(s3_versioned, tmp_path)
    result = diff_hook(None, None, bucket=BUCKET, release_a="r1", release_b="2")
    assert result["added"] == ["page-07/index.html"] and result["removed"] == ["page-01/index.html"]
    assert result["changed"] == ["index.html"] and result["headers"] == ["style.css"]
    assert result["changed_paths"] == ["/index.html", "/page-01/index.html", "/page-07/index.html", "/style.css"]


def test_works_under_a_prefix_and_leaves_other_keys_alone(s3_versioned: Any, tmp_path: Path) -> None:
    s3_versioned.put_object(Bucket=BUCKET, Key="other/keep.txt", Body=b"not ours")
    deploy(tmp_path, version(1), prefix="site/")
    v1 = snapshot(s3_versioned, "site/")
    deploy(tmp_path, version(2), prefix="site/")
    assert rollback(prefix="site", steps=1)
    assert snapshot(s3_versioned, "site/") == v1
    assert s3_versioned.get_object(Bucket=BUCKET, Key="other/keep.txt")["Body"].read() == b"not ours"


def test_dry_run_writes_nothing(s3_versioned: Any, tmp_path: Path, distribution: str) -> None:
    _, _, v3 = three_releases(s3_versioned, tmp_path)
    result = rollback(to="r1", dry_run=True, distribution_id=distribution)
    assert result["dry_run"] and result["changed_paths"] and result["invalidation_paths"]
    assert snapshot(s3_versioned) == v3
    assert [row["id"] for row in releases_hook(None, None, bucket=BUCKET)["releases"]] == ["r1", "r2", "r3"]


# -- refusals ----------------------------------------------------------------------------------------------
def test_a_release_whose_objects_are_gone_is_refused_in_one_line_and_nothing_changes(
    s3: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, v3 = three_releases(s3, tmp_path)
    if s3.versioned:  # what the noncurrent-version expiry rule does: the old home page's version goes
        versions = s3.list_object_versions(Bucket=BUCKET, Prefix="index.html")["Versions"]
        for item in versions:
            if item["Key"] == "index.html" and not item["IsLatest"]:
                s3.delete_object(Bucket=BUCKET, Key="index.html", VersionId=item["VersionId"])
    else:
        for key in [k["Key"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix=OBJECTS_FOLDER)["Contents"]]:
            if s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"<h1>home v1</h1>":
                s3.delete_object(Bucket=BUCKET, Key=key)
    with caplog.at_level("ERROR"):
        assert rollback(to="r1") is False
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "release r1 can no longer be restored" in errors[0] and "index.html" in errors[0]
    assert "nothing was changed" in errors[0]
    assert snapshot(s3) == v3


def test_cli_refuses_bad_input_in_one_line(aws: Any) -> None:
    environment = {**os.environ, **aws.environment(), "PYTHONPATH": str(REPO)}
    for argv, needle in [
        (["--bucket", BUCKET, "--to", "r1", "--steps", "1"], "either to or steps"),
        (["--bucket", BUCKET, "--to", "latest"], "is not a release id"),
        (["--bucket", "Bad_Bucket"], "--bucket-name:"),  # the alias is named by the flag it stands for
        (["--bucket-name", "Bad_Bucket"], "--bucket-name:"),
        (["--bucket", BUCKET, "--distribution-id", "nope"], "--distribution-id:"),
    ]:
        run = subprocess.run(
            [sys.executable, "-m", "runway_ext", "site", "rollback", *argv], env=environment, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_rollback_without_releases_is_one_line(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    with caplog.at_level("ERROR"):
        assert rollback(steps=1) is False
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "site_rollback: steps: cannot go back 1 release(s): this site has 0 recorded release(s)"
    ]


# -- retention ---------------------------------------------------------------------------------------------
def test_the_11th_release_drops_the_oldest_and_its_unique_objects(s3: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for n in range(1, 12):
        deploy(tmp_path, version(n, pages=3))
    index = parse_index(s3.get_object(Bucket=BUCKET, Key=index_key(""))["Body"].read())
    assert [summary.id for summary in index.releases] == [f"r{n}" for n in range(2, 12)]
    records = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=".runway-ext/releases/r")["Contents"]}
    assert ".runway-ext/releases/r1.json" not in records and ".runway-ext/releases/r2.json" in records
    import hashlib

    unique_to_r1 = hashlib.sha256(b"<h1>home v1</h1>").hexdigest()
    shared = hashlib.sha256(b"<svg/>").hexdigest()
    retained = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=OBJECTS_FOLDER).get("Contents", [])}
    if s3.versioned:
        assert retained == set()  # versions are the retention: they expire by the bucket's lifecycle rule
    else:
        assert blob_key("", unique_to_r1) not in retained and blob_key("", shared) in retained
        assert blob_key("", hashlib.sha256(b"<h1>home v2</h1>").hexdigest()) in retained
    with caplog.at_level("ERROR"):
        assert rollback(to="r1") is False
    assert "release r1 is no longer retained (only the last 10 are kept: r2..r11)" in caplog.text
    assert rollback(to="r2")
    assert s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>home v2</h1>"


# -- kills and races ---------------------------------------------------------------------------------------
def test_a_rollback_killed_mid_way_then_rerun_ends_exact(s3: Any, tmp_path: Path, aws: Any, distribution: str) -> None:
    v1, _, v3 = three_releases(s3, tmp_path)
    killed = run_driver(ROLLBACK_PROCESS, ["--kill-after-restores", "2"], ["--bucket", BUCKET, "--to", "r1", "--workers", "1"], env=aws.environment())
    assert killed.returncode == -9
    middle = snapshot(s3)
    assert middle != v1 and middle != v3  # half-written
    result = rollback(to="r1", distribution_id=distribution)
    assert result and result["release"] == "r4"
    assert snapshot(s3) == v1
    differing = sorted(set(v1) ^ set(v3) | {key for key in set(v1) & set(v3) if v1[key] != v3[key]})
    assert {path for path in invalidation_paths(distribution, result["invalidation_id"]) if not path.endswith("/")} == {
        "/" + k for k in differing
    }
    # and the next deploy of v3 trusts nothing the killed run may have touched
    v3_files = version(3)
    v3_files["logo.svg"] = b"<svg>v3</svg>"
    deploy(tmp_path, v3_files)
    assert snapshot(s3) == v3


def test_a_deploy_racing_a_rollback_fails_cleanly(s3: Any, tmp_path: Path, aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    v1, _, _ = three_releases(s3, tmp_path)
    flag = tmp_path / "go"
    paused = start_driver(ROLLBACK_PROCESS, ["--pause-after-lock", str(flag)], ["--bucket", BUCKET, "--to", "r1"], env=aws.environment())
    wait_ready(flag, paused)
    app = write_site(tmp_path / "racer", version(9))
    with caplog.at_level("ERROR"):
        assert build_and_sync_app(None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", delete=True) is False
    assert "is syncing this site" in caplog.text and "nothing was changed" in caplog.text
    flag.touch()
    code, _, stderr = finish(paused)
    assert code == 0, stderr
    assert snapshot(s3) == v1


def test_a_rollback_racing_a_deploy_fails_cleanly(s3: Any, tmp_path: Path, aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    three_releases(s3, tmp_path)
    app = write_site(tmp_path / "racer", version(9))
    flag = tmp_path / "go"
    arguments = ["--bucket-name", BUCKET, "--app-path", str(app), "--no-build", "--output-dir", "out", "--delete"]
    paused = start_driver(DEPLOY_PROCESS, ["--pause-after-lock", str(flag)], arguments, env=aws.environment())
    wait_ready(flag, paused)
    with caplog.at_level("ERROR"):
        assert rollback(to="r1") is False
    assert "is syncing this site" in caplog.text
    flag.touch()
    code, _, stderr = finish(paused)
    assert code == 0, stderr
    assert {key: value[0] for key, value in snapshot(s3).items()} == version(9)
    assert [row["id"] for row in releases_hook(None, None, bucket=BUCKET)["releases"]] == ["r1", "r2", "r3", "r4"]


def test_releases_table_and_json(s3_versioned: Any, tmp_path: Path, aws: Any) -> None:
    three_releases(s3_versioned, tmp_path)
    environment = {**os.environ, **aws.environment(), "PYTHONPATH": str(REPO), "GITHUB_ACTIONS": "", "CI": ""}
    base = [sys.executable, "-m", "runway_ext", "site", "releases", "--bucket", BUCKET]
    table = subprocess.run(base, env=environment, capture_output=True, text=True, timeout=60)
    lines = table.stdout.splitlines()
    assert table.returncode == 0 and lines[0].split() == ["RELEASE", "TIME", "SOURCE", "FILES", "CHANGED", "DEPLOYED", "BY"]
    assert [line.split()[0] for line in lines[1:]] == ["*", "r2", "r1"] and lines[1].split()[1] == "r3"
    as_json = json.loads(subprocess.run([*base, "--json"], env=environment, capture_output=True, text=True, timeout=60).stdout)
    assert [row["id"] for row in as_json["releases"]] == ["r1", "r2", "r3"] and as_json["releases"][1]["changed"] == 4


# -- cost: copies only of what differs ----------------------------------------------------------------------
@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every S3/CloudFront API call of this process, by operation (a spy: each call still goes to the moto server)."""
    import botocore.client

    calls: list[tuple[str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return calls


def test_deploys_and_rollbacks_copy_only_what_differs(s3: Any, tmp_path: Path, s3_calls: list[tuple[str, dict[str, Any]]]) -> None:
    deploy(tmp_path, version(1))
    s3_calls.clear()
    deploy(tmp_path, version(2))  # home page edited, page-07 added, page-01 deleted
    kept = [params["Key"] for operation, params in s3_calls if operation == "CopyObject"]
    assert sorted(kept) == ([] if s3.versioned else sorted(blob_key("", sha) for sha in _shas(b"<h1>home v2</h1>", b"<h1>page 7</h1>")))
    s3_calls.clear()
    assert rollback(steps=1)
    operations = [operation for operation, _ in s3_calls]
    written = sorted(params["Key"] for operation, params in s3_calls if operation == "CopyObject")
    assert written == ["index.html", "page-01/index.html"] and "PutObject" in operations
    assert "ListObjectVersions" not in operations  # the versions the releases recorded are used directly
    assert [params["Delete"]["Objects"] for operation, params in s3_calls if operation == "DeleteObjects"] == [
        [{"Key": "page-07/index.html"}]
    ]


def _shas(*contents: bytes) -> list[str]:
    import hashlib

    return [hashlib.sha256(content).hexdigest() for content in contents]


def test_diff_cli_marks_each_path(s3_versioned: Any, tmp_path: Path, aws: Any) -> None:
    three_releases(s3_versioned, tmp_path)
    environment = {**os.environ, **aws.environment(), "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "runway_ext.hooks.site", "diff", "r1", "r2", "--bucket", BUCKET],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "r1 -> r2: 4 path(s) differ",
        "M /index.html",
        "D /page-01/index.html",
        "A /page-07/index.html",
        "H /style.css",
    ]


def test_of_two_concurrent_rollbacks_one_wins_cleanly(s3: Any, tmp_path: Path, aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    v1, v2, _ = three_releases(s3, tmp_path)
    flag = tmp_path / "go"
    paused = start_driver(ROLLBACK_PROCESS, ["--pause-after-lock", str(flag)], ["--bucket", BUCKET, "--to", "r1"], env=aws.environment())
    wait_ready(flag, paused)
    with caplog.at_level("ERROR"):
        assert rollback(to="r2") is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "is syncing this site" in errors[0] and "nothing was changed" in errors[0], errors
    flag.touch()
    code, _, stderr = finish(paused)
    assert code == 0, stderr
    assert snapshot(s3) == v1
    assert [row["id"] for row in releases_hook(None, None, bucket=BUCKET)["releases"]] == ["r1", "r2", "r3", "r4"]
    assert rollback(to="r2") and snapshot(s3) == v2  # the loser, rerun, ends exact


# -- order: a viewer of the site never misses a file mid-rollback ----------------------------------------
def test_a_rollback_writes_keys_the_site_lacks_then_overwritten_files_then_pages(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rolling back to v1 brings back its chunk (deleted by v2) before ``main.js``, which imports it, is overwritten."""
    deploy(
        tmp_path, {"index.html": b"<script src=/main.js> v1", "main.js": b"import './chunk-1.js'", "chunk-1.js": b"1", "style.css": b"a"}
    )
    deploy(
        tmp_path,
        {"index.html": b"<script src=/main.js> v2", "main.js": b"import './chunk-2.js'", "chunk-2.js": b"2", "style.css": b"a"},
        cache_rules=LONG_CACHE,
    )
    s3.delete_object(Bucket=BUCKET, Key="chunk-1.js")  # its skew window is over: the rollback must bring it back
    import botocore.client

    events: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation: str, params: dict[str, Any]) -> Any:
        site_write = operation == "CopyObject" and ".runway-ext/" not in params["Key"]
        if site_write:
            events.append(("start", params["Key"]))
        try:
            return original(self, operation, params)
        finally:
            if site_write:
                events.append(("end", params["Key"]))

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    assert rollback(steps=1)
    waves = [["chunk-1.js"], ["main.js", "style.css"], ["index.html"]]  # restored, restored + re-headered, page
    assert sorted(key for what, key in events if what == "end") == sorted(key for wave in waves for key in wave)
    position = {event: number for number, event in enumerate(events)}
    for earlier, later in zip(waves, waves[1:], strict=False):
        assert max(position[("end", key)] for key in earlier) < min(position[("start", key)] for key in later), events
    assert s3.get_object(Bucket=BUCKET, Key="main.js")["Body"].read() == b"import './chunk-1.js'"
    assert s3.head_object(Bucket=BUCKET, Key="style.css")["CacheControl"] != LONG_CACHE[0]["cache_control"]


def test_a_rollback_after_default_deploys_leaves_hand_uploaded_objects_alone(s3_versioned: Any, tmp_path: Path) -> None:
    """In-place syncs delete only what the site published, so their releases do not own the prefix: neither does a rollback."""
    deploy(tmp_path, version(1))
    s3_versioned.put_object(Bucket=BUCKET, Key="downloads/report.pdf", Body=b"%PDF-1.7")
    deploy(tmp_path, version(2))
    assert rollback(steps=1)
    assert {key for key in snapshot(s3_versioned) if not key.startswith("page-")} == {
        "index.html",
        "style.css",
        "logo.svg",
        "downloads/report.pdf",
    }
    assert {key for key in snapshot(s3_versioned) if key.startswith("page-")} == {key for key in version(1) if key.startswith("page-")}
