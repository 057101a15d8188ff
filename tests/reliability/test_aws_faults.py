"""AWS throttling and dropped connections, injected at the botocore level, against the moto server.

Each hook runs through its CFNgin face with a real :class:`CfnginContext` whose ``get_session``
hands out a real boto3 session carrying a fault handler (see :mod:`tests.reliability.faults`):
every client the hook makes is real and talks to moto; only the injected answers are not moto's.
A transient fault must be retried and the run succeed; a lasting one must end in one clear
line (and ``False``) within the hook's bounds, leaving the next run able to finish the job.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.core.aws import RETRY_ATTEMPTS
from runway_ext.hooks.cloudfront_invalidation import cfngin_hook as invalidation_hook
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.lookups.ecr_image import EcrImageLookup
from runway_ext.static_site.layout import MANIFEST_NAME, STATE_FOLDER
from runway_ext.static_site.manifest import parse_manifest
from runway_ext.testing.cfngin import make_cfngin_context
from tests.reliability.faults import Fault, session_with, use_session
from tests.support.logs import LoggedLines

BUCKET = "reliability-site"
SITE_FILES = 80
LARGE_SITE_FILES = 240
"""A "large" sync for moto on loopback: enough parallel PutObjects for an outage to land mid-sync."""


class Backoff:
    """botocore's own backoff schedule, recorded, and slept at a twentieth of its length (keeps the suite fast)."""

    SCALE = 0.05

    def __init__(self) -> None:
        self.requested: list[float] = []


@pytest.fixture(autouse=True)
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    from botocore.retries.standard import ExponentialBackoff

    recorded = Backoff()
    original = ExponentialBackoff.delay_amount

    def scaled(self: ExponentialBackoff, context: Any) -> float:
        delay = original(self, context)
        recorded.requested.append(delay)
        return delay * Backoff.SCALE

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", scaled)
    return recorded


def make_site(folder: Path, count: int = SITE_FILES) -> dict[str, bytes]:
    """A build output of ``count`` small files in nested folders; returns key -> bytes."""
    files: dict[str, bytes] = {}
    for number in range(count):
        key = f"section-{number % 7}/page-{number}.html" if number else "index.html"
        body = f"<html><body>page {number} {'x' * (number % 50)}</body></html>".encode()
        target = folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        files[key] = body
    return files


def site_files(stored: dict[str, bytes]) -> dict[str, bytes]:
    """The site's own objects: everything but the hook's state folder (manifest, releases)."""
    return {key: body for key, body in stored.items() if not key.startswith(STATE_FOLDER)}


def manifest_state(stored: dict[str, bytes]) -> str:
    """The state of the site manifest in the bucket (``complete``/``syncing``), or ``none``."""
    if MANIFEST_NAME not in stored:
        return "none"
    manifest = parse_manifest(stored[MANIFEST_NAME])
    assert manifest is not None
    return manifest.state


