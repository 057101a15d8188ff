"""After a run that exits 0, the bucket holds exactly this build: one test per fault that used to break it.

Real parts only: a moto server bucket, real npm builds of ``tests/fixtures/static_app``, real processes
killed with SIGKILL or racing (``deploy_process.py``), objects deleted or overwritten with plain boto3.
Each test names the fault it reproduces; each failed on the sync that trusted its manifest.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.layout import MANIFEST_NAME
from runway_ext.static_site.manifest import parse_manifest
from tests.hooks.npm_build.conftest import BUCKET
from tests.support.cli_process import finish, start_driver, wait_ready

PROCESS = Path(__file__).with_name("deploy_process.py")

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def deploy(app: Path, **args: Any) -> Any:
    return build_and_sync_app(None, None, bucket_name=args.pop("bucket_name", BUCKET), app_path=str(app), **args)


def site(s3: Any, prefix: str = "") -> dict[str, bytes]:
    """Every object of the site (the tool's own objects left out) with its bytes."""
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        for item in page.get("Contents", [])
        if "/.runway-ext/" not in "/" + item["Key"]
    ]
    return {key[len(prefix) :]: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def build_of(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def write_site(folder: Path, files: dict[str, bytes]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def pages(version: str, count: int = 12) -> dict[str, bytes]:
    files = {f"page-{n:02d}/index.html": f"<h1>page {n} {version}</h1>".encode() for n in range(count)}
    files["index.html"] = f"<h1>home {version}</h1>".encode()
    files[f"static/app-{version}.js"] = f"console.log('{version}')".encode()
    return files


def manifest(s3: Any, prefix: str = "") -> Any:
    return parse_manifest(s3.get_object(Bucket=BUCKET, Key=prefix + MANIFEST_NAME)["Body"].read())


def cli(aws: Any, arguments: list[str], *, cwd: Path, wrapper: list[str] | None = None) -> subprocess.Popen[str]:
    return start_driver(PROCESS, wrapper or [], arguments, env=aws.environment(), cwd=cwd)


# -- 1. new output never deployed ------------------------------------------------------------------
def test_1_new_output_files_are_deployed_without_a_build(tmp_path: Path, s3: Any) -> None:
    prebuilt = tmp_path / "prebuilt"
    write_site(prebuilt / "out", pages("v1"))
    assert deploy(prebuilt, build=False, output_dir="out")["uploaded"] == 14
    (prebuilt / "out" / "new-page" / "index.html").parent.mkdir()
    (prebuilt / "out" / "new-page" / "index.html").write_bytes(b"<h1>new</h1>")
    result = deploy(prebuilt, build=False, output_dir="out")
    assert (result["skipped"], result["uploaded"], result["changed_paths"]) == (False, 1, ["/new-page/index.html"])
    assert site(s3) == build_of(prebuilt / "out")


@needs_npm
def test_1_a_build_reading_a_ci_variable_is_rebuilt_when_it_changes(app: Path, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    package = json.loads((app / "package.json").read_text())
    package["scripts"]["build"] = (
        "node build.mjs && node -e \"require('fs').writeFileSync('out/flavor.txt', process.env.NEXT_PUBLIC_FLAVOR || 'none')\""
    )
    (app / "package.json").write_text(json.dumps(package))
    monkeypatch.setenv("NEXT_PUBLIC_FLAVOR", "vanilla")
    deploy(app)
    monkeypatch.setenv("NEXT_PUBLIC_FLAVOR", "chocolate")
    result = deploy(app)
    assert result["skipped"] is False and result["changed_paths"] == ["/flavor.txt"]
    assert site(s3)["flavor.txt"] == b"chocolate"
    # a variable the build reads by another name: named in build_env
    package["scripts"]["build"] = package["scripts"]["build"].replace("NEXT_PUBLIC_FLAVOR", "SITE_FLAVOR")
    (app / "package.json").write_text(json.dumps(package))
    monkeypatch.setenv("SITE_FLAVOR", "mint")
    deploy(app, build_env=["SITE_FLAVOR"])
    monkeypatch.setenv("SITE_FLAVOR", "lemon")
    assert deploy(app, build_env=["SITE_FLAVOR"])["changed_paths"] == ["/flavor.txt"]
    assert site(s3)["flavor.txt"] == b"lemon"


# -- 2. rollback after an interrupted deploy -------------------------------------------------------
@needs_npm
def test_2_a_deploy_killed_mid_sync_then_a_rollback_ends_exact(app: Path, s3: Any, aws: Any, log: pytest.LogCaptureFixture) -> None:
    about = app / "src/pages/about.html"
    v1_about = about.read_text()
    assert deploy(app)["uploaded"] > 0
    v1 = build_of(app / "out")
    for name in ("about.html", "index.html", "blog/post-1.html"):
        page = app / "src/pages" / name
        page.write_text(page.read_text() + "<p>v2</p>\n")
    arguments = ["--bucket-name", BUCKET, "--app-path", str(app), "--workers", "1"]
    killed = cli(aws, arguments, cwd=app.parent, wrapper=["--kill-after-uploads", "2"])
    code, _, stderr = finish(killed)
    assert code == -9, stderr
    assert site(s3) != v1, "the kill came too late to leave a mixed site"
    assert manifest(s3).state == "syncing"

    for name in ("index.html", "blog/post-1.html"):
        page = app / "src/pages" / name
        page.write_text(page.read_text().replace("<p>v2</p>\n", ""))
    about.write_text(v1_about)
    result = deploy(app)
    assert result["skipped"] is False and result["uploaded"] == 2
    assert "was left half-written" in log.text and "is no longer running" in log.text
    assert site(s3) == v1 == build_of(app / "out")
    assert manifest(s3).state == "complete"
    assert deploy(app)["skipped"] is True


# -- 3. concurrent deploys -------------------------------------------------------------------------
def test_3_a_second_deploy_while_one_syncs_fails_cleanly_and_changes_nothing(tmp_path: Path, s3: Any, aws: Any) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_site(first / "out", pages("first"))
    write_site(second / "out", pages("second"))
    flag = tmp_path / "go"
    arguments = ["--bucket-name", BUCKET, "--no-build", "--output-dir", "out", "--delete"]
    winner = cli(aws, [*arguments, "--app-path", str(first)], cwd=tmp_path, wrapper=["--pause-after-lock", str(flag)])
    wait_ready(flag, winner)
    assert manifest(s3).state == "syncing" and manifest(s3).lock is not None
    code, _, stderr = finish(cli(aws, [*arguments, "--app-path", str(second)], cwd=tmp_path))
    assert code == 1
    assert stderr.strip().splitlines()[-1].startswith("error: bucket_name: s3://site-bucket/: another deploy (")
    assert "is syncing this site; its lock expires in" in stderr and "nothing was changed" in stderr
    assert site(s3) == {}, "the refused deploy wrote objects"
    flag.touch()
    code, _, stderr = finish(winner)
    assert code == 0, stderr
    assert site(s3) == build_of(first / "out")
    assert manifest(s3).state == "complete"
    assert deploy(first, build=False, output_dir="out", delete=True)["uploaded"] == 0


def test_3_two_deploys_racing_for_the_lock_one_wins_the_other_writes_nothing(tmp_path: Path, s3: Any, aws: Any) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_site(first / "out", pages("first"))
    write_site(second / "out", pages("second"))
    flag = tmp_path / "go"
    arguments = ["--bucket-name", BUCKET, "--no-build", "--output-dir", "out", "--delete"]
    # the loser has read the (absent) manifest and listed the bucket before the winner takes the lock
    loser = cli(aws, [*arguments, "--app-path", str(second)], cwd=tmp_path, wrapper=["--pause-after-listing", str(flag)])
    wait_ready(flag, loser)
    code, _, stderr = finish(cli(aws, [*arguments, "--app-path", str(first)], cwd=tmp_path))
    assert code == 0, stderr
    flag.touch()
    code, _, stderr = finish(loser)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == (
        "error: s3://site-bucket/: another deploy wrote the site manifest while this one ran; "
        "this deploy stopped (rerun it once the other has finished)"
    )
    assert site(s3) == build_of(first / "out")
    assert manifest(s3).state == "complete"
    rerun = deploy(second, build=False, output_dir="out", delete=True)
    assert rerun["uploaded"] == 14
    # The winner's pages went with the deploy that dropped them; its script stays for the skew window.
    assert site(s3) == {**build_of(second / "out"), "static/app-first.js": b"console.log('first')"}


# -- 4. drift --------------------------------------------------------------------------------------
@needs_npm
def test_4_objects_deleted_or_overwritten_behind_our_back_are_repaired_on_a_no_change_deploy(app: Path, s3: Any) -> None:
    deploy(app)
    built = build_of(app / "out")
    time.sleep(1.1)  # S3 times are whole seconds: a later write must be a later second
    s3.delete_object(Bucket=BUCKET, Key="about/index.html")
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<h1>defaced</h1>", ContentType="text/html")
    s3.copy_object(  # same bytes, other headers: only the modification time shows it
        Bucket=BUCKET,
        Key="robots.txt",
        CopySource={"Bucket": BUCKET, "Key": "robots.txt"},
        MetadataDirective="REPLACE",
        ContentType="application/x-evil",
    )
    result = deploy(app)
    assert result["skipped"] is False
    assert result["changed_paths"] == ["/about/index.html", "/index.html", "/robots.txt"]
    assert (result["uploaded"], result["metadata_updated"]) == (2, 1)
    assert site(s3) == built
    assert s3.head_object(Bucket=BUCKET, Key="robots.txt")["ContentType"] == "text/plain; charset=utf-8"
    assert deploy(app)["skipped"] is True


# -- 5. the guessed output folder ------------------------------------------------------------------
def test_5_build_scripts_in_build_are_never_published(tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    app = tmp_path / "app"
    (app / "build").mkdir(parents=True)
    (app / "build" / "webpack.config.js").write_text("module.exports = { secret: 'x' }\n")
    write_site(app / "dist", pages("v1"))
    (app / "package.json").write_text(json.dumps({"scripts": {"build": "webpack --config build/webpack.config.js"}}))
    os.utime(app / "build", (2_000_000_000, 2_000_000_000))
    assert deploy(app, build=False, delete=True) is False
    assert "output_dir: " in log.text and "has build and dist and its build script names no known tool; set output_dir" in log.text
    assert site(s3) == {}
    assert deploy(app, build=False, delete=True, output_dir="dist")["uploaded"] == 14


# -- 6. links --------------------------------------------------------------------------------------
def test_6_a_link_to_a_file_outside_the_output_is_refused_and_nothing_uploaded(
    tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture
) -> None:
    app = tmp_path / "app"
    write_site(app / "out", pages("v1"))
    secrets = tmp_path / "secrets.env"
    secrets.write_text("DB_PASSWORD=hunter2\n")
    os.symlink(secrets, app / "out" / "config.txt")
    assert deploy(app, build=False, output_dir="out") is False
    assert f"output_dir: {app / 'out' / 'config.txt'} links outside the output folder (to {secrets})" in log.text
    assert site(s3) == {}
    allowed = deploy(app, build=False, output_dir="out", follow_links=True)
    assert allowed["uploaded"] == 15 and site(s3)["config.txt"] == secrets.read_bytes()


def test_6_a_linked_folder_inside_is_followed_not_dropped(tmp_path: Path, s3: Any) -> None:
    app = tmp_path / "app"
    write_site(app / "out", pages("v1"))
    os.symlink("page-01", app / "out" / "alias")
    deploy(app, build=False, output_dir="out")
    assert site(s3)["alias/index.html"] == b"<h1>page 1 v1</h1>"


# -- 7. the app folder as output -------------------------------------------------------------------
@needs_npm
def test_7_the_app_folder_as_output_is_refused(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    assert deploy(app, output_dir=".") is False
    assert "is the app folder itself" in log.text
    assert site(s3) == {}
    (app / "out" / ".env.local").write_text("API_TOKEN=abc\n")
    assert deploy(app, output_dir="out", build=False) is False
    assert "holds .env.local: not a build output folder" in log.text
    assert site(s3) == {}


# -- 8. a near-empty build -------------------------------------------------------------------------
def test_8_a_near_empty_build_does_not_delete_the_site(tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    app = tmp_path / "app"
    write_site(app / "out", pages("v1", count=50))
    deploy(app, build=False, output_dir="out", delete=True)
    deployed = site(s3)
    write_site(app / "out", {".nojekyll": b""})
    assert deploy(app, build=False, output_dir="out", delete=True) is False
    # 51 pages (the script stays for the skew window) of 52 objects
    assert "max_delete_fraction: the sync would delete 51 of the site's 52 objects, more than max_delete_fraction (0.5)" in log.text
    assert site(s3) == deployed
    assert deploy(app, build=False, output_dir="out", delete=True, max_delete_fraction=1) is False
    assert "allow_no_pages: the build has no HTML page but the site has 51" in log.text
    assert site(s3) == deployed
    write_site(app / "out", pages("v1", count=20))
    assert deploy(app, build=False, output_dir="out", delete=True) is False  # 30 of 52 pages gone
    assert site(s3) == deployed


# -- 9. secrets in build logs ----------------------------------------------------------------------
@needs_npm
def test_9_secret_values_are_masked_by_name_and_by_shape_in_build_output(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    secrets = {
        "DB_PASS": "pa55-db-value",
        "SESSION_SALT": "salty-session-value",
        "SENTRY_DSN": "https://0123abcdkey@o1.ingest.sentry.io/42",
        "CONNECTION_STRING": "Server=db;User Id=app;Password=c0nn-pa55;",
        "PUBLIC_NOTE": "postgres://user:urlpa55@db.example.com/app",
    }
    (app / ".env.dev").write_text("".join(f"{name}={value}\n" for name, value in secrets.items()))
    package = json.loads((app / "package.json").read_text())
    echo = "const e=require('fs').readFileSync('.env.local','utf8'); console.log(e); for (const l of e.split('\\n')) console.log(l.split('=').slice(1).join('=')); console.log('Server=x;Pwd=lit3ral-pw;'); console.log('mysql://root:lit3ral-url@db/x')"
    package["scripts"]["build"] = f'node -e "{echo}" && node build.mjs'
    (app / "package.json").write_text(json.dumps(package))
    assert deploy(app)
    for fragment in ("pa55-db-value", "salty-session-value", "0123abcdkey", "c0nn-pa55", "urlpa55", "lit3ral-pw", "lit3ral-url"):
        assert fragment not in log.text, fragment
    assert "DB_PASS=***" in log.text and "CONNECTION_STRING=***" in log.text
    assert "Server=x;Pwd=***;" in log.text and "mysql://root:***@db/x" in log.text  # by shape alone


# -- 10. odd file names ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            b"caf\xe9.html",
            "npm_build: output_dir: cannot publish b'caf\\xe9.html': the name is not valid UTF-8 (S3 keys are UTF-8 text); rename it",
        ),
        (
            b"two\nlines.html",
            "npm_build: output_dir: cannot publish 'two\\nlines.html': the name holds a control character (newline, tab, ...); rename it",
        ),
    ],
)
def test_10_a_name_that_cannot_be_a_key_is_named_in_one_line_before_any_upload(
    tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture, name: bytes, message: str
) -> None:
    app = tmp_path / "app"
    write_site(app / "out", pages("v1"))
    with open(os.path.join(os.fsencode(app / "out"), name), "wb") as handle:
        handle.write(b"<h1>odd</h1>")
    assert deploy(app, build=False, output_dir="out") is False
    errors = [record.getMessage() for record in log.records if record.levelno >= logging.ERROR]
    assert errors == [message]  # one line: the name is escaped, never a raw newline
    assert site(s3) == {}
