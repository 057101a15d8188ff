"""The npm build + S3 sync hook, both faces: a real app built with real npm, synced to a moto server bucket.

The app is ``tests/fixtures/static_app`` (dependency-free; ``npm run build`` is a node script that
writes a Next.js-like ``out/``). Every test copies it to a temp folder and syncs to a moto server
bucket; the CLI and ``runway deploy`` run as real subprocesses against the same server. Tests that
build need npm (``needs_npm``); the others sync a prepared output folder (``build: false``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

import runway_ext.hooks.npm_build.hook as hook_module
from runway_ext.core.names import bucket_name_problem
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.static_site.headers import IMMUTABLE, NO_CACHE, REVALIDATE
from runway_ext.static_site.layout import MANIFEST_NAME, is_state_key
from runway_ext.static_site.manifest import parse_manifest
from runway_ext.static_site.s3 import S3Site
from runway_ext.testing.cfngin import make_cfngin_context
from runway_ext.testing.runway_cli import run_runway
from tests.hooks.npm_build.conftest import BUCKET, FIXTURE

MODULE = "runway_ext.hooks.npm_build"
BUILT_FILES = [
    "404.html",
    "_next/static/{build}/_buildManifest.js",
    "_next/static/chunks/app-{app}.js",
    "_next/static/css/{css}.css",
    "about/index.html",
    "api/pages.json",
    "blog/post-1/index.html",
    "blog/post-2/index.html",
    "favicon.ico",
    "fonts/inter.woff2",
    "images/logo.svg",
    "index.html",
    "robots.txt",
]

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def deploy(app: Path, **args: Any) -> Any:
    """Run the hook through its CFNgin face (context None: the session comes from the environment)."""
    return build_and_sync_app(None, None, bucket_name=args.pop("bucket_name", BUCKET), app_path=str(app), **args)


def bucket_state(s3: Any, bucket: str = BUCKET) -> dict[str, tuple[str, str]]:
    """Every object's ETag and last-modified time: equal snapshots mean nothing was written."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"]: (item["ETag"], item["LastModified"].isoformat()) for page in pages for item in page.get("Contents", [])}


def site_keys(s3: Any) -> list[str]:
    return sorted(key for key in bucket_state(s3) if not is_state_key(key, ""))  # the manifest and the release records


def built_files(app: Path) -> list[str]:
    out = app / "out"
    return sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())


