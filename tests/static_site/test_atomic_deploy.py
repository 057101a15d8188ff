"""Atomic releases on the moto server: a deploy writes release r<N> beside the live one, then switches ONE pointer.

S3 is the moto server. The pointer store is the FAKE file store of ``fake_pointer.py`` (the product's KVS client
is the edge's and is tested there): it keeps the compare-and-swap contract, so races and kills are real
(separate processes, SIGKILL) everywhere but in the store itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

import runway_ext.hooks.npm_build.hook as hook_module
import runway_ext.hooks.site.rollback as rollback_module
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import diff_hook, releases_hook, rollback_hook
from runway_ext.static_site.layout import RELEASE_OBJECTS_FOLDER, index_key
from runway_ext.static_site.records import parse_index
from tests.static_site.fake_pointer import FakeFilePointerStore
from tests.support.cli_process import finish, run_driver, start_driver, wait_ready

BUCKET = "atomic-site"
ARN = "arn:aws:cloudfront::123456789012:key-value-store/11111111-2222-3333-4444-555555555555"
PROCESS = Path(__file__).with_name("atomic_deploy_process.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture
def s3(aws: Any) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def pointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFilePointerStore:
    store = FakeFilePointerStore(tmp_path / "pointer.json")
    for module in (hook_module, rollback_module):
        monkeypatch.setattr(module, "KvsPointerStore", lambda session, arn, prefix: FakeFilePointerStore(store.path, prefix))
    return store


def write_site(folder: Path, files: dict[str, bytes]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    for name, content in files.items():
        path = folder / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def site(n: int) -> dict[str, bytes]:
    """Version n: the home page changes, the rest stays; one hashed asset per version under assets/."""
    return {
        "index.html": f"<h1>home v{n}</h1>".encode(),
        "about/index.html": b"<h1>about</h1>",
        "404.html": b"<h1>not found</h1>",
        "style.css": b"body{color:red}",
        "assets/app.11111111.js": b"console.log(1)",
        **({f"assets/v{n}.2222222{n}.js": f"console.log({n})".encode()} if n > 1 else {}),
    }


def deploy(tmp_path: Path, files: dict[str, bytes], **args: Any) -> Any:
    app = write_site(tmp_path / "app", files)
    return build_and_sync_app(
        None,
        None,
        bucket_name=BUCKET,
        app_path=str(app),
        build=False,
        output_dir="out",
        key_value_store_arn=ARN,
        shared_prefixes=["assets/"],
        **args,
    )


def keys(s3: Any, prefix: str = "") -> list[str]:
    return sorted(
        item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix) for item in page.get("Contents", [])
    )


def body(s3: Any, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def live(pointer: FakeFilePointerStore) -> dict[str, Any]:
    raw = pointer.raw()
    assert raw is not None
    return dict(json.loads(raw))


def test_a_first_deploy_writes_release_r1_records_it_then_switches_the_pointer(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    result = deploy(tmp_path, site(1))
    assert result["layout"] == "atomic" and result["release"] == "r1"
    assert (result["uploaded"], result["copied"], result["unchanged"]) == (5, 0, 0)
    assert result["switch_seconds"] is not None and result["switch_seconds"] >= 0
    assert live(pointer) == {"v": 1, "r": "r1", "s": ["assets/"], "k": []}
    folder = RELEASE_OBJECTS_FOLDER
    assert keys(s3, folder) == sorted(
        [f"{folder}r1/index.html", f"{folder}r1/about/index.html", f"{folder}r1/404.html", f"{folder}r1/style.css", f"{folder}shared/assets/app.11111111.js"]
    )
    assert body(s3, f"{folder}r1/index.html") == b"<h1>home v1</h1>"
    head = s3.head_object(Bucket=BUCKET, Key=f"{folder}r1/index.html", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] and head["ContentType"].startswith("text/html")
    # the plain keys: only the error page CloudFront fetches without the router
    assert [key for key in keys(s3) if not key.startswith((".runway-ext/", folder))] == ["404.html"]
    summary = parse_index(body(s3, index_key(""))).releases[-1]
    assert (summary.id, summary.layout, summary.shared) == ("r1", "atomic", ("assets/",))


def test_the_next_deploy_uploads_only_new_bytes_and_copies_the_rest_server_side(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    deploy(tmp_path, site(1))
    result = deploy(tmp_path, site(2))
    # new: index.html (changed) and the new hashed asset; copied: about, 404, style; unchanged: the shared app.js
    assert (result["uploaded"], result["copied"], result["unchanged"]) == (2, 3, 1)
    assert result["bytes_uploaded"] == len(site(2)["index.html"]) + len(site(2)["assets/v2.22222222.js"])
    assert live(pointer) == {"v": 1, "r": "r2", "s": ["assets/"], "k": ["r1"]}
    assert body(s3, f"{RELEASE_OBJECTS_FOLDER}r1/index.html") == b"<h1>home v1</h1>", "the previous release is untouched"
    assert body(s3, f"{RELEASE_OBJECTS_FOLDER}r2/index.html") == b"<h1>home v2</h1>"
    assert "/index.html" in result["changed_paths"] and "/style.css" not in result["changed_paths"]


def test_a_rerun_of_the_live_build_says_nothing_to_do(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    deploy(tmp_path, site(1))
    writes = pointer.raw()
    again = deploy(tmp_path, site(1))
    assert again["skipped"] is True and again["release"] == "r1"
    assert pointer.raw() == writes
    assert [summary.id for summary in parse_index(body(s3, index_key(""))).releases] == ["r1"]


def test_a_shared_file_with_new_bytes_is_refused_in_one_line_and_nothing_goes_live(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    before = pointer.raw()
    changed = {**site(2), "assets/app.11111111.js": b"console.log('other bytes')"}
    assert deploy(tmp_path, changed) is False
    assert "shared_prefixes:" in caplog.text and "never overwritten" in caplog.text
    assert pointer.raw() == before
    assert not keys(s3, f"{RELEASE_OBJECTS_FOLDER}r2/")


def test_a_pointer_changed_behind_the_deploys_back_is_refused_unless_taken_over(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    foreign = '{"v":1,"r":"r1","s":[],"k":[]}'
    pointer.set_raw(foreign)
    assert deploy(tmp_path, site(2)) is False
    assert "changed behind their back" in caplog.text
    assert pointer.raw() == foreign and not keys(s3, f"{RELEASE_OBJECTS_FOLDER}r2/")
    assert deploy(tmp_path, site(2), take_over=True)["release"] == "r2"
    assert live(pointer)["r"] == "r2"


def test_a_pointer_naming_a_release_without_a_record_is_refused(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    pointer.set_raw('{"v":1,"r":"r9","s":[],"k":[]}')
    assert deploy(tmp_path, site(2), take_over=True) is False
    assert "names release r9, which has no record" in caplog.text


def test_once_atomic_an_in_place_deploy_is_refused_in_one_line(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    app = write_site(tmp_path / "app", site(2))
    assert build_and_sync_app(None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out") is False
    assert "is deployed as atomic releases (since r1)" in caplog.text
    assert "index.html" not in keys(s3)


def test_the_switch_loses_to_a_concurrent_switch_and_nothing_of_it_is_live(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another writer switches the pointer after this deploy read it: the compare-and-swap fails, one line."""
    deploy(tmp_path, site(1))
    from runway_ext.static_site import atomic_deploy

    real = atomic_deploy.timed_swap

    def racing(store: Any, value: Any, expected: Any) -> Any:
        pointer.set_raw('{"v":1,"r":"r1","s":[],"k":[]}')  # another writer, between this deploy's read and its write
        return real(store, value, expected)

    monkeypatch.setattr(atomic_deploy, "timed_swap", racing)
    assert deploy(tmp_path, site(2)) is False
    assert "someone else changed it" in caplog.text
    assert live(pointer)["r"] == "r1"


