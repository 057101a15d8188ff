"""Fixtures of the CloudFront invalidation tests (see :mod:`.moto_cloudfront`)."""

from __future__ import annotations

import pytest

from runway_ext.local.moto_server import MotoServer
from tests.hooks.cloudfront_invalidation.moto_cloudfront import create_distribution


@pytest.fixture
def distribution_id(aws: MotoServer) -> str:
    """A distribution on the (emptied) moto server."""
    return create_distribution()
