"""Which URL a deploy in local mode polls for time to served: the serve's edge URL of the distribution's domain.

The stand-in is the test session's moto server; the serve's session file is a real one, written in a temporary
folder with the serve module's own writer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.local.serve_session import write_session
from runway_ext.local.site_urls import served_url_finder
from tests.hooks.cloudfront_invalidation.moto_cloudfront import create_distribution


@pytest.fixture
def session_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def cloudfront() -> Any:
    return boto3.client("cloudfront")


def test_outside_local_mode_the_url_is_polled_as_given() -> None:
    finder, why_not = served_url_finder("https://d1.cloudfront.net/", {"AWS_REGION": "us-east-1"}, cloudfront)
    assert why_not is None and finder is not None and finder() == "https://d1.cloudfront.net/"
    remote = {"AWS_ENDPOINT_URL": "https://s3.example.com"}
    finder, why_not = served_url_finder("https://d1.cloudfront.net/", remote, cloudfront)
    assert why_not is None and finder is not None and finder() == "https://d1.cloudfront.net/"


def test_a_stand_in_without_a_serve_measures_nothing_and_says_why(aws: Any, session_dir: Path) -> None:
    finder, why_not = served_url_finder("https://d1.cloudfront.net/", {"AWS_ENDPOINT_URL": aws.endpoint}, cloudfront)
    assert finder is None and why_not is not None
    assert why_not.startswith("site_url: d1.cloudfront.net is the local AWS's distribution") and "not measured" in why_not


def test_against_a_serve_the_distributions_domain_maps_to_its_edge_url_once_served(aws: Any, session_dir: Path) -> None:
    distribution = create_distribution()
    domain = cloudfront().get_distribution(Id=distribution)["Distribution"]["DomainName"]
    session: dict[str, Any] = {"endpoint": aws.endpoint, "sites": {}}
    write_session(aws.port, session)
    finder, why_not = served_url_finder(f"https://{domain}/about/", {"AWS_ENDPOINT_URL": aws.endpoint}, cloudfront)
    assert why_not is None and finder is not None
    assert finder() is None  # the serve's edge does not serve the distribution yet
    write_session(aws.port, {**session, "sites": {distribution: "http://127.0.0.1:45678/"}})
    assert finder() == "http://127.0.0.1:45678/about/"
    other, _ = served_url_finder("https://dother.cloudfront.net/", {"AWS_ENDPOINT_URL": aws.endpoint}, cloudfront)
    assert other is not None and other() is None  # a domain no distribution of the stand-in has


def test_a_url_on_this_machine_is_polled_as_given(aws: Any, session_dir: Path) -> None:
    finder, why_not = served_url_finder("http://127.0.0.1:45678/", {"AWS_ENDPOINT_URL": aws.endpoint}, cloudfront)
    assert why_not is None and finder is not None and finder() == "http://127.0.0.1:45678/"