def bucket_contents(client: Any) -> dict[str, bytes]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return {key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


@pytest.fixture
def site(aws, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    app = tmp_path / "app"
    output = app / "out"
    output.mkdir(parents=True)
    return app, make_site(output)


def sync(tmp_path: Path, app: Path, session: boto3.Session | None) -> Any:
    """The npm_build hook's sync (build: false, so the prepared output is synced as it is), CFNgin face."""
    context = make_cfngin_context(tmp_path)
    if session is not None:
        use_session(context, session)
    return build_and_sync_app(context, None, bucket_name=BUCKET, app_path=str(app), output_dir="out", build=False, delete=True, workers=8)


def on_key(key: str) -> Any:
    return lambda request: request.url.split("?")[0].endswith("/" + key)


# -- S3 -------------------------------------------------------------------------------------------


def test_s3_slowdown_during_the_sync_is_retried_and_the_sync_completes(
    site: Any, tmp_path: Path, lines: LoggedLines, backoff: Backoff
) -> None:
    app, files = site
    uploads = lambda request: request.method == "PUT" and f"/{STATE_FOLDER}" not in request.url  # noqa: E731
    fault = Fault(code="SlowDown", protocol="rest-xml", status=503, fail_first=6, only=uploads)
    result = sync(tmp_path, app, session_with("before-send.s3.PutObject", fault))
    assert result, lines.lines[-3:]
    assert fault.injected == 6
    assert len(backoff.requested) >= 6  # each SlowDown was retried after botocore's backoff
    assert result["uploaded"] == len(files)
    stored = bucket_contents(boto3.client("s3"))
    assert site_files(stored) == files


def test_s3_slowdown_that_lasts_fails_in_one_line_and_leaves_no_complete_manifest(site: Any, tmp_path: Path, lines: LoggedLines) -> None:
    app, files = site
    fault = Fault(code="SlowDown", protocol="rest-xml", status=503, only=on_key("index.html"))
    started = time.monotonic()
    result = sync(tmp_path, app, session_with("before-send.s3.PutObject", fault))
    elapsed = time.monotonic() - started
    assert result is False
    assert 2 <= fault.injected <= 10  # retried by the client (standard mode), and bounded: then the hook gives up
    errors = [line for line in lines.lines if line.startswith("npm_build: ")]
    assert errors == [f"npm_build: could not upload index.html in s3://{BUCKET}: SlowDown: injected SlowDown"]
    assert elapsed < 60
    assert manifest_state(bucket_contents(boto3.client("s3"))) == "syncing"  # never vouches for the half-done sync
    # the next run (the fault gone) completes the sync
    again = sync(tmp_path, app, None)
    assert again and again["uploaded"] >= 1
    stored = bucket_contents(boto3.client("s3"))
    assert site_files(stored) == files


def test_connection_lost_mid_sync_then_the_next_run_completes_exactly(site: Any, tmp_path: Path, lines: LoggedLines) -> None:
    """The "moto server killed mid-sync" case.

    Killing and restarting moto would empty it (its state is in memory), so the outage is a
    connection that closes on every PutObject after the first 120: what a client sees when the
    endpoint goes away mid-sync.
    """
    app, _ = site
    files = make_site(app / "out", LARGE_SITE_FILES)
    fault = Fault(connection_closed=True, fail_after=100)
    session = session_with("before-send.s3.PutObject", fault)
    first = sync(tmp_path, app, session)
    assert first is False
    errors = [line for line in lines.lines if line.startswith("npm_build: ")]
    assert len(errors) == 1 and errors[0].startswith("npm_build: could not upload ") and "Connection was closed" in errors[0], errors
    s3 = boto3.client("s3")
    partial = bucket_contents(s3)
    assert manifest_state(partial) == "syncing"  # no complete manifest vouches for a half-done sync
    partial = site_files(partial)
    assert 0 < len(partial) < len(files)
    assert len(partial) <= fault.passed

    counted: list[str] = []
    session = boto3.Session(region_name="us-east-1")
    session.events.register("provide-client-params.s3.PutObject", lambda params, **_: counted.append(params["Key"]))
    second = sync(tmp_path, app, session)
    assert second, lines.lines[-3:]
    uploaded_again = [key for key in counted if not key.startswith(STATE_FOLDER)]
    assert len(uploaded_again) == len(set(uploaded_again))  # nothing sent twice
    assert not set(uploaded_again) & set(partial)  # what the first run stored is not re-sent
    assert set(uploaded_again) | set(partial) == set(files)  # nothing lost
    stored = bucket_contents(s3)
    assert site_files(stored) == files
    manifest = parse_manifest(stored[MANIFEST_NAME])
    assert manifest is not None and set(manifest.objects) == set(files)
    for key, entry in manifest.objects.items():
        assert entry.sha256 == hashlib.sha256(files[key]).hexdigest()
        assert entry.size == len(files[key])
    third = sync(tmp_path, app, None)
    # with build: false the output is compared every time (never skipped): the manifest vouches for every object
    assert (third["uploaded"], third["deleted"], third["unchanged"]) == (0, 0, len(files))


# -- CloudFront ----------------------------------------------------------------------------------


@pytest.fixture
def distribution_id(aws) -> str:  # type: ignore[no-untyped-def]
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "reliability",
            "Comment": "reliability",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "o", "DomainName": "o.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return created["Distribution"]["Id"]


def invalidation_count(distribution: str) -> int:
    return boto3.client("cloudfront").list_invalidations(DistributionId=distribution)["InvalidationList"]["Quantity"]


def test_cloudfront_busy_is_retried_through_the_cfngin_face(distribution_id: str, tmp_path: Path) -> None:
    fault = Fault(code="TooManyInvalidationsInProgress", protocol="rest-xml", fail_first=2)
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudfront.CreateInvalidation", fault))
    result = invalidation_hook(context, None, distribution_id=distribution_id, paths=["/index.html"], timeout=60)
    assert result and result["invalidation_id"]
    assert fault.injected == 2
    assert invalidation_count(distribution_id) == 1
    assert context.hook_data["runway_ext"]["cloudfront_invalidation"]["invalidation_id"] == result["invalidation_id"]


@pytest.mark.parametrize(("code", "status"), [("Throttling", 400), ("ServiceUnavailable", 503)])
def test_cloudfront_throttling_is_retried_by_botocore_not_by_the_hook(distribution_id: str, tmp_path: Path, code: str, status: int) -> None:
    """The client's standard retry mode resends a throttled or 5xx CreateInvalidation within one call; the hook adds no loop."""
    fault = Fault(code=code, protocol="rest-xml", status=status, fail_first=2)
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudfront.CreateInvalidation", fault))
    result = invalidation_hook(context, None, distribution_id=distribution_id, paths=["/index.html"], timeout=60)
    assert result and result["invalidation_id"]
    assert (fault.injected, fault.passed) == (2, 1)
    assert invalidation_count(distribution_id) == 1


def test_cloudfront_throttling_past_botocores_attempts_fails_in_one_line(distribution_id: str, tmp_path: Path, lines: LoggedLines) -> None:
    fault = Fault(code="Throttling", protocol="rest-xml")
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudfront.CreateInvalidation", fault))
    assert invalidation_hook(context, None, distribution_id=distribution_id, paths=["/index.html"], timeout=60) is False
    assert fault.injected == 1 + RETRY_ATTEMPTS  # botocore's first request and retries, not multiplied by an outer loop
    errors = [line for line in lines.lines if line.startswith("cloudfront_invalidation: ")]
    assert errors == [f"cloudfront_invalidation: invalidating {distribution_id} failed: Throttling: injected Throttling"]


def test_cloudfront_busy_past_the_timeout_is_one_line(distribution_id: str, tmp_path: Path, lines: LoggedLines) -> None:
    fault = Fault(code="TooManyInvalidationsInProgress", protocol="rest-xml")
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.cloudfront.CreateInvalidation", fault))
    started = time.monotonic()
    result = invalidation_hook(context, None, distribution_id=distribution_id, paths=["/index.html"], timeout=3)
    assert result is False
    assert time.monotonic() - started < 3 + 10
    errors = [line for line in lines.lines if line.startswith("cloudfront_invalidation: ")]
    assert errors == [
        f"cloudfront_invalidation: gave up invalidating {distribution_id} (timeout 3s): "
        "TooManyInvalidationsInProgress: injected TooManyInvalidationsInProgress"
    ]
    assert invalidation_count(distribution_id) == 0
    assert invalidation_hook(make_cfngin_context(tmp_path), None, distribution_id=distribution_id, paths=["/index.html"])


# -- ECR (the ${ecr_image} lookup) ---------------------------------------------------------------


@pytest.fixture
def image(aws) -> str:  # type: ignore[no-untyped-def]
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName="reliability-app")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "a" * 64},
        "layers": [],
    }
    pushed = ecr.put_image(repositoryName="reliability-app", imageManifest=json.dumps(manifest), imageTag="v1")
    return pushed["image"]["imageId"]["imageDigest"]


def test_ecr_throttling_is_retried_by_the_lookup(image: str, tmp_path: Path) -> None:
    fault = Fault(code="ThrottlingException", protocol="json", fail_first=2)
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.ecr.DescribeImages", fault))
    resolved = EcrImageLookup.handle("reliability-app::tag=v1", context)
    assert fault.injected == 2
    assert resolved.endswith("@" + image)


def test_ecr_throttling_that_lasts_is_one_value_error_naming_repo_and_tag(image: str, tmp_path: Path) -> None:
    fault = Fault(code="ThrottlingException", protocol="json")
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.ecr.DescribeImages", fault))
    with pytest.raises(
        ValueError, match=r"^ecr_image: reliability-app:v1 in us-east-1: ThrottlingException: injected ThrottlingException$"
    ):
        EcrImageLookup.handle("reliability-app::tag=v1", context)
    assert 2 <= fault.injected <= 10  # retried, and bounded
