"""Files that left the build, end to end against the moto server: pages go, other files after the skew window, and
nothing the site did not publish is ever deleted.

Real parts: a moto server bucket, the hook as config.yml runs it (``build: false`` over a written output folder),
objects uploaded or overwritten by hand with plain boto3. Time passes by rewriting the times the release records
hold (the only clock the skew window reads), never by sleeping.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.layout import RELEASES_FOLDER

BUCKET = "site-bucket"
GONE_PAGES = ("legal/old-prices.html", "blog/draft.html", "blog/2019/index.html")


def deploy(app: Path, files: dict[str, bytes], **args: Any) -> Any:
    """Write ``files`` as the build output and run the hook with its defaults (``delete`` on)."""
    out = app / "out"
    if out.exists():
        shutil.rmtree(out)
    for name, content in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content)
    return build_and_sync_app(None, None, bucket_name=BUCKET, app_path=str(app), build=False, output_dir="out", **args)


def site(s3: Any) -> dict[str, bytes]:
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
        if not item["Key"].startswith(".runway-ext/")
    ]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def build(version: str, *, script: str | None = None, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A small site: home, two pages and one script (``static/app-<script>.js``)."""
    name = script or version
    return {
        "index.html": f'<h1>home {version}</h1><script src="/static/app-{name}.js"></script>'.encode(),
        "about/index.html": b"<h1>about</h1>",
        "docs/index.html": b"<h1>docs</h1>",
        f"static/app-{name}.js": f"console.log('{name}')".encode(),
        **(extra or {}),
    }


