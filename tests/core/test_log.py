"""Secret redaction in every runway_ext log line."""

from __future__ import annotations

import logging

import pytest

from runway_ext.core.log import get_logger, has_url_credentials, is_secret_name, redact, register_secret


@pytest.mark.parametrize("name", ["DB_PASSWORD", "api_key", "GITHUB_TOKEN", "CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY", "KEY", "AUTH_HEADER"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["API_URL", "REGION", "MONKEY_COUNT", "TURKEY", "KEYBOARD_LAYOUT"])
def test_plain_names(name: str) -> None:
    assert not is_secret_name(name)


def test_url_credentials_are_masked() -> None:
    text = "DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/app"
    assert has_url_credentials(text)
    assert redact(text) == "DATABASE_URL=postgres://app:***@db.internal:5432/app"


def test_registered_secret_is_masked_in_log_records(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("correct-horse-battery")
    logger = get_logger("tests.redaction")
    with caplog.at_level(logging.DEBUG, logger="runway_ext"):
        logger.info("token is %s and again %s", "correct-horse-battery", "correct-horse-battery")
    assert caplog.records[-1].getMessage() == "token is *** and again ***"
    assert "correct-horse-battery" not in caplog.text


def test_multiline_secret_lines_are_masked_one_by_one() -> None:
    register_secret("-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----")
    assert "AAAABBBBCCCC" not in redact("line: AAAABBBBCCCC")
