"""Atomic deploy and rollback through the real KeyValueStore client, against local mode's data plane.

No fake here: the hook's own :class:`~runway_ext.static_site.pointer.KvsPointerStore` drives the edge's client
(boto3 ``cloudfront-keyvaluestore``, SigV4A through the AWS CRT) against the KVS data plane local mode adds to the
moto server (AWS's documented behaviour, emulated once in ``runway_ext.local``). Skipped where that client is not
part of the package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook

kvs = pytest.importorskip("runway_ext.static_site.kvs", reason="the KeyValueStore client is not in this tree")

BUCKET = "atomic-kvs-site"


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture
def store(aws: Any) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return str(boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"])


def deploy(tmp_path: Path, arn: str, home: str) -> Any:
    app = tmp_path / "app"
    shutil.rmtree(app, ignore_errors=True)
    for name, content in {"index.html": home, "404.html": "<h1>missing</h1>", "assets/a.12345678.js": "1"}.items():
        path = app / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return build_and_sync_app(
        None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", key_value_store_arn=arn, shared_prefixes=["assets/"]
    )


def pointer(arn: str) -> dict[str, Any]:
    value, _ = kvs.KvsClient.from_session(boto3.Session()).get_key(arn, "live")
    assert value is not None
    return dict(json.loads(value))


def test_deploy_switch_and_rollback_through_the_store(store: str, tmp_path: Path) -> None:
    first = deploy(tmp_path, store, "<h1>one</h1>")
    assert first["release"] == "r1" and pointer(store) == {"v": 1, "r": "r1", "s": ["assets/"], "k": []}
    second = deploy(tmp_path, store, "<h1>two</h1>")
    assert (second["uploaded"], second["copied"], second["unchanged"]) == (1, 1, 1)
    assert pointer(store) == {"v": 1, "r": "r2", "s": ["assets/"], "k": ["r1"]}
    back = rollback_hook(None, None, bucket_name=BUCKET, key_value_store_arn=store, steps=1)
    assert (back["target"], back["verified"]) == ("r1", 3)
    assert pointer(store)["r"] == "r1"


def test_a_pointer_written_by_someone_else_is_refused(store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    deploy(tmp_path, store, "<h1>one</h1>")
    client = kvs.KvsClient.from_session(boto3.Session())
    current, _ = client.get_key(store, "live")
    client.put_key_if(store, "live", '{"v":1,"r":"r1","s":[],"k":[]}', current)
    assert deploy(tmp_path, store, "<h1>two</h1>") is False
    assert "changed behind their back" in caplog.text
