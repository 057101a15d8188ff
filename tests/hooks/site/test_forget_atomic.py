"""``site forget`` on an atomic site: the moto server (S3, CloudFront) and local mode's KeyValueStore data plane,
driven by the real boto3 ``cloudfront-keyvaluestore`` client the hooks use (as in the previews' tests)."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import runway_ext.hooks.site.forget as forget_module
import runway_ext.static_site.atomic_deploy as atomic_deploy_module
from runway_ext.cli import main
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import forget_hook, rollback_hook
from runway_ext.static_site.kvs import KvsClient
from runway_ext.static_site.layout import release_key
from runway_ext.static_site.records import parse_release
from tests.hooks.site.test_rollback import distribution, invalidation_paths

__all__ = ["distribution"]

BUCKET = "release-bucket"
SECRET = b'{"api_key": "sk_live_0123456789abcdef"}'
RELEASES = ".runway-ext-releases/"


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture(params=["versioned", "unversioned"])
def s3(request: pytest.FixtureRequest, aws: Any) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    if request.param == "versioned":
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def store(aws: Any) -> str:
    return str(boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"])


def site(n: int, **extra: bytes) -> dict[str, bytes]:
    return {
        "index.html": f"<h1>home v{n}</h1>".encode(),
        "404.html": b"<h1>missing</h1>",
        "assets/app.11111111.js": b"console.log(1)",
        **{name.replace("__", "/").replace("_", "."): content for name, content in extra.items()},
    }


def deploy(tmp_path: Path, arn: str, files: dict[str, bytes], **args: Any) -> Any:
    app = tmp_path / "app"
    shutil.rmtree(app, ignore_errors=True)
    for name, content in files.items():
        path = app / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return build_and_sync_app(
        None,
        None,
        bucket_name=BUCKET,
        app_path=str(app),
        build=False,
        output_dir="out",
        key_value_store_arn=arn,
        shared_prefixes=["assets/"],
        **args,
    )


def every_byte(client: Any) -> dict[tuple[str, str], bytes]:
    """Every object version in the bucket ((key, version id) → bytes; ``null`` in an unversioned bucket)."""
    found = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for item in page.get("Versions", []):
            body = client.get_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])["Body"].read()
            found[(item["Key"], item["VersionId"])] = body
    return found


def holding(client: Any, content: bytes) -> list[str]:
    return sorted({key for (key, _), body in every_byte(client).items() if body == content})


def record(client: Any, rid: str) -> Any:
    return parse_release(client.get_object(Bucket=BUCKET, Key=release_key("", rid))["Body"].read(), rid)


def live(arn: str) -> str:
    value, _ = KvsClient.from_session(boto3.Session()).get_key(arn, "live")
    assert value is not None
    return str(json.loads(value)["r"])


def forget(arn: str | None, *paths: str, **args: Any) -> Any:
    return forget_hook(None, None, bucket_name=BUCKET, paths=list(paths), key_value_store_arn=arn, **args)


def secret_in_r1_removed_in_r2(s3: Any, tmp_path: Path, store: str) -> None:
    assert deploy(tmp_path, store, site(1, config_json=SECRET))
    assert deploy(tmp_path, store, site(2))
    assert holding(s3, SECRET) == [f"{RELEASES}r1/config.json"]


def test_forget_deletes_the_release_objects_marks_the_records_and_a_rollback_serves_the_rest(
    s3: Any, tmp_path: Path, store: str, distribution: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    result = forget(store, "config.json", distribution_id=distribution)
    assert result, "forget failed"
    assert result["records"] == ["r1"] and result["kept"] == {}
    assert [item.split(" (version")[0] for item in result["purged"]] == [f"{RELEASES}r1/config.json"]
    assert holding(s3, SECRET) == [], "no version of any object holds the bytes"
    assert dict(record(s3, "r1").forgotten) == {"config.json": hashlib.sha256(SECRET).hexdigest()}
    assert "config.json" not in record(s3, "r1").objects and set(record(s3, "r1").objects) == set(site(1))
    # the edge caches an atomic answer under the rewritten URI; the viewer path only under the root fallback
    assert invalidation_paths(distribution, result["invalidation_id"]) == [f"/{RELEASES}r1/config.json", "/config.json"]

    with caplog.at_level("WARNING"):
        back = rollback_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, to="r1")
    assert back and (back["target"], back["verified"], back["left_out"]) == ("r1", 3, ["config.json"])
    assert live(store) == "r1" and "forgotten path(s) left out" in caplog.text
    # the edge maps /config.json to the release object, which is gone: S3 answers as for any missing key (404 page)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=f"{RELEASES}r1/config.json")
    rerun = forget(store, "config.json")
    assert rerun and rerun["purged"] == [] and rerun["records"] == []


def test_content_the_live_release_serves_under_another_path_is_named_and_kept(s3: Any, tmp_path: Path, store: str) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    assert deploy(tmp_path, store, site(3, public_json=SECRET))  # the same bytes, live under another path
    result = forget(store, "config.json")
    assert result and list(result["kept"].values()) == [["public.json"]]
    assert holding(s3, SECRET) == [f"{RELEASES}r3/public.json"], "r1's copy went, the live one stayed"
    assert result["records"] == ["r1"] and "public.json" in record(s3, "r3").objects


def test_a_path_a_preview_serves_is_refused_and_its_content_elsewhere_kept(
    s3: Any, tmp_path: Path, store: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    assert deploy(tmp_path, store, site(3, config_json=SECRET), preview="pr-3", preview_domain="preview.example.com")
    before = every_byte(s3)
    with caplog.at_level("ERROR"):
        assert forget(store, "config.json") is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "still served by preview pr-3 (release r3)" in errors[0] and "nothing was changed" in errors[0]
    assert every_byte(s3) == before
    assert deploy(tmp_path, store, site(4, copy_json=SECRET), preview="pr-3", preview_domain="preview.example.com")
    result = forget(store, "config.json")
    assert result and list(result["kept"].values()) == [["copy.json"]]
    assert holding(s3, SECRET) == [f"{RELEASES}r4/copy.json"]


@pytest.mark.parametrize(
    "forged",
    [
        {"../other-site/index.html": "object"},
        {f"{RELEASES}r2/index.html": "object"},  # another release's object, as if it were a site path
        {"/etc/passwd": "forgotten"},
    ],
)
def test_a_forged_record_naming_keys_outside_the_site_is_refused_and_nothing_changes(
    s3: Any, tmp_path: Path, store: str, forged: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    key = release_key("", "r1")
    document = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    for name, where in forged.items():
        if where == "object":
            document["objects"][name] = document["objects"]["config.json"]
        else:
            document["forgotten"] = {name: document["objects"]["config.json"]["sha256"]}
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(document).encode())
    before = every_byte(s3)
    with caplog.at_level("ERROR"):
        assert forget(store, "config.json") is False
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "release r1: its record names 1 key(s) this site may not write" in errors[0]
    assert every_byte(s3) == before


def test_an_atomic_site_needs_its_store_and_release_folders_are_no_paths(s3: Any, tmp_path: Path, store: str, capsys: Any) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    before = every_byte(s3)
    assert main(["site", "forget", "config.json", "--bucket-name", BUCKET]) == 1
    assert "key_value_store_arn: s3://release-bucket/ is deployed as atomic releases" in capsys.readouterr().err
    assert main(["site", "forget", f"{RELEASES}r2/index.html", "--bucket-name", BUCKET, "--key-value-store-arn", store]) == 1
    assert "where the atomic releases keep their objects" in capsys.readouterr().err
    assert every_byte(s3) == before
    assert main(["site", "forget", "config.json", "--bucket-name", BUCKET, "--key-value-store-arn", store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("forgot config.json in s3://release-bucket/: ") and f"purged {RELEASES}r1/config.json" in out


def test_two_forgets_at_once_one_takes_the_lock_the_other_stops_in_one_line(
    s3: Any, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    plan, results, calls = forget_module.plan_forget, [], []

    def planned_while_another_forgets(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first run has read everything; a second one runs to the end before it takes the lock
            results.append(forget(store, "config.json"))
        return plan(*args, **kwargs)

    monkeypatch.setattr(forget_module, "plan_forget", planned_while_another_forgets)
    with caplog.at_level("ERROR"):
        assert forget(store, "config.json") is False
    assert results[0] and results[0]["records"] == ["r1"]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "wrote the site manifest while this one ran" in errors[0]
    assert holding(s3, SECRET) == [] and "config.json" in record(s3, "r1").forgotten


def test_a_deploy_racing_a_forget_stops_before_writing_and_a_rerun_deploys(
    s3: Any, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    plan, results = atomic_deploy_module.plan_next, []

    def planned_while_a_forget_runs(*args: Any, **kwargs: Any) -> Any:
        if not results:  # the deploy has read the records (r1 still naming config.json); a forget runs to the end
            results.append(forget(store, "config.json"))
        return plan(*args, **kwargs)

    monkeypatch.setattr(atomic_deploy_module, "plan_next", planned_while_a_forget_runs)
    with caplog.at_level("ERROR"):
        assert deploy(tmp_path, store, site(3)) is False
    assert results[0] and "wrote the site manifest while this one ran" in caplog.text
    assert live(store) == "r2" and holding(s3, SECRET) == []
    again = deploy(tmp_path, store, site(3))
    assert again and again["release"] == "r3" and live(store) == "r3"


def test_a_forget_racing_a_deploy_stops_before_writing_and_a_rerun_forgets(
    s3: Any, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    plan, results = forget_module.plan_forget, []

    def planned_while_a_deploy_runs(*args: Any, **kwargs: Any) -> Any:
        if not results:
            results.append(deploy(tmp_path, store, site(3)))
        return plan(*args, **kwargs)

    monkeypatch.setattr(forget_module, "plan_forget", planned_while_a_deploy_runs)
    assert forget(store, "config.json") is False
    assert results[0] and live(store) == "r3"
    assert holding(s3, SECRET) == [f"{RELEASES}r1/config.json"] and "config.json" in record(s3, "r1").objects, "nothing written"
    monkeypatch.setattr(forget_module, "plan_forget", plan)
    assert forget(store, "config.json") and holding(s3, SECRET) == []


def test_a_record_changed_behind_its_back_stops_the_forget_before_any_purge(
    s3: Any, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_in_r1_removed_in_r2(s3, tmp_path, store)
    plan = forget_module.plan_forget
    key = release_key("", "r1")

    def planned_while_the_record_is_edited(*args: Any, **kwargs: Any) -> Any:
        document = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        document["deployed_by"] = "someone@else"
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(document).encode())
        return plan(*args, **kwargs)

    monkeypatch.setattr(forget_module, "plan_forget", planned_while_the_record_is_edited)
    with caplog.at_level("ERROR"):
        assert forget(store, "config.json") is False
    assert "release r1: its record changed while this run forgot paths in it; rerun" in caplog.text
    assert holding(s3, SECRET) == [f"{RELEASES}r1/config.json"]
    monkeypatch.setattr(forget_module, "plan_forget", plan)
    assert forget(store, "config.json") and holding(s3, SECRET) == []


PROCESS = Path(__file__).with_name("forget_process.py")


@pytest.mark.parametrize("kill_at", ["records", "purge:1"])
def test_a_forget_killed_between_its_record_rewrites_and_its_last_purge_is_finished_by_a_rerun(
    s3: Any, tmp_path: Path, store: str, kill_at: str
) -> None:
    assert deploy(tmp_path, store, site(1, config_json=SECRET, assets__key_0123abcd_js=SECRET))
    assert deploy(tmp_path, store, site(2))
    assert holding(s3, SECRET) == [f"{RELEASES}r1/config.json", f"{RELEASES}shared/assets/key.0123abcd.js"]
    argv = [sys.executable, str(PROCESS), "--kill-at", kill_at, "--", "config.json", "--bucket-name", BUCKET]
    killed = subprocess.run([*argv, "--key-value-store-arn", store], capture_output=True, text=True, timeout=180, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert set(record(s3, "r1").forgotten) == {"config.json", "assets/key.0123abcd.js"}  # records first
    assert len(holding(s3, SECRET)) == (2 if kill_at == "records" else 1)
    rerun = forget(store, "config.json")  # the killed run's lock: a dead pid here, taken over at once
    assert rerun and rerun["records"] == [] and holding(s3, SECRET) == []


@pytest.fixture
def edge(aws: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The CDN blueprint's atomic stack (moto's CloudFormation) served by the local edge, its live functions in node."""
    from runway_ext.local.edge_fleet import EdgeFleet
    from runway_ext.local.moto_cloudformation import install
    from runway_ext.local.moto_invalidations import install_invalidation_delay
    from tests.local.test_edge_releases import create_stack

    install()
    install_invalidation_delay(0)
    outputs = create_stack("atomic", tmp_path / "stack", BucketName=BUCKET)
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        yield {"fleet": fleet, "url": fleet.sites()[outputs["DistributionId"]], **outputs}
    finally:
        fleet.stop()