def run_process(pointer: FakeFilePointerStore, tmp_path: Path, files: dict[str, bytes], kill_at: str = "") -> subprocess.CompletedProcess[str]:
    app = write_site(tmp_path / "app", files)
    return run_driver(PROCESS, [str(pointer.path), *(["--kill-at", kill_at] if kill_at else [])], cli_arguments(app))


def cli_arguments(app: Path) -> list[str]:
    """The npm-build CLI arguments of an atomic deploy of ``app``'s prebuilt ``out``."""
    arguments = ["--bucket-name", BUCKET, "--app-path", str(app), "--no-build", "--output-dir", "out"]
    return arguments + ["--key-value-store-arn", ARN, "--shared-prefixes", "assets/"]


@pytest.mark.parametrize("kill_at", ["upload:1", "upload:2", "record", "journal"])
def test_a_deploy_killed_before_the_pointer_write_leaves_the_live_site_as_it_was_and_a_rerun_finishes(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, kill_at: str
) -> None:
    assert run_process(pointer, tmp_path, site(1)).returncode == 0
    before_pointer = pointer.raw()
    before_root = {key: body(s3, key) for key in keys(s3) if not key.startswith((".runway-ext/", RELEASE_OBJECTS_FOLDER))}
    killed = run_process(pointer, tmp_path, site(2), kill_at)
    assert killed.returncode == -9, killed.stderr
    assert pointer.raw() == before_pointer
    assert {key: body(s3, key) for key in keys(s3) if not key.startswith((".runway-ext/", RELEASE_OBJECTS_FOLDER))} == before_root
    rerun = run_process(pointer, tmp_path, site(2))
    assert rerun.returncode == 0, rerun.stderr
    value = live(pointer)
    assert body(s3, f"{RELEASE_OBJECTS_FOLDER}{value['r']}/index.html") == b"<h1>home v2</h1>"
    assert "switched to" in rerun.stdout


