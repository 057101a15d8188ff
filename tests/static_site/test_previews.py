"""Previews of an atomic site: deploy, list, promote, delete, and the prune rule keeping what a preview names.

Against moto (S3) and the KeyValueStore data plane local mode adds to the moto server: an emulation of AWS's
documented KVS behaviour (one ETag per store, ``IfMatch`` on UpdateKeys), driven by the real boto3
``cloudfront-keyvaluestore`` client the hooks use.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.cli import main
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import preview_delete_hook, previews_hook, promote_hook
from runway_ext.static_site import atomic_deploy
from runway_ext.static_site.kvs import KvsClient
from runway_ext.static_site.pointer import KvsPointerStore, PointerConflict, PointerValue
from runway_ext.static_site.previews import GuardedLivePointer
from runway_ext.static_site.s3 import S3Site
from tests.support.cli_process import run_driver

BUCKET = "preview-site"


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture
def store(aws: Any) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return str(boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"])


def deploy(tmp_path: Path, arn: str, home: str, *, files: dict[str, str] | None = None, **extra: Any) -> Any:
    app = tmp_path / "app"
    shutil.rmtree(app, ignore_errors=True)
    for name, content in {"index.html": home, "404.html": "<h1>missing</h1>", "assets/a.12345678.js": "1", **(files or {})}.items():
        path = app / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return build_and_sync_app(
        None,
        None,
        bucket_name=BUCKET,
        app_path=str(app),
        build=False,
        output_dir="out",
        key_value_store_arn=arn,
        shared_prefixes=["assets/"],
        **extra,
    )


def client() -> KvsClient:
    return KvsClient.from_session(boto3.Session())


def key(arn: str, name: str) -> str | None:
    return client().get_key(arn, name)[0]


def objects() -> dict[str, str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: item["ETag"] for item in listed}


def release_objects(rid: str) -> dict[str, str]:
    return {k: v for k, v in objects().items() if k.startswith(f".runway-ext-releases/{rid}/")}


def journal() -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=BUCKET, Key=".runway-ext/switches.json")["Body"].read())


def test_a_preview_deploy_points_only_its_own_key_and_names_its_url(store: str, tmp_path: Path) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    live_before, journal_before = key(store, "live"), journal()
    plain_before = {k: v for k, v in objects().items() if not k.startswith(".runway-ext")}
    assert "404.html" in plain_before
    result = deploy(tmp_path, store, "<h1>reviewed</h1>", preview="pr-7", preview_domain="preview.example.com")
    assert (result["preview"], result["release"], result["preview_url"]) == ("pr-7", "r2", "https://pr-7.preview.example.com/")
    assert (result["uploaded"], result["copied"], result["unchanged"]) == (1, 1, 1)
    assert json.loads(key(store, "preview/pr-7") or "") == {"v": 1, "r": "r2", "s": ["assets/"], "k": []}
    assert key(store, "live") == live_before and journal() == journal_before
    assert {k: v for k, v in objects().items() if k in plain_before} == plain_before  # the plain error page is the live one's
    again = deploy(tmp_path, store, "<h1>next</h1>")  # the live site's next deploy is not refused: its pointer is its own
    assert again["release"] == "r3" and json.loads(key(store, "live") or "")["r"] == "r3"
    assert json.loads(key(store, "preview/pr-7") or "")["r"] == "r2"


@pytest.mark.parametrize("name", ["PR-7", "pr_7", "-pr", "a" * 41, "live", "r12", ""])
def test_a_bad_preview_name_is_refused_in_one_line(store: str, tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture) -> None:
    assert deploy(tmp_path, store, "<h1>x</h1>", preview=name) is False
    message = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert message and "preview" in message[-1] and "\n" not in message[-1] and "Traceback" not in caplog.text
    assert objects() == {} and key(store, "live") is None


def test_the_cli_refuses_a_bad_preview_name(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["npm-build", "--app-path", str(tmp_path), "--bucket-name", BUCKET, "--key-value-store-arn", store, "--preview", "A" * 3])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "preview" in err and len(err.splitlines()) == 1


def test_prune_keeps_every_release_a_preview_names_until_its_key_goes(store: str, tmp_path: Path) -> None:
    deploy(tmp_path, store, "<h1>1</h1>", keep_releases=0, keep_days=0)
    deploy(
        tmp_path, store, "<h1>preview</h1>", preview="feature", files={"assets/b.87654321.js": "2"}
    )  # r2, with a shared asset of its own
    r2_objects = release_objects("r2")
    assert ".runway-ext-releases/shared/assets/b.87654321.js" in objects()
    pruned: list[str] = []
    for n in (3, 4, 5):
        pruned += deploy(tmp_path, store, f"<h1>{n}</h1>", keep_releases=0, keep_days=0)["pruned"]
    assert "r1" in pruned and "r2" not in pruned and release_objects("r1") == {}
    assert r2_objects and release_objects("r2") == r2_objects
    assert ".runway-ext-releases/shared/assets/b.87654321.js" in objects()  # the preview's shared asset stays too
    assert promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="feature")["release"] == "r2"
    back = deploy(tmp_path, store, "<h1>6</h1>", keep_releases=0, keep_days=0)
    assert back["release"] == "r6"
    deleted = preview_delete_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="feature")
    assert (deleted["deleted"], deleted["release"]) == (True, "r2") and key(store, "preview/feature") is None
    pruned = deploy(tmp_path, store, "<h1>7</h1>", keep_releases=0, keep_days=0)["pruned"]
    assert "r2" in pruned and release_objects("r2") == {}
    assert ".runway-ext-releases/shared/assets/b.87654321.js" not in objects()


def test_list_then_promote_moves_the_live_pointer_to_the_reviewed_bytes(store: str, tmp_path: Path) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>reviewed</h1>", preview="pr-7")
    listed = previews_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, preview_domain="preview.localhost")
    (row,) = listed["previews"]
    assert (row["name"], row["release"], row["url"], row["pruned"]) == ("pr-7", "r2", "http://pr-7.preview.localhost/", False)
    assert row["time"] and row["deployed_by"]
    before = {k: v for k, v in objects().items() if k.startswith(".runway-ext-releases/")}
    result = promote_hook(None, None, bucket="preview-site", key_value_store_arn=store, name="pr-7", release=row["release"])
    assert (result["release"], result["previous"], result["switched"]) == ("r2", "r1", True)
    assert (result["uploaded"], result["copied"], result["invalidations"], result["verified"]) == (0, 0, 0, 3)
    assert json.loads(key(store, "live") or "")["r"] == "r2"
    assert before and {k: v for k, v in objects().items() if k.startswith(".runway-ext-releases/")} == before  # no release object written
    assert key(store, "preview/pr-7") is not None  # the preview stays until deleted
    assert deploy(tmp_path, store, "<h1>next</h1>")["release"] == "r3"  # the live deploy accepts the promoted pointer


def test_promote_of_a_preview_changed_since_it_was_listed_switches_nothing(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>one</h1>", preview="pr-7")
    deploy(tmp_path, store, "<h1>two</h1>", preview="pr-7")  # r3 replaces r2 after the listing of r2
    live_before = key(store, "live")
    assert promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="pr-7", release="r2") is False
    assert "now serves r3, not r2" in caplog.text and key(store, "live") == live_before


def test_promote_of_a_pruned_release_or_a_missing_preview_switches_nothing(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    client().put_key_if(store, "preview/gone", '{"v":1,"r":"r99","s":[],"k":[]}', None)
    live_before = key(store, "live")
    assert promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="gone") is False
    assert "r99, which was pruned" in caplog.text
    assert promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="nope") is False
    assert "there is no preview 'nope'" in caplog.text
    assert key(store, "live") == live_before
    listed = previews_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store)["previews"]
    assert [(row["name"], row["pruned"]) for row in listed] == [("gone", True)]


def test_the_live_write_of_a_promote_fails_when_the_preview_key_changes_between_its_read_and_the_write(store: str, tmp_path: Path) -> None:
    """The store's ETag taken with the preview's value is the write's IfMatch: a change in between refuses it."""
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>one</h1>", preview="pr-7")
    live = KvsPointerStore(boto3.Session(), store, "")
    listed = key(store, "preview/pr-7")
    assert listed is not None
    guarded = GuardedLivePointer(live, "preview/pr-7", listed)
    real_call = live.client._call
    other = client()

    def change_preview_first(arn: str, operation: str, **kwargs: Any) -> Any:
        if operation == "update_keys" and key(store, "preview/pr-7") == listed:
            other.put_key_if(store, "preview/pr-7", '{"v":1,"r":"r1","s":["assets/"],"k":[]}', listed)
        return real_call(arn, operation, **kwargs)

    live.client._call = change_preview_first  # type: ignore[method-assign]
    raw_before, _ = live.read()
    with pytest.raises(PointerConflict, match="changed since it was read"):
        guarded.swap(PointerValue("r2", ("assets/",)), raw_before)
    assert key(store, "live") == raw_before


