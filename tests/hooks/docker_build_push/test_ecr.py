"""The ECR calls of the Docker build + push hook, against the ECR API of a moto server."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_build_push.ecr import (
    add_tags,
    ensure_repository,
    find_image,
    get_manifest,
    login_credentials,
    pushed_digest,
    record_image,
)
from runway_ext.local.moto_server import MotoServer

REGION = "us-east-1"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:" + "1" * 64},
        "layers": [],
    }
)
DIGEST = "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def ecr(aws: MotoServer) -> object:
    return boto3.client("ecr", region_name=REGION)


def test_repository_is_created_once_with_scan_on_push_and_tags(ecr: object) -> None:
    created, was_created = ensure_repository(ecr, "team/app", REGION, create=True, scan_on_push=True, tags={"Environment": "prod"})
    assert was_created and created.name == "team/app" and created.region == REGION
    assert created.uri == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/team/app" and created.host == created.uri.split("/")[0]
    again, was_created = ensure_repository(ecr, "team/app", REGION, create=True, scan_on_push=True, tags={})
    assert (again, was_created) == (created, False)


def test_missing_repository_not_to_be_created_is_one_line(ecr: object) -> None:
    with pytest.raises(
        HookError, match=r"^repository_name: ECR repository nope does not exist in us-east-1 \(create_repository is false\)$"
    ):
        ensure_repository(ecr, "nope", REGION, create=False, scan_on_push=True, tags={})


def test_record_then_find_add_tags_and_read_back(ecr: object) -> None:
    repository, _ = ensure_repository(ecr, "app", REGION, create=True, scan_on_push=False, tags={})
    assert find_image(ecr, repository, "v1") is None
    assert record_image(ecr, repository, MANIFEST, MEDIA_TYPE, DIGEST, ["v1", "content-x"]) == DIGEST
    found = find_image(ecr, repository, "content-x")
    assert found is not None and found.digest == DIGEST and found.tags == ("content-x", "v1")
    assert add_tags(ecr, repository, DIGEST, []) == []
    assert add_tags(ecr, repository, DIGEST, ["v2", "stable"]) == ["v2", "stable"]
    assert pushed_digest(ecr, repository, "stable") == DIGEST
    text, media_type = get_manifest(ecr, repository, DIGEST)
    assert json.loads(text) == json.loads(MANIFEST) and media_type in (MEDIA_TYPE, None)


def test_pushed_digest_that_ecr_does_not_list_is_one_line(ecr: object) -> None:
    repository, _ = ensure_repository(ecr, "app", REGION, create=True, scan_on_push=False, tags={})
    with pytest.raises(HookError, match=r"^pushed app:content-x but ECR does not list it in us-east-1$"):
        pushed_digest(ecr, repository, "content-x")


def test_login_token_is_split_and_names_the_registry(ecr: object) -> None:
    repository, _ = ensure_repository(ecr, "app", REGION, create=True, scan_on_push=False, tags={})
    login = login_credentials(ecr, repository)
    assert login.username == "AWS" and login.password and login.password not in repr(login)
    assert login.registry == repository.host
