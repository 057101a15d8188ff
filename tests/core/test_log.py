"""Secret redaction in every runway_ext log line."""

from __future__ import annotations

import logging

import pytest

from runway_ext.core.log import get_logger, has_url_credentials, is_secret_name, redact, register_secret, register_secrets


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


@pytest.mark.parametrize("name", ["DB_PASS", "SENTRY_DSN", "SESSION_SALT", "PRIVATE_PEM", "KEY_ID", "APIKEY", "SSHKEY", "CREDENTIALS_JSON"])
def test_more_secret_name_parts(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SENTRY_DSN=https://0a1b2c3d4e@o1.ingest.example.io/42", "SENTRY_DSN=https://***@o1.ingest.example.io/42"),
        ("Server=db;Database=app;User Id=sa;Password=Pa55w0rd!;", "Server=db;Database=app;User Id=sa;Password=***;"),
        ("Host=db;Pwd=hunter22;Port=5432", "Host=db;Pwd=***;Port=5432"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
    ],
)
def test_credential_shapes_are_masked_without_registration(text: str, masked: str) -> None:
    assert has_url_credentials(text)
    assert redact(text) == masked


@pytest.mark.parametrize("text", ["https://example.com/a@b", "see https://example.com/docs", "Password policy: none", "user@example.com"])
def test_plain_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_register_secrets_by_name_shape_and_forced_names() -> None:
    values = {
        "DB_PASS": "first-value-1",
        "SENTRY_DSN_URL": "https://key9key9@sentry.example.io/1",
        "GREETING": "hello-there",
        "CONNECTION": "Server=a;Password=zz-top-22;",
        "NO_ECHO_PARAM": "forced-value-3",
        "EMPTY_TOKEN": "",
    }
    registered = register_secrets(values, also=["NO_ECHO_PARAM"])
    assert registered == ["DB_PASS", "SENTRY_DSN_URL", "CONNECTION", "NO_ECHO_PARAM"]
    line = redact(" ".join(values.values()))
    assert "hello-there" in line
    for name in registered:
        assert values[name] not in line