def test_preview_delete_of_a_missing_preview_is_nothing_to_do(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["site", "preview-delete", "pr-9", "--bucket", BUCKET, "--key-value-store-arn", store])
    assert code == 0 and "no preview pr-9" in capsys.readouterr().out


def test_the_cli_lists_and_promotes(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>reviewed</h1>", preview="pr-7")
    capsys.readouterr()
    assert main(["site", "previews", "--bucket-name", BUCKET, "--key-value-store-arn", store, "--preview-domain", "p.example.com"]) == 0
    table = capsys.readouterr().out
    assert "pr-7" in table and "r2" in table and "https://pr-7.p.example.com/" in table
    assert main(["site", "promote", "pr-7", "--bucket", BUCKET, "--key-value-store-arn", store]) == 0
    assert "0 objects uploaded or copied, 0 invalidations" in capsys.readouterr().out


def test_two_preview_deploys_of_one_name_at_once_one_wins_the_other_fails_cleanly(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    live_before = key(store, "live")
    results: dict[str, Any] = {}

    def run(label: str) -> None:
        results[label] = deploy(tmp_path / label, store, f"<h1>{label}</h1>", preview="pr-7")

    threads = [threading.Thread(target=run, args=(label,)) for label in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [result for result in results.values() if result is not False]
    assert len(won) == 1 and len(results) == 2
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "\n" not in errors[0] and "Traceback" not in caplog.text
    assert json.loads(key(store, "preview/pr-7") or "")["r"] == won[0]["release"]
    assert key(store, "live") == live_before


def test_a_first_deploy_that_is_a_preview_leaves_the_live_site_without_a_pointer(store: str, tmp_path: Path) -> None:
    result = deploy(tmp_path, store, "<h1>first</h1>", preview="pr-1", preview_domain="preview.localhost")
    assert (result["release"], result["preview_url"]) == ("r1", "http://pr-1.preview.localhost/")
    assert key(store, "live") is None and json.loads(key(store, "preview/pr-1") or "")["r"] == "r1"
    assert not [k for k in objects() if not k.startswith(".runway-ext")]  # nothing at the plain keys the live site serves
    assert deploy(tmp_path, store, "<h1>live</h1>")["release"] == "r2" and json.loads(key(store, "live") or "")["r"] == "r2"


def test_promote_of_a_preview_whose_objects_changed_behind_its_back_switches_nothing(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>reviewed</h1>", preview="pr-7")
    boto3.client("s3").put_object(Bucket=BUCKET, Key=".runway-ext-releases/r2/index.html", Body=b"<h1>not what was reviewed</h1>")
    live_before = key(store, "live")
    assert promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="pr-7") is False
    assert "release r2 of preview 'pr-7' is no longer intact" in caplog.text and key(store, "live") == live_before


PROCESS = Path(__file__).with_name("preview_deploy_process.py")


def killed_preview_deploy(tmp_path: Path, arn: str, kill_at: str) -> subprocess.CompletedProcess[str]:
    app = tmp_path / "killed"
    for name, content in {"index.html": "<h1>killed</h1>", "404.html": "<h1>missing</h1>", "assets/k.11111111.js": "k"}.items():
        path = app / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    arguments = ["--bucket-name", BUCKET, "--app-path", str(app), "--no-build", "--output-dir", "out"]
    arguments += ["--key-value-store-arn", arn, "--shared-prefixes", "assets/", "--preview", "pr-7"]
    return run_driver(PROCESS, ["--kill-at", kill_at], arguments)


def test_a_preview_deploy_killed_before_its_switch_changes_no_pointer_and_the_rerun_publishes(store: str, tmp_path: Path) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    live_before, journal_before = key(store, "live"), journal()
    killed = killed_preview_deploy(tmp_path, store, "upload:1")
    assert killed.returncode == -signal.SIGKILL
    assert key(store, "preview/pr-7") is None and key(store, "live") == live_before and journal() == journal_before
    result = deploy(tmp_path, store, "<h1>again</h1>", preview="pr-7")
    assert result["release"] == "r2" and json.loads(key(store, "preview/pr-7") or "")["r"] == "r2"
    assert key(store, "live") == live_before


def test_a_preview_deploy_killed_right_after_its_switch_leaves_a_whole_preview_and_the_live_site_deployable(
    store: str, tmp_path: Path
) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    live_before = key(store, "live")
    killed = killed_preview_deploy(tmp_path, store, "preview-switch")
    assert killed.returncode == -signal.SIGKILL
    assert json.loads(key(store, "preview/pr-7") or "")["r"] == "r2" and key(store, "live") == live_before
    listed = previews_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store)["previews"]
    assert [(row["name"], row["release"], row["pruned"]) for row in listed] == [("pr-7", "r2", False)]
    nxt = deploy(tmp_path, store, "<h1>next</h1>", keep_releases=0, keep_days=0)  # the left lock is stale: the live deploy goes on
    assert nxt["release"] == "r3" and "r2" not in nxt["pruned"] and release_objects("r2")


def test_after_a_promote_a_tab_pinned_to_the_release_live_before_may_still_reach_it(store: str, tmp_path: Path) -> None:
    deploy(tmp_path, store, "<h1>live</h1>")
    deploy(tmp_path, store, "<h1>reviewed</h1>", preview="pr-7")
    promote_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, name="pr-7")
    assert json.loads(key(store, "live") or "") == {"v": 1, "r": "r2", "s": ["assets/"], "k": ["r1"]}


class _OnMessage(logging.Handler):
    """Sets ``event`` when a log line containing ``text`` is emitted."""

    def __init__(self, text: str, event: threading.Event) -> None:
        super().__init__(logging.INFO)
        self.text, self.event = text, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.fixture
def preview_paused_in_its_upload(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """(holds, go): the first release upload of the thread named ``preview`` sets ``holds`` (the preview holds the
    site lock) and waits for ``go``. The uploads run in worker threads, so the deploy's thread is told by a flag."""
    holds, go = threading.Event(), threading.Event()
    upload = S3Site.put_release_object

    def paused(self: S3Site, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "paused_preview", False) and not holds.is_set():
            holds.set()
            assert go.wait(60), "the live deploy never waited for the preview"
        return upload(self, *args, **kwargs)

    monkeypatch.setattr(S3Site, "put_release_object", paused)
    site_init = S3Site.__init__

    def marked(self: S3Site, *args: Any, **kwargs: Any) -> None:
        site_init(self, *args, **kwargs)
        self.paused_preview = threading.current_thread().name == "preview"  # type: ignore[attr-defined]

    monkeypatch.setattr(S3Site, "__init__", marked)
    return holds, go


def run_in_thread(results: dict[str, Any], label: str, target: Any) -> threading.Thread:
    def run() -> None:
        results[label] = target()

    thread = threading.Thread(target=run, name=label)
    thread.start()
    return thread


@pytest.mark.parametrize("live_read_first", [False, True], ids=["preview-locked-first", "preview-locks-between-live-read-and-lock"])
def test_a_live_deploy_and_a_preview_deploy_at_once_both_succeed(
    store: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    preview_paused_in_its_upload: tuple[threading.Event, threading.Event],
    live_read_first: bool,
) -> None:
    """The live deploy waits for the preview's run (it logs so), reads the site again and releases after it."""
    caplog.set_level(logging.INFO)
    deploy(tmp_path / "first", store, "<h1>v1</h1>")
    holds, go = preview_paused_in_its_upload
    handler = _OnMessage("waiting for the preview:pr-7 run", go)
    logging.getLogger().addHandler(handler)
    live_read = threading.Event()
    if live_read_first:  # the live deploy has read the site (release id chosen) when the preview takes the lock
        plan = atomic_deploy.plan_next

        def planned_then_held(*args: Any, **kwargs: Any) -> Any:
            if not live_read.is_set():
                live_read.set()
                assert holds.wait(60)
            return plan(*args, **kwargs)

        monkeypatch.setattr(atomic_deploy, "plan_next", planned_then_held)
    results: dict[str, Any] = {}
    try:
        threads = []
        if live_read_first:
            threads.append(run_in_thread(results, "live", lambda: deploy(tmp_path / "live", store, "<h1>v2</h1>")))
            assert live_read.wait(60)
        threads.append(run_in_thread(results, "preview", lambda: deploy(tmp_path / "pr", store, "<h1>pr</h1>", preview="pr-7")))
        assert holds.wait(60)
        if not live_read_first:
            threads.append(run_in_thread(results, "live", lambda: deploy(tmp_path / "live", store, "<h1>v2</h1>")))
        for thread in threads:
            thread.join(120)
    finally:
        go.set()
        logging.getLogger().removeHandler(handler)
    assert results["live"] is not False and results["preview"] is not False, caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert results["preview"]["release"] != results["live"]["release"]
    assert json.loads(key(store, "preview/pr-7") or "")["r"] == results["preview"]["release"]
    assert json.loads(key(store, "live") or "")["r"] == results["live"]["release"]
    live_page = boto3.client("s3").get_object(Bucket=BUCKET, Key=f".runway-ext-releases/{results['live']['release']}/index.html")
    assert live_page["Body"].read() == b"<h1>v2</h1>"