def read_object(s3: Any, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def edit(path: Path, text: str) -> None:
    path.write_text(text)


# -- deploys -------------------------------------------------------------------------------------
@needs_npm
def test_first_deploy_uploads_everything_with_the_right_headers(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    result = deploy(app)
    assert result and result["ok"] is True
    files = built_files(app)
    assert len(files) == len(BUILT_FILES)
    assert (result["uploaded"], result["unchanged"], result["deleted"], result["metadata_updated"]) == (len(files), 0, 0, 0)
    assert result["skipped"] is False and result["built"] is True
    assert result["bytes_uploaded"] == sum((app / "out" / name).stat().st_size for name in files)
    assert site_keys(s3) == files
    assert result["changed_paths"] == ["/" + name for name in files]

    expected = {
        "index.html": ("text/html; charset=utf-8", NO_CACHE),
        "about/index.html": ("text/html; charset=utf-8", NO_CACHE),
        "api/pages.json": ("application/json; charset=utf-8", NO_CACHE),
        "images/logo.svg": ("image/svg+xml", REVALIDATE),
        "fonts/inter.woff2": ("font/woff2", REVALIDATE),
        "favicon.ico": ("image/x-icon", REVALIDATE),
        "robots.txt": ("text/plain; charset=utf-8", REVALIDATE),
    }
    hashed = [name for name in files if name.startswith("_next/static/")]
    assert len(hashed) == 3
    expected.update(
        {name: ("text/" + ("css" if name.endswith(".css") else "javascript") + "; charset=utf-8", IMMUTABLE) for name in hashed}
    )
    for key, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
        assert head["Metadata"]["sha256"] == hashlib.sha256((app / "out" / key).read_bytes()).hexdigest()

    # the env file of the environment reached the build
    assert (app / ".env.local").read_text() == (app / ".env.dev").read_text()
    assert oct((app / ".env.local").stat().st_mode & 0o777) == "0o600"
    assert b'data-api="https://api.dev.example.com"' in read_object(s3, "about/index.html")

    manifest = parse_manifest(read_object(s3, MANIFEST_NAME))
    assert manifest is not None and manifest.source_hash == result["source_hash"]
    assert sorted(manifest.objects) == files
    assert "npm run build" in log.text and "building 5 pages" in log.text
    assert f"synced {len(files)}/{len(files)} objects" in log.text


@needs_npm
@pytest.mark.parametrize("layout", ["in-place", "atomic"])
def test_the_last_builds_output_is_no_source_so_the_next_deploy_skips(app: Path, s3: Any, layout: str) -> None:
    """The fixture's build script names no known tool: the output folder it wrote is remembered, not hashed."""
    args: dict[str, Any] = {}
    if layout == "atomic":
        args["key_value_store_arn"] = boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"]
    first = deploy(app, **args)
    assert (app / "out" / "index.html").is_file()
    second = deploy(app, **args)
    assert second["source_hash"] == first["source_hash"]
    assert (second["skipped"], second["built"], second["uploaded"]) == (True, False, 0)


@needs_npm
def test_rerun_with_unchanged_sources_skips_build_and_sync(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    first = deploy(app)
    before = bucket_state(s3)
    shutil.rmtree(app / "out")
    second = deploy(app)
    assert second["skipped"] is True and second["built"] is False
    assert second["source_hash"] == first["source_hash"]
    assert (second["uploaded"], second["changed_paths"]) == (0, [])
    assert not (app / "out").exists(), "the build ran although the sources were unchanged"
    assert bucket_state(s3) == before
    assert "build and sync skipped" in log.text


@needs_npm
def test_forced_rebuild_with_the_same_content_uploads_nothing(app: Path, s3: Any) -> None:
    deploy(app)
    before = bucket_state(s3)
    old_mtime = (app / "out/index.html").stat().st_mtime_ns
    time.sleep(0.01)
    result = deploy(app, force=True)
    assert (app / "out/index.html").stat().st_mtime_ns > old_mtime, "the build did not rewrite its output"
    assert result["built"] is True and result["skipped"] is False
    assert (result["uploaded"], result["metadata_updated"], result["deleted"]) == (0, 0, 0)
    assert result["unchanged"] == len(built_files(app))
    assert result["changed_paths"] == []
    assert {key: state for key, state in bucket_state(s3).items() if key != MANIFEST_NAME} == {
        key: state for key, state in before.items() if key != MANIFEST_NAME
    }


@needs_npm
def test_one_changed_page_uploads_exactly_that_page(app: Path, s3: Any) -> None:
    first = deploy(app)
    before = bucket_state(s3)
    edit(app / "src/pages/about.html", "<h1>About us, rewritten</h1>\n")
    result = deploy(app)
    assert result["source_hash"] != first["source_hash"]
    assert (result["uploaded"], result["metadata_updated"], result["deleted"]) == (1, 0, 0)
    assert result["changed_paths"] == ["/about/index.html"]
    assert b"About us, rewritten" in read_object(s3, "about/index.html")
    after = bucket_state(s3)
    assert [key for key in after if after[key] != before.get(key) and not is_state_key(key, "")] == ["about/index.html"]


@needs_npm
def test_another_environment_changes_the_assets_and_delete_removes_the_stale_ones(app: Path, s3: Any) -> None:
    deploy(app)
    old_script = next(key for key in site_keys(s3) if key.startswith("_next/static/chunks/"))
    kept = deploy(app, environment="prod", delete=False)
    assert kept["deleted"] == 0 and old_script in site_keys(s3)
    assert (app / ".env.local").read_text() == (app / ".env.prod").read_text()
    assert b"https://api.prod.example.com" in read_object(s3, "index.html")

    cleaned = deploy(app, environment="prod", keep_releases=0)  # no skew window
    assert cleaned["uploaded"] == 0
    assert cleaned["deleted"] == 2  # the dev build's script and its build manifest
    assert f"/{old_script}" in cleaned["changed_paths"]
    assert site_keys(s3) == built_files(app)


@needs_npm
def test_delete_above_max_delete_is_refused_and_the_bucket_untouched(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    deploy(app)
    before = bucket_state(s3)
    (app / "src/pages/blog/post-1.html").unlink()
    (app / "src/pages/blog/post-2.html").unlink()
    edit(app / "src/pages/index.html", "<h1>Home, changed</h1>\n")
    result = deploy(app, delete=True, max_delete=1)
    assert result is False
    assert "max_delete: the sync would delete 2 objects, more than max_delete (1); nothing was changed" in log.text
    assert bucket_state(s3) == before, "a refused sync changed the bucket"

    allowed = deploy(app, delete=True, max_delete=2)
    assert (allowed["uploaded"], allowed["deleted"]) == (2, 2)  # index.html and api/pages.json; the two posts
    assert "/blog/post-1/index.html" in allowed["changed_paths"]


@needs_npm
def test_a_failing_build_fails_with_npms_last_lines_and_writes_nothing(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    edit(app / "src/pages/blog/broken.html", "<h1>{{fail}}</h1>\n")
    assert deploy(app) is False
    assert "npm run build failed (exit code 1)" in log.text
    assert "Error: page blog/broken.html uses the unknown token {{fail}}" in log.text
    assert bucket_state(s3) == {}


@needs_npm
def test_a_build_that_hangs_is_stopped_at_build_timeout(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    package = json.loads((app / "package.json").read_text())
    package["scripts"]["build"] = "node -e \"console.log('compiling forever'); setTimeout(() => {}, 120000)\""
    (app / "package.json").write_text(json.dumps(package))
    started = time.monotonic()
    assert deploy(app, build_timeout=3) is False
    assert time.monotonic() - started < 30
    assert "npm run build timed out after 3s" in log.text and "compiling forever" in log.text
    assert bucket_state(s3) == {}


@needs_npm
def test_changed_cache_rules_update_metadata_without_uploading(app: Path, s3: Any) -> None:
    deploy(app)
    etag = s3.head_object(Bucket=BUCKET, Key="images/logo.svg")["ETag"]
    rules = [{"pattern": "images/**", "cache_control": "public, max-age=600"}]
    result = deploy(app, cache_rules=rules)
    assert result["skipped"] is False, "new settings must not be skipped by the source hash"
    assert (result["uploaded"], result["metadata_updated"]) == (0, 1)
    assert result["changed_paths"] == ["/images/logo.svg"]
    head = s3.head_object(Bucket=BUCKET, Key="images/logo.svg")
    assert (head["CacheControl"], head["ContentType"], head["ETag"]) == ("public, max-age=600", "image/svg+xml", etag)
    assert deploy(app, cache_rules=rules)["skipped"] is True


@needs_npm
def test_dry_run_plans_but_writes_nothing_to_the_bucket(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    result = deploy(app, dry_run=True)
    assert result["dry_run"] is True and result["uploaded"] == len(built_files(app))
    assert bucket_state(s3) == {}
    assert "  upload index.html (new" in log.text
    assert "dry run: nothing was written" in log.text


@needs_npm
def test_objects_changed_behind_our_back_are_found_and_repaired(app: Path, s3: Any) -> None:
    deploy(app)
    s3.put_object(Bucket=BUCKET, Key="about/index.html", Body=b"<h1>defaced</h1>", ContentType="text/html")
    result = deploy(app, force=True)
    assert (result["uploaded"], result["changed_paths"]) == (1, ["/about/index.html"])
    assert read_object(s3, "about/index.html") == (app / "out/about/index.html").read_bytes()


@needs_npm
def test_an_unvouched_multipart_object_is_uploaded_again_never_trusted_by_its_metadata(app: Path, s3: Any) -> None:
    """S3 holds no full-object SHA-256 of a multipart upload and its ETag is no MD5: only the site manifest can vouch
    for it (``x-amz-meta-sha256`` is whatever its writer wrote); single-part objects are proven by S3's SHA-256."""
    big = app / "public" / "media" / "video.mp4"
    big.parent.mkdir()
    big.write_bytes(os.urandom(17 * 1024 * 1024))
    deploy(app)
    head = s3.head_object(Bucket=BUCKET, Key="media/video.mp4")
    assert "-" in head["ETag"], "expected a multipart upload"
    assert head["Metadata"]["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert head["ContentType"] == "video/mp4"
    assert deploy(app)["skipped"]  # the manifest vouches for it
    # without the site manifest every object is inspected (HEAD): only the multipart one goes up again
    s3.delete_object(Bucket=BUCKET, Key=MANIFEST_NAME)
    result = deploy(app, force=True)
    assert (result["uploaded"], result["metadata_updated"]) == (1, 0)
    assert result["changed_paths"] == ["/media/video.mp4"]


@needs_npm
def test_prefix_keeps_the_site_under_it_and_other_keys_untouched(app: Path, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="other/keep.txt", Body=b"keep")
    result = deploy(app, prefix="/site/", delete=True)
    assert result["prefix"] == "site/"
    assert all(path.startswith("/site/") for path in result["changed_paths"])
    keys = bucket_state(s3)
    assert "other/keep.txt" in keys and "site/index.html" in keys and f"site/{MANIFEST_NAME}" in keys
    assert (
        s3.head_object(
            Bucket=BUCKET,
            Key="site/_next/static/css/" + next(key.rsplit("/", 1)[1] for key in keys if key.startswith("site/_next/static/css/")),
        )["CacheControl"]
        == IMMUTABLE
    )


# -- npm install, env file -----------------------------------------------------------------------
@needs_npm
def test_npm_ci_runs_when_a_lockfile_exists_and_node_modules_is_missing(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    helper = app / "helper"
    helper.mkdir()
    (helper / "package.json").write_text('{"name": "helper", "version": "1.0.0", "main": "index.js"}\n')
    (helper / "index.js").write_text("module.exports = (text) => text.toUpperCase();\n")
    package = json.loads((app / "package.json").read_text())
    package["dependencies"] = {"helper": "file:./helper"}
    (app / "package.json").write_text(json.dumps(package, indent=2))
    subprocess.run(["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"], cwd=app, check=True, capture_output=True)
    assert (app / "package-lock.json").is_file() and not (app / "node_modules").exists()
    result = deploy(app)
    assert result["built"] is True
    assert "node_modules is missing: npm ci (from package-lock.json)" in log.text
    assert (app / "node_modules" / "helper").exists()


@needs_npm
def test_an_app_without_dependencies_is_not_installed(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    deploy(app)
    assert "package.json declares no dependencies: nothing to install" in log.text
    assert not (app / "package-lock.json").exists() and not (app / "node_modules").exists()


@needs_npm
def test_a_missing_env_file_is_a_notice_unless_required(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    result = deploy(app, environment="staging")
    assert result and result["uploaded"] > 0
    assert "no .env.staging in" in log.text and "building without an environment file" in log.text
    assert not (app / ".env.local").exists()
    assert deploy(app, environment="qa", require_env_file=True) is False
    assert ".env.qa does not exist (require_env_file is set)" in log.text


@needs_npm
def test_secret_values_of_the_env_file_are_masked_in_npm_output(app: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-token-value-42"
    (app / ".env.dev").write_text(f"NEXT_PUBLIC_API_URL=https://api.dev.example.com\nAPI_TOKEN={secret}\n")
    package = json.loads((app / "package.json").read_text())
    package["scripts"]["build"] = "node -e \"console.log(require('fs').readFileSync('.env.local', 'utf8'))\" && node build.mjs"
    (app / "package.json").write_text(json.dumps(package))
    assert deploy(app)
    assert "API_TOKEN=***" in log.text
    assert secret not in log.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"bucket_name": "Bad_Bucket"}, "bucket_name: invalid bucket name 'Bad_Bucket'"),
        ({"environment": "../etc"}, "environment: '../etc' is not a valid environment name"),
        ({"max_delete": -1}, "max_delete: Input should be greater than or equal to 0"),
        ({"prefix": "a/../b"}, "prefix: invalid prefix 'a/../b'"),
        ({"cache_rules": [{"pattern": "*.{js", "cache_control": "x"}]}, "cache_rules.0.pattern: invalid pattern"),
        ({"unknown": 1}, "unknown: unknown argument"),
        ({"bucket_name": "missing-bucket"}, "bucket_name: bucket 'missing-bucket' does not exist"),
    ],
)
def test_bad_input_is_one_clear_line(app: Path, s3: Any, log: pytest.LogCaptureFixture, args: dict[str, Any], message: str) -> None:
    assert deploy(app, **args) is False
    assert message in log.text
    assert bucket_state(s3) == {}


def app_folder_state(app: Path) -> dict[str, bytes]:
    """Every file of the app folder with its bytes: equal snapshots mean nothing in it was written, renamed or added."""
    return {path.relative_to(app).as_posix(): path.read_bytes() for path in sorted(app.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("layout", ["in-place", "atomic", "preview"])
def test_a_missing_bucket_is_learned_before_anything_in_the_app_folder_is_written(
    app: Path, s3: Any, log: pytest.LogCaptureFixture, layout: str
) -> None:
    (app / ".env.local").write_text("NEXT_PUBLIC_API_URL=http://localhost:3000\n")
    before = app_folder_state(app)
    assert before[".env.prod"] != before[".env.local"]
    args: dict[str, Any] = {}
    if layout != "in-place":
        args["key_value_store_arn"] = boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"]
    if layout == "preview":
        args["preview"] = "pr-7"
    assert deploy(app, bucket_name="missing-bucket", environment="prod", **args) is False
    errors = [record.getMessage() for record in log.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].endswith("bucket_name: bucket 'missing-bucket' does not exist")
    assert app_folder_state(app) == before, "a deploy to a missing bucket changed the app folder"


def test_an_app_path_without_package_json_is_refused(tmp_path: Path, s3: Any, log: pytest.LogCaptureFixture) -> None:
    assert deploy(tmp_path) is False
    assert f"app_path: no package.json in {tmp_path}" in log.text


# -- region --------------------------------------------------------------------------------------
@pytest.fixture
def prebuilt(tmp_path: Path) -> Path:
    """An app folder holding only a built site (synced with ``build: false``, no npm needed)."""
    site = tmp_path / "prebuilt"
    (site / "out" / "about").mkdir(parents=True)
    (site / "out" / "index.html").write_text("<h1>home</h1>\n")
    (site / "out" / "about" / "index.html").write_text("<h1>about</h1>\n")
    return site


@pytest.fixture
def s3_client_regions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The region of every S3 client the hook makes."""
    regions: list[str] = []

    class RecordingSite(S3Site):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            regions.append(self.client.meta.region_name)

    monkeypatch.setattr(hook_module, "S3Site", RecordingSite)
    return regions


def test_region_defaults_to_the_deploys_region_inside_runway(s3: Any, prebuilt: Path, tmp_path: Path, s3_client_regions: list[str]) -> None:
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    deploy_environ = {**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    context = make_cfngin_context(tmp_path, environ=deploy_environ)
    result = build_and_sync_app(context, None, bucket_name=BUCKET, app_path=str(prebuilt), build=False)
    assert result and result["region"] == "eu-west-1"
    assert s3_client_regions == ["eu-west-1"]
    assert context.hook_data["runway_ext"]["npm_build"]["region"] == "eu-west-1"
    assert site_keys(s3) == ["about/index.html", "index.html"]


def test_an_explicit_region_wins_over_the_deploys(s3: Any, prebuilt: Path, tmp_path: Path, s3_client_regions: list[str]) -> None:
    context = make_cfngin_context(tmp_path, environ={**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    result = build_and_sync_app(context, None, bucket_name=BUCKET, app_path=str(prebuilt), build=False, region="ap-southeast-2")
    assert result and result["region"] == "ap-southeast-2"
    assert s3_client_regions == ["ap-southeast-2"]


def test_region_defaults_to_aws_default_region_from_the_cli(aws: Any, s3: Any, prebuilt: Path) -> None:
    env = {**os.environ, **aws.environment(), "AWS_DEFAULT_REGION": "eu-west-2"}
    env.pop("AWS_REGION")
    completed = subprocess.run(
        [sys.executable, "-m", MODULE, "--bucket-name", BUCKET, "--app-path", str(prebuilt), "--no-build", "--json"],
        cwd=prebuilt.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["region"] == "eu-west-2"
    assert site_keys(s3) == ["about/index.html", "index.html"]


def test_an_invalid_region_is_one_clear_line(s3: Any, prebuilt: Path, log: pytest.LogCaptureFixture) -> None:
    assert deploy(prebuilt, build=False, region="Mars") is False
    assert "region: invalid region 'Mars'" in log.text


# -- the CLI -------------------------------------------------------------------------------------
def run_cli(arguments: list[str], aws: Any, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **aws.environment()}
    return subprocess.run(
        [sys.executable, "-m", MODULE, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@needs_npm
def test_cli_as_the_seed_shows_it(app: Path, s3: Any, aws: Any) -> None:
    seed = ["--bucket-name", BUCKET, "--app-path", "./app", "--environment", "prod"]
    first = run_cli([*seed, "--json"], aws, app.parent)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["uploaded"] == len(built_files(app)) and result["environment"] == "prod"
    assert "synced" in first.stderr and "npm run build" in first.stderr

    edit(app / "src/pages/blog/post-2.html", "<h1>Second post, edited</h1>\n")
    dry = run_cli([*seed, "--dry-run"], aws, app.parent)
    assert dry.returncode == 0, dry.stderr
    assert "would sync s3://site-bucket/: 1 uploaded" in dry.stdout and "/blog/post-2/index.html" in dry.stdout
    assert b"Second post, edited" not in read_object(s3, "blog/post-2/index.html")

    applied = run_cli(seed, aws, app.parent)
    assert applied.returncode == 0 and "synced s3://site-bucket/: 1 uploaded" in applied.stdout
    again = run_cli(seed, aws, app.parent)
    assert again.returncode == 0 and again.stdout.startswith("skipped: s3://site-bucket/ already holds the build")


def test_cli_bad_input_exits_non_zero_with_one_line(app: Path, s3: Any, aws: Any) -> None:
    bad = run_cli(["--bucket-name", "x", "--app-path", "./app"], aws, app.parent)
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"error: --bucket-name: {bucket_name_problem('x')}"
    assert "Traceback" not in bad.stderr


# -- through real Runway -------------------------------------------------------------------------
BUCKET_TEMPLATE = {
    "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {"BucketName": {"Value": {"Ref": "SiteBucket"}}},
}


def runway_project(root: Path, distribution_id: str) -> Path:
    module = root / "site.cfn"
    module.mkdir(parents=True)
    shutil.copytree(FIXTURE, module / "app")
    (root / "runway.yml").write_text("deployments:\n  - modules:\n      - path: site.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text(f"namespace: demo\ndistribution_id: {distribution_id}\n")
    (module / "bucket.json").write_text(json.dumps(BUCKET_TEMPLATE))
    (module / "config.yml").write_text(
        """namespace: ${namespace}
cfngin_bucket: ""
stacks:
  - name: site
    template_path: bucket.json
post_deploy:
  - path: runway_ext.hooks.npm_build.build_and_sync_app
    args:
      bucket_name: ${output site.BucketName}
      app_path: ./app
      environment: ${environment}
      delete: true
  - path: runway_ext.hooks.cloudfront_invalidation.cfngin_hook
    args:
      distribution_id: ${distribution_id}
      paths_from_hook_data: runway_ext.npm_build.changed_paths
"""
    )
    return module


def create_distribution() -> str:
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "npm-build-tests",
            "Comment": "site",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "s3", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return created["Distribution"]["Id"]


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    client = boto3.client("cloudfront")
    items = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = [client.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"] for item in items]
    batches.sort(key=lambda batch: batch["CreateTime"])
    return [sorted(batch["InvalidationBatch"]["Paths"].get("Items", [])) for batch in batches]


@needs_npm
@pytest.mark.runway
def test_runway_post_deploy_builds_syncs_and_feeds_the_invalidation(aws: Any, tmp_path: Path) -> None:
    distribution_id = create_distribution()
    module = runway_project(tmp_path, distribution_id)

    first = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert first.ok, first.output
    bucket = boto3.client("cloudformation").describe_stacks(StackName="demo-site")["Stacks"][0]["Outputs"][0]["OutputValue"]
    s3 = boto3.client("s3")
    files = built_files(module / "app")
    assert sorted(key for key in bucket_state(s3, bucket) if not is_state_key(key, "")) == files
    assert s3.head_object(Bucket=bucket, Key="index.html")["CacheControl"] == NO_CACHE
    assert "npm run build" in first.output and "Traceback" not in first.output
    assert len(invalidated_paths(distribution_id)) == 1

    second = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert second.ok, second.output
    assert "build and sync skipped" in second.output
    assert "> node build.mjs" not in second.output
    assert len(invalidated_paths(distribution_id)) == 1, "an unchanged deploy invalidated"

    edit(module / "app/src/pages/about.html", "<h1>About, via runway</h1>\n")
    third = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert third.ok, third.output
    batches = invalidated_paths(distribution_id)
    assert len(batches) == 2 and batches[-1] == ["/about/", "/about/index.html"]
    assert b"About, via runway" in s3.get_object(Bucket=bucket, Key="about/index.html")["Body"].read()