def test_a_deploy_killed_right_after_the_pointer_write_is_live_and_recorded_and_a_rerun_has_nothing_to_do(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path
) -> None:
    assert run_process(pointer, tmp_path, site(1)).returncode == 0
    killed = run_process(pointer, tmp_path, site(2), "switch")
    assert killed.returncode == -9
    assert live(pointer)["r"] == "r2"
    assert [summary.id for summary in parse_index(body(s3, index_key(""))).releases] == ["r1", "r2"]
    rerun = run_process(pointer, tmp_path, site(2))
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing to do" in rerun.stdout


def test_two_deploys_racing_one_wins_the_other_fails_in_one_line(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    """The second deploy starts while the first holds the site (paused before its first upload)."""
    assert run_process(pointer, tmp_path, site(1)).returncode == 0
    flag = tmp_path / "go"
    apps = [write_site(tmp_path / f"app{n}", site(n)) for n in (2, 3)]
    first = start_driver(PROCESS, [str(pointer.path), "--pause-before-upload", str(flag)], cli_arguments(apps[0]))
    wait_ready(flag, first)
    second = run_driver(PROCESS, [str(pointer.path)], cli_arguments(apps[1]))
    flag.touch()
    code, _, err = finish(first)
    assert code == 0, err
    assert second.returncode == 1
    errors = [line for line in second.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "Traceback" not in second.stderr, second.stderr
    assert "another deploy" in errors[0] and "nothing was changed" in errors[0]
    assert live(pointer)["r"] == "r2"
    assert body(s3, f"{RELEASE_OBJECTS_FOLDER}r2/index.html") == b"<h1>home v2</h1>"
    assert not [key for key in keys(s3, RELEASE_OBJECTS_FOLDER) if key.endswith("v3.22222223.js")], "nothing of the loser was written"

def rollback(**args: Any) -> Any:
    return rollback_hook(None, None, bucket_name=BUCKET, key_value_store_arn=ARN, **args)


def all_objects(s3: Any) -> dict[str, str]:
    """Every key outside the state folder with its ETag (a rollback that copies nothing leaves this as it was)."""
    return {
        item["Key"]: item["ETag"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
        if not item["Key"].startswith(".runway-ext/") and item["Key"] != "404.html"
    }


def test_an_atomic_rollback_is_one_verified_pointer_write_and_copies_nothing(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    deploy(tmp_path, site(1))
    deploy(tmp_path, site(2))
    before = all_objects(s3)
    result = rollback(steps=1)
    assert (result["layout"], result["target"], result["previous"], result["release"]) == ("atomic", "r1", "r2", "r1")
    assert result["verified"] == 5 and result["verify_seconds"] is not None and result["switch_seconds"] is not None
    assert live(pointer) == {"v": 1, "r": "r1", "s": ["assets/"], "k": ["r2"]}
    assert all_objects(s3) == before, "no object was written or deleted"
    assert body(s3, "404.html") == site(1)["404.html"]
    rows = releases_hook(None, None, bucket_name=BUCKET)["releases"]
    assert [row["id"] for row in rows if row["current"]] == ["r1"]
    assert rollback(to="r1")["release"] is None, "a rollback to the live release has nothing to do"
    assert rollback(to="r2")["release"] == "r2" and live(pointer)["r"] == "r2"
    assert diff_hook(None, None, bucket_name=BUCKET, release_a="r1", release_b="r2")["changed"] == ["index.html"]


def test_a_rollback_target_whose_bytes_changed_is_refused_unless_no_verify(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    deploy(tmp_path, site(2))
    s3.put_object(Bucket=BUCKET, Key=f"{RELEASE_OBJECTS_FOLDER}r1/about/index.html", Body=b"<h1>tampered</h1>", ChecksumAlgorithm="CRC64NVME")
    assert rollback(steps=1) is False
    assert "release r1 is no longer intact" in caplog.text and live(pointer)["r"] == "r2"
    assert rollback(steps=1, no_verify=True)["target"] == "r1" and live(pointer)["r"] == "r1"


def test_a_rollback_refuses_a_pointer_changed_behind_its_back_unless_taken_over(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, site(1))
    deploy(tmp_path, site(2))
    pointer.set_raw('{"v":1,"r":"r2","s":[],"k":[]}')
    assert rollback(steps=1) is False and "changed behind their back" in caplog.text
    assert rollback(steps=1, take_over=True)["target"] == "r1"


def test_a_rollback_to_a_release_from_before_the_switch_restores_it_in_place_and_says_so(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path
) -> None:
    app = write_site(tmp_path / "app", site(1))
    in_place = build_and_sync_app(None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", delete=True)
    assert (in_place["layout"], in_place["release"]) == ("in-place", "r1")
    deploy(tmp_path, site(2))
    assert live(pointer)["r"] == "r2"
    result = rollback(steps=1)
    assert result["target"] == "r1" and "restored the in-place way" in result["note"]
    assert pointer.raw() is None, "the pointer is removed: the CDN serves the root again"
    assert body(s3, "index.html") == site(1)["index.html"]


def test_prune_drops_old_releases_keeps_shared_objects_in_use_and_reports_drift(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path
) -> None:
    deploy(tmp_path, site(1), keep_releases=1, keep_days=0)
    deploy(tmp_path, site(2), keep_releases=1, keep_days=0)
    s3.put_object(Bucket=BUCKET, Key=f"{RELEASE_OBJECTS_FOLDER}r1/style.css", Body=b"changed behind the back")
    third = deploy(tmp_path, site(3), keep_releases=1, keep_days=0)
    assert third["pruned"] == ["r1"]
    assert third["drift"] == [f"{RELEASE_OBJECTS_FOLDER}r1/style.css"]
    assert keys(s3, f"{RELEASE_OBJECTS_FOLDER}r1/") == [f"{RELEASE_OBJECTS_FOLDER}r1/style.css"], "only the drifted object is left"
    assert f"{RELEASE_OBJECTS_FOLDER}shared/assets/app.11111111.js" in keys(s3), "still used by r2 and r3"
    assert live(pointer) == {"v": 1, "r": "r3", "s": ["assets/"], "k": ["r2"]}
    assert [summary.id for summary in parse_index(body(s3, index_key(""))).releases] == ["r2", "r3"]


def test_changing_the_shared_prefixes_is_recorded_and_releases_with_other_ones_leave_the_pin_window(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path
) -> None:
    deploy(tmp_path, site(1))
    app = write_site(tmp_path / "app", site(2))
    result = build_and_sync_app(
        None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", key_value_store_arn=ARN, shared_prefixes=[]
    )
    assert result["release"] == "r2"
    assert live(pointer) == {"v": 1, "r": "r2", "s": [], "k": []}
    assert body(s3, f"{RELEASE_OBJECTS_FOLDER}r2/assets/app.11111111.js") == b"console.log(1)", "per-release now, not shared"
    assert rollback(steps=1)["target"] == "r1" and live(pointer) == {"v": 1, "r": "r1", "s": ["assets/"], "k": []}


def test_a_dry_run_counts_what_it_would_write_and_writes_nothing(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    deploy(tmp_path, site(1))
    before, raw = keys(s3), pointer.raw()
    result = deploy(tmp_path, site(2), dry_run=True)
    assert (result["release"], result["uploaded"], result["copied"], result["unchanged"]) == ("r2", 2, 3, 1)
    assert keys(s3) == before and pointer.raw() == raw


def test_a_site_under_a_prefix_has_its_own_pointer_key_and_folders(s3: Any, pointer: FakeFilePointerStore, tmp_path: Path) -> None:
    result = deploy(tmp_path, site(1), prefix="docs")
    assert result["release"] == "r1"
    docs = FakeFilePointerStore(pointer.path, "docs/")
    raw = docs.raw()
    assert raw is not None and json.loads(raw)["r"] == "r1" and pointer.raw() is None
    assert f"docs/{RELEASE_OBJECTS_FOLDER}r1/index.html" in keys(s3, "docs/")
    assert f"docs/{RELEASE_OBJECTS_FOLDER}shared/assets/app.11111111.js" in keys(s3, "docs/")
    assert "docs/404.html" in keys(s3, "docs/")


@pytest.mark.parametrize("kill_at", ["journal", "switch"])
def test_a_rollback_killed_around_its_pointer_write_leaves_one_whole_release_live_and_a_rerun_finishes(
    s3: Any, pointer: FakeFilePointerStore, tmp_path: Path, kill_at: str
) -> None:
    deploy(tmp_path, site(1))
    deploy(tmp_path, site(2))
    arguments = ["--bucket-name", BUCKET, "--key-value-store-arn", ARN, "--to", "r1"]
    killed = run_driver(PROCESS, [str(pointer.path), "--rollback", "--kill-at", kill_at], arguments)
    assert killed.returncode == -9, killed.stderr
    assert live(pointer)["r"] == ("r2" if kill_at == "journal" else "r1")
    rerun = run_driver(PROCESS, [str(pointer.path), "--rollback"], arguments)
    assert rerun.returncode == 0, rerun.stderr
    assert live(pointer)["r"] == "r1"
    journal = json.loads(body(s3, ".runway-ext/switches.json"))
    assert [switch["release"] for switch in journal["history"]] == ["r1", "r2", "r1"], "the rerun finished the switch's journal"
    assert deploy(tmp_path, site(3))["release"] == "r3", "the site stays deployable: the pointer is one this tool wrote"
