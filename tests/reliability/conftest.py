"""Fixtures shared by the reliability tests."""

from __future__ import annotations

import pytest

from tests.support.logs import LoggedLines


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> LoggedLines:
    """Every runway_ext log line of the test (through caplog)."""
    return LoggedLines(caplog)
