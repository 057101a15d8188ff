"""Promotion on the real engine and registry (ECR API: moto): every digest is kept, a rerun copies nothing.

The copy goes through the engine's local registry (the ``registry`` override, as in local mode); the
source is a real two-platform image built by the docker_build_push hook (arm64 under QEMU).
"""

# ruff: noqa: F811 - docker_calls and multiarch_base are fixtures imported from the build hook's tests
from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from runway_ext.core.image_index import parse_index, platform_digests
from runway_ext.hooks.docker_promote import cfngin_hook as promote
from runway_ext.local.moto_server import MotoServer
from runway_ext.lookups.ecr_image import EcrImageLookup
from runway_ext.testing.cfngin import make_cfngin_context
from tests.hooks.docker_build_push.test_hook import DockerCalls, docker_calls, unique_repository  # noqa: F401
from tests.hooks.docker_build_push.test_multi_platform import PLATFORMS, hook, make_app, multiarch_base, registry_manifest  # noqa: F401

pytestmark = pytest.mark.docker


def test_promote_to_another_region_keeps_every_digest_and_a_rerun_copies_nothing(
    docker_calls: DockerCalls, multiarch_base: str, aws: MotoServer, tmp_path: Path
) -> None:
    engine = docker_calls.engine
    source, target = unique_repository(), unique_repository()
    built = hook(engine, make_app(tmp_path / "app", multiarch_base), source, image_tag="v1", platforms=PLATFORMS)

    docker_calls.clear()
    result = promote(
        None, None, source=f"{source}:v1", destination=f"{target}:release", destination_region="eu-west-1", registry=engine.registry
    )
    assert result, "promotion failed (see the log above)"
    assert result["copied"] is True and result["digest"] == built["index_digest"]
    assert result["platform_digests"] == built["platform_digests"]
    assert not [argv for argv in docker_calls.all() if argv[:1] in (["build"], ["push"]) or argv[:2] == ["buildx", "build"]]
    # the registry holds the very same index bytes at the destination, and every platform manifest
    status, body, _ = registry_manifest(engine, target, "release")
    assert status == 200 and platform_digests(parse_index(body)) == built["platform_digests"]
    # the destination ECR (another region) records it like a push: the index under the tag, each manifest by digest
    ecr = boto3.client("ecr", region_name="eu-west-1")
    [tagged] = ecr.describe_images(repositoryName=target, imageIds=[{"imageTag": "release"}])["imageDetails"]
    assert tagged["imageDigest"] == built["index_digest"]
    for digest in built["platform_digests"].values():
        assert ecr.describe_images(repositoryName=target, imageIds=[{"imageDigest": digest}])["imageDetails"]
    # a lookup in the target environment pins exactly what was tested
    context = make_cfngin_context(tmp_path / "module", environ={"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1"})
    arm64 = EcrImageLookup.handle(f"{target}::tag=release, platform=linux/arm64, region=eu-west-1", context)
    assert arm64.endswith(f"/{target}@{built['platform_digests']['linux/arm64']}")
    assert result["destination_digest_uri"] == f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{target}@{built['index_digest']}"

    docker_calls.clear()
    again = promote(
        None, None, source=f"{source}:v1", destination=f"{target}:release", destination_region="eu-west-1", registry=engine.registry
    )
    assert again and again["copied"] is False and again["digest"] == built["index_digest"]
    assert docker_calls.all() == []


def test_a_missing_source_is_one_line(aws: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="rwx-empty")
    assert promote(None, None, source="rwx-empty:v1", destination="rwx-prod:v1", registry="127.0.0.1:5999") is False
    [error] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert error == "docker_promote: source: no image rwx-empty:v1 in us-east-1"
