"""AWS naming rules, checked before anything is sent."""

from __future__ import annotations

import pytest

from runway_ext.core.names import bucket_name_problem, region_problem


@pytest.mark.parametrize("name", ["abc", "my-site.example.com", "a" * 63, "site-bucket-1"])
def test_valid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "Bad_Bucket", "-start", "end-", "two..dots", "dot.-dash", "192.168.1.10", "xn--punycode", "ends-s3alias", "sthree-x"],
)
def test_invalid_bucket_names_name_the_value(name: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None and problem.startswith(f"invalid bucket name {name!r}")


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2", "ap-southeast-3", "us-gov-west-1"])
def test_valid_regions(region: str) -> None:
    assert region_problem(region) is None


@pytest.mark.parametrize("region", ["", "us-east", "US-EAST-1", "useast1", "us-east-1; rm -rf"])
def test_invalid_regions(region: str) -> None:
    assert region_problem(region) == f"invalid region {region!r} (expected a name like us-east-1)"
