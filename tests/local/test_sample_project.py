"""End to end: sample-project/ deployed in local mode, redeployed unchanged, one page changed, destroyed.

Everything is real but AWS: the runway CLI, npm, the sam CLI, a Docker engine (the test session's, handed to
local mode through DOCKER_HOST as a user's own engine would be), the local registry local mode starts itself,
and a moto server on loopback (with the CloudFront/S3 types local mode teaches it). Local mode must leave the
host's firewall, interfaces and IP forwarding exactly as they were, while it runs and after.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.core import journal
from runway_ext.local.command import describe_stacks, run_runway_locally
from runway_ext.local.session import local_aws
from runway_ext.local.tools import local_tools
from tests.support.host_state import host_network_state

SAMPLE = Path(__file__).resolve().parents[2] / "sample-project"

pytestmark = [pytest.mark.runway, pytest.mark.docker, pytest.mark.sam]


@pytest.fixture
def sam_on_path(sam: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real sam CLI (the suite's ``sam`` fixture), put on PATH for the runway subprocesses."""
    monkeypatch.setenv("PATH", f"{Path(sam).parent}{os.pathsep}{os.environ['PATH']}")
    return sam


def hooks_of(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last result of each hook in a run's journal entries (every entry must be a success)."""
    failed = [entry for entry in entries if not entry["ok"]]
    assert not failed, failed
    return {entry["hook"]: entry["result"] for entry in entries}


def aws_clients(endpoint: str) -> dict[str, Any]:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return {name: session.client(name, endpoint_url=endpoint) for name in ("cloudformation", "s3", "ecr", "cloudfront", "ecs")}


def registry_catalog(registry: str) -> list[str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{registry}/v2/_catalog", timeout=10) as response:
        return json.loads(response.read())["repositories"]


def test_sample_project_local_lifecycle(tmp_path: Path, aws, docker_env, sam_on_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """``aws`` empties moto first: every moto server in one process shares one state, so "nothing left" is exact."""
    project = tmp_path / "sample-project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("node_modules", "out", ".env.local", ".runway", ".aws-sam"))
    monkeypatch.delenv("RUNWAY_EXT_REGISTRY", raising=False)
    monkeypatch.setenv("RUNWAY_EXT_BASE_IMAGE", docker_env.base_image)
    host_before = host_network_state()

    with local_aws() as aws, local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_CONTAINERS"] == "true", tools.notices
        registry = tools.environment["RUNWAY_EXT_REGISTRY"]
        assert registry.startswith("127.0.0.1:") and registry != docker_env.registry
        assert tools.environment["RUNWAY_EXT_SAM"] == "true", tools.notices
        clients = aws_clients(aws.endpoint)
        seen = 0

        def run(action: str) -> dict[str, dict[str, Any]]:
            nonlocal seen
            code = run_runway_locally(project, action, aws, deploy_environment="dev", timeout=900, extra_environment=tools.environment)
            entries = journal.read(aws.journal_file)
            new, seen = entries[seen:], len(entries)
            assert code == 0, new
            return hooks_of(new)

        # 1. first deploy: every stack complete, site in the bucket, .env written, invalidation, image pinned
        first = run("deploy")
        stacks = {stack["StackName"]: stack for stack in describe_stacks(aws)}
        assert set(stacks) == {f"sample-dev-{name}" for name in ("registry", "site", "artifacts", "service", "api")}
        assert {stack["StackStatus"] for stack in stacks.values()} == {"CREATE_COMPLETE"}
        site = {item["OutputKey"]: item["OutputValue"] for item in stacks["sample-dev-site"]["Outputs"]}
        keys = sorted(obj["Key"] for obj in clients["s3"].list_objects_v2(Bucket=site["BucketName"])["Contents"])
        assert "index.html" in keys and "about/index.html" in keys and any(key.startswith("_next/static/") for key in keys)
        assert first["npm_build"]["uploaded"] == len(keys) - 1  # + the site manifest object the hook keeps
        assert first["cloudfront_invalidation"]["distribution_id"] == site["DistributionId"]
        assert "/about/" in first["cloudfront_invalidation"]["paths"] or "/*" in first["cloudfront_invalidation"]["paths"]
        env_file = (project / ".env.local").read_text()
        assert f"SITE_BUCKET='{site['BucketName']}'" in env_file
        image = first["docker_build_push"]
        assert image["skipped"] is False and image["digest"].startswith("sha256:")
        assert "sample-dev-service" in registry_catalog(registry)
        assert host_network_state() == host_before
        service = {item["OutputKey"]: item["OutputValue"] for item in stacks["sample-dev-service"]["Outputs"]}
        assert service["ImageUri"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sample-dev-service@{image['digest']}"
        assert first["sam_deploy"]["stack_name"] == "sample-dev-api"

        # 2. nothing changed: build skipped, 0 uploads, no invalidation, image not rebuilt
        second = run("deploy")
        assert second["npm_build"]["skipped"] is True and second["npm_build"]["uploaded"] == 0
        assert second["cloudfront_invalidation"]["skipped"] is True
        assert second["docker_build_push"]["skipped"] is True and second["docker_build_push"]["built"] is False
        assert second["docker_build_push"]["digest"] == image["digest"]
        invalidations = clients["cloudfront"].list_invalidations(DistributionId=site["DistributionId"])["InvalidationList"]
        assert invalidations["Quantity"] == 1

        # 3. one page changed: exactly that page uploaded and invalidated
        about = project / "app" / "src" / "pages" / "about.html"
        about.write_text(about.read_text() + "<p>Changed.</p>\n")
        third = run("deploy")
        assert third["npm_build"]["uploaded"] == 1
        assert third["npm_build"]["changed_paths"] == ["/about/index.html"]
        assert set(third["cloudfront_invalidation"]["paths"]) == {"/about/index.html", "/about/"}
        assert third["docker_build_push"]["skipped"] is True

        # 4. destroy: nothing left
        run("destroy")
        assert describe_stacks(aws) == []
        assert clients["s3"].list_buckets()["Buckets"] == []
        assert clients["ecr"].describe_repositories()["repositories"] == []
        assert clients["cloudfront"].list_distributions()["DistributionList"].get("Items", []) == []
    assert host_network_state() == host_before
    with pytest.raises(OSError):
        registry_catalog(registry)  # the registry local mode started is gone