def test_on_the_edge_the_cached_release_object_goes_with_its_rewritten_path_and_a_rollback_answers_404(
    edge: dict[str, Any], tmp_path: Path
) -> None:
    from tests.local.test_edge_releases import NAVIGATION, SCRIPT, fetch

    store, distribution, url = edge["KeyValueStoreArn"], edge["DistributionId"], edge["url"]
    cached = [{"pattern": "*.json", "cache_control": "public, max-age=600"}]
    assert deploy(tmp_path, store, site(1, config_json=SECRET), cache_rules=cached)
    assert deploy(tmp_path, store, site(2), cache_rules=cached)
    pinned = {**SCRIPT, "Cookie": "rwx-release=r1"}  # a tab still on r1 (the skew window) gets r1's objects
    assert fetch(url + "config.json", pinned).body == SECRET
    # invalidating the viewer path alone leaves the answer cached under the path the function rewrote it to
    cloudfront = boto3.client("cloudfront")
    cloudfront.create_invalidation(
        DistributionId=distribution, InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/config.json"]}, "CallerReference": "viewer"}
    )
    edge["fleet"].poll_once()
    again = fetch(url + "config.json", pinned)
    assert (again.body, again.header("X-Cache")) == (SECRET, "Hit from cloudfront")

    result = forget(store, "config.json", distribution_id=distribution)
    assert result and f"/{RELEASES}r1/config.json" in result["invalidation_paths"]
    edge["fleet"].poll_once()
    gone = fetch(url + "config.json", pinned)
    assert (gone.status, gone.body) == (404, b"<h1>missing</h1>")

    back = rollback_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, to="r1")
    assert back and back["left_out"] == ["config.json"]
    assert fetch(url, NAVIGATION).body == b"<h1>home v1</h1>"
    for headers in (NAVIGATION, SCRIPT):
        answer = fetch(url + "config.json", headers)
        assert (answer.status, answer.body) == (404, b"<h1>missing</h1>")