def age_records(s3: Any, days: float) -> None:
    """Move every time the release records hold ``days`` into the past (as if the releases were that old)."""

    def older(text: str) -> str:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - timedelta(days=days)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=RELEASES_FOLDER)
    for item in listing.get("Contents", []):
        if not item["Key"].endswith(".json"):
            continue
        document = json.loads(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
        for summary in [document, *document.get("releases", [])]:
            if "time" in summary:
                summary["time"] = older(summary["time"])
        for entry in (document.get("retired") or {}).values():
            entry["left_time"] = older(entry["left_time"])
        s3.put_object(Bucket=BUCKET, Key=item["Key"], Body=json.dumps(document).encode(), ContentType="application/json")


def test_a_deploy_without_three_pages_removes_them_and_invalidates_them(tmp_path: Path, s3: Any) -> None:
    deploy(tmp_path, build("v1", extra={page: b"<p>soon gone</p>" for page in GONE_PAGES}))
    assert set(GONE_PAGES) <= set(site(s3))
    result = deploy(tmp_path, build("v1"))
    assert result["deleted"] == 3
    assert result["changed_paths"] == ["/blog/2019/index.html", "/blog/draft.html", "/legal/old-prices.html"]
    assert site(s3) == build("v1")


def test_a_removed_script_stays_until_out_more_than_keep_releases_releases_and_keep_days_days(
    tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture
) -> None:
    window = {"keep_releases": 2, "keep_days": 7}
    deploy(tmp_path, build("v1"), **window)  # r1 has static/app-v1.js
    second = deploy(tmp_path, build("v2"), **window)  # r2: app-v1.js leaves the build (out 1 release)
    assert second["deleted"] == 0 and "static/app-v1.js" in site(s3)
    assert "1 file(s) that left the build kept for the skew window" in log.text
    deploy(tmp_path, build("v3", script="v2"), **window)  # r3: out 2 releases, 0 days
    age_records(s3, 30)
    fourth = deploy(tmp_path, build("v4", script="v2"), **window)  # r4: out 3 releases and 30 days: goes
    assert fourth["deleted"] == 1 and "/static/app-v1.js" in fourth["changed_paths"]
    assert site(s3) == build("v4", script="v2")


def test_many_releases_within_keep_days_keep_a_removed_script(tmp_path: Path, s3: Any) -> None:
    window = {"keep_releases": 1, "keep_days": 7}
    deploy(tmp_path, build("v1"), **window)
    for version in ("v2", "v3", "v4", "v5"):  # app-v1.js out for 4 releases, all of them today
        assert deploy(tmp_path, build(version, script="v2"), **window)["deleted"] == 0
    assert "static/app-v1.js" in site(s3)
    age_records(s3, 8)
    assert deploy(tmp_path, build("v6", script="v2"), **window)["deleted"] == 1
    assert "static/app-v1.js" not in site(s3)


def test_few_releases_long_ago_keep_a_removed_script(tmp_path: Path, s3: Any) -> None:
    window = {"keep_releases": 3, "keep_days": 7}
    deploy(tmp_path, build("v1"), **window)
    deploy(tmp_path, build("v2"), **window)
    age_records(s3, 365)
    assert deploy(tmp_path, build("v3", script="v2"), **window)["deleted"] == 0  # out 2 releases (r2, r3), a year
    assert "static/app-v1.js" in site(s3)


def test_hand_uploaded_objects_are_never_deleted_and_named_as_foreign(tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    deploy(tmp_path, build("v1", extra={"old.html": b"<p>old</p>"}), keep_releases=0)
    s3.put_object(Bucket=BUCKET, Key="downloads/report.pdf", Body=b"%PDF-1.7", ContentType="application/pdf")
    s3.put_object(Bucket=BUCKET, Key="handmade.html", Body=b"<p>mine</p>", ContentType="text/html")
    result = deploy(tmp_path, build("v2"), keep_releases=0)  # no skew window: everything the site published goes
    assert result["changed_paths"] == ["/index.html", "/old.html", "/static/app-v1.js", "/static/app-v2.js"]
    assert site(s3) == {**build("v2"), "downloads/report.pdf": b"%PDF-1.7", "handmade.html": b"<p>mine</p>"}
    assert (
        "2 object(s) under the prefix were not published by this site (no recorded release wrote them): left alone, "
        "never deleted: downloads/report.pdf, handmade.html"
    ) in log.messages


def test_an_object_overwritten_after_it_was_recorded_is_not_deleted_and_is_reported(
    tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture
) -> None:
    deploy(tmp_path, build("v1", extra={"old.html": b"<p>old</p>"}))
    s3.put_object(Bucket=BUCKET, Key="old.html", Body=b"<p>edited by hand</p>", ContentType="text/html")
    result = deploy(tmp_path, build("v1"))
    assert result["deleted"] == 0
    assert s3.get_object(Bucket=BUCKET, Key="old.html")["Body"].read() == b"<p>edited by hand</p>"
    warnings = [record.getMessage() for record in log.records if record.levelno == logging.WARNING]
    assert warnings == ["1 object(s) this site published changed after it recorded them (other ETag or size): kept, not deleted: old.html"]
    log.clear()
    deploy(tmp_path, build("v2"))  # the edited object is no longer the site's: foreign, not reported again
    assert s3.get_object(Bucket=BUCKET, Key="old.html")["Body"].read() == b"<p>edited by hand</p>"
    assert not [record for record in log.records if record.levelno == logging.WARNING]
    assert any(message.startswith("1 object(s) under the prefix were not published by this site") for message in log.messages)


def test_delete_false_keeps_everything_and_a_later_default_deploy_removes_it(tmp_path: Path, s3: Any) -> None:
    deploy(tmp_path, build("v1", extra={page: b"<p>soon gone</p>" for page in GONE_PAGES}))
    kept = deploy(tmp_path, build("v2"), delete=False)
    assert kept["deleted"] == 0
    assert set(site(s3)) == set(build("v1", extra={page: b"" for page in GONE_PAGES})) | set(build("v2"))
    removed = deploy(tmp_path, build("v2"), keep_releases=0)
    assert removed["deleted"] == 4  # the three pages, and app-v1.js (no skew window)
    assert site(s3) == build("v2")


def test_max_delete_still_refuses_the_whole_sync(tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    many = {f"old/{number}.html": b"<p>old</p>" for number in range(12)}
    deploy(tmp_path, build("v1", extra=many))
    before = site(s3)
    assert deploy(tmp_path, build("v2"), max_delete=5) is False
    assert "max_delete: the sync would delete 12 objects, more than max_delete (5); nothing was changed" in log.text
    assert site(s3) == before


@pytest.mark.parametrize("ending", ["killed", "failed"])
def test_a_page_a_deploy_wrote_before_it_died_is_the_site_s_and_goes_when_the_build_drops_it(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """The deploy dies after its first upload, before any release records it (killed: nothing of it runs after;
    failed: it releases its lock); its upload is still the site's."""
    from runway_ext.core.errors import HookError
    from runway_ext.static_site.lock import SiteLease
    from runway_ext.static_site.s3 import S3Site

    deploy(tmp_path, build("v1"))

    class Killed(BaseException):
        pass

    upload = S3Site._upload
    calls = 0

    def dying(self: S3Site, *args: Any, **kwargs: Any) -> str:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise Killed if ending == "killed" else HookError("could not upload zzz-new.html in s3://site-bucket: SlowDown")
        return upload(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(S3Site, "_upload", dying)
        if ending == "killed":
            patch.setattr(SiteLease, "release", lambda self: self._stop_renewing())
            with pytest.raises(Killed):
                deploy(tmp_path, build("v1", extra={"aaa-new.html": b"<p>new</p>", "zzz-new.html": b"<p>new</p>"}), workers=1)
        else:
            assert deploy(tmp_path, build("v1", extra={"aaa-new.html": b"<p>new</p>", "zzz-new.html": b"<p>new</p>"}), workers=1) is False
    assert "aaa-new.html" in site(s3)
    assert deploy(tmp_path, build("v1"))["deleted"] == 1
    assert site(s3) == build("v1")
