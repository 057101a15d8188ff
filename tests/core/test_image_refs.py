"""Image names: ECR hosts, tag and repository rules, tag and digest URIs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_ext.core.image_refs import (
    TAG_PATTERN,
    digest_uri,
    ecr_registry_host,
    image_uri,
    is_loopback_registry,
    registry_problem,
    repository_problem,
    split_registry,
    tag_problem,
)

DIGEST = "sha256:" + "ab" * 32


def test_ecr_hosts_per_partition() -> None:
    assert ecr_registry_host("123456789012", "us-west-2") == "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert ecr_registry_host("123456789012", "cn-north-1") == "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    with pytest.raises(ValueError, match="account id"):
        ecr_registry_host("1234", "us-east-1")
    with pytest.raises(ValueError, match="region"):
        ecr_registry_host("123456789012", "moon")


def test_tag_and_digest_uris() -> None:
    host = ecr_registry_host("123456789012", "us-east-1")
    assert image_uri(host, "team/app", "v1.0.0") == f"{host}/team/app:v1.0.0"
    assert digest_uri(host + "/", "app", DIGEST) == f"{host}/app@{DIGEST}"
    with pytest.raises(ValueError, match="digest"):
        digest_uri(host, "app", "sha256:short")


@pytest.mark.parametrize("tag", ["latest", "v1.0.0", "_x", "A-b.c_d", "9" * 128])
def test_valid_tags(tag: str) -> None:
    assert tag_problem(tag) is None


@pytest.mark.parametrize(
    ("tag", "problem"),
    [("", "empty"), ("-x", "invalid"), (".x", "invalid"), ("a:b", "invalid"), ("a b", "invalid"), ("x" * 129, "at most 128"), ("tag/x", "invalid")],
)
def test_invalid_tags(tag: str, problem: str) -> None:
    assert problem in (tag_problem(tag) or "")


@given(st.from_regex(TAG_PATTERN, fullmatch=True))
def test_every_tag_of_the_pattern_is_accepted(tag: str) -> None:
    assert tag_problem(tag) is None


@pytest.mark.parametrize("name", ["my-app-repo", "team/app", "a1", "x.y_z/a-b/c"])
def test_valid_repositories(name: str) -> None:
    assert repository_problem(name) is None


@pytest.mark.parametrize("name", ["a", "My-App", "app/", "/app", "a--", "app:1", "a" * 257])
def test_invalid_repositories(name: str) -> None:
    assert repository_problem(name) is not None


def test_registries() -> None:
    assert registry_problem("127.0.0.1:5000") is None
    assert registry_problem("ghcr.io/my-org") is None
    assert "not a URL" in (registry_problem("http://127.0.0.1:5000") or "")
    assert registry_problem("bad host") is not None
    assert split_registry("ghcr.io/my-org/") == ("ghcr.io", "my-org")
    assert split_registry("127.0.0.1:5000") == ("127.0.0.1:5000", "")
    assert is_loopback_registry("127.0.0.1:5000") and is_loopback_registry("localhost:5000/x")
    assert not is_loopback_registry("registry.example.com:5000")
