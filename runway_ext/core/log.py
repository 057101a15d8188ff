"""Loggers under the ``runway_ext.`` name, with redaction of secret values.

Secrets are redacted in two ways: values registered with :func:`register_secret` (or, by their
name or shape, :func:`register_secrets`) are replaced wherever they appear, and values whose shape
says they are credentials are masked wherever they appear: passwords in URLs
(``scheme://user:password@host``), DSN keys (``https://KEY@host``) and ``Password=…;`` pairs.
Every logger obtained through :func:`get_logger` carries the redacting filter, so a record is
cleaned before any handler (Runway's or the CLI's) formats it.

The same rules decide which *files* hold secrets (:func:`secret_file_reason`): an env file with a
secret-looking value, ``.npmrc``/``.pypirc``/``.netrc`` with a token or password, a ``.git/config`` with
credentials in a remote URL, a private key, a cloud or registry credential file. Templates
(``.env.example``, ``.env.sample``, ``.env.template``, ``.env.dist``) are never secret files.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping

MASK = "***"
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|SALT|DSN|CREDENTIAL|PRIVATE|AUTH|(^|_)KEY($|_)|API_?KEY|ACCESS_?KEY|SSH_?KEY", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]*:)(?P<secret>[^@\s/]+)@")
_URL_KEY = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]{0,31}://)(?P<secret>[^/\s:@]{4,})@")
_PASSWORD_PAIR = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<secret>[^;\s]+)", re.IGNORECASE)
_MIN_SECRET_LENGTH = 4
_ENV_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tpl", ".defaults")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(?P<value>.*?)\s*$")
_NPMRC_TOKEN = re.compile(r"(?:_authToken|_auth|_password)\s*=\s*\S", re.IGNORECASE)
_PYPIRC_PASSWORD = re.compile(r"^\s*password\s*[=:]\s*\S", re.IGNORECASE | re.MULTILINE)
_NETRC_PASSWORD = re.compile(r"\bpassword\s+\S")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_AWS_SECRET = re.compile(r"^\s*aws_secret_access_key\s*=\s*\S", re.IGNORECASE | re.MULTILINE)
_JSON_SECRET = re.compile(r'"(?:private_key|auth|identitytoken|client_secret|refresh_token)"\s*:\s*"[^"]+"', re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^(?:|changeme|change-me|xxx+|\*+|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)$", re.IGNORECASE)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    """Whether a variable name looks like it holds a secret.

    A name containing PASS, SECRET, TOKEN, SALT, DSN, CREDENTIAL, PRIVATE or AUTH, or KEY as a word part
    (any case): ``DB_PASS``, ``SENTRY_DSN``, ``SESSION_SALT``, ``api_key``, ``KEY_ID``, ``APIKEY``, ``SSHKEY`` — not
    ``MONKEY_COUNT`` or ``KEYBOARD_LAYOUT``.
    """
    return bool(_SECRET_NAME.search(name))


def has_url_credentials(value: str) -> bool:
    """Whether a value carries credentials by its shape.

    ``scheme://user:password@host``, a DSN with a key (``https://KEY@host/…``) or a connection string's
    ``Password=…;`` / ``Pwd=…;`` pair.
    """
    return bool(_URL_CREDENTIALS.search(value) or _URL_KEY.search(value) or _PASSWORD_PAIR.search(value))


def looks_secret(name: str, value: str) -> bool:
    """Whether a named value must be treated as a secret: by its name or by its shape."""
    return is_secret_name(name) or has_url_credentials(value)


def is_env_template(name: str) -> bool:
    """Whether a file name is an env-file template (``.env.example``, ``app.env.sample``, ...), never a secret file."""
    return name.lower().endswith(_ENV_TEMPLATE_SUFFIXES)


def _is_env_file(name: str) -> bool:
    lowered = name.lower()
    return (lowered == ".env" or lowered.startswith(".env.") or lowered.endswith(".env")) and not is_env_template(lowered)


def _secret_env_names(text: str) -> list[str]:
    """Names in env-file text whose value is set (not a placeholder) and looks secret by name or shape."""
    names = []
    for line in text.splitlines():
        found = _ENV_LINE.match(line)
        if not found or line.lstrip().startswith("#"):
            continue
        value = found["value"].strip().strip("'\"")
        if not _PLACEHOLDER.fullmatch(value) and looks_secret(found["name"], value):
            names.append(found["name"])
    return names


def secret_file_reason(path: str, text: str) -> str | None:
    """Why the file at ``path`` (posix, relative) with content ``text`` holds secrets, or ``None``.

    Never quotes a value: a reason names the file kind and, for env files, the variable names.
    """
    parts = path.split("/")
    name = parts[-1]
    lowered = name.lower()
    if _PRIVATE_KEY.search(text):
        return "holds a private key"
    if _is_env_file(name):
        names = _secret_env_names(text)
        return f"is an env file with secret values ({', '.join(names[:5])})" if names else None
    if lowered == ".npmrc" and _NPMRC_TOKEN.search(text):
        return "is an .npmrc with a registry token"
    if lowered == ".pypirc" and _PYPIRC_PASSWORD.search(text):
        return "is a .pypirc with a password"
    if lowered in (".netrc", "_netrc") and _NETRC_PASSWORD.search(text):
        return "is a .netrc with a password"
    if len(parts) >= 2 and parts[-2] == ".git" and lowered == "config" and has_url_credentials(text):
        return "is a .git/config with credentials in a remote URL"
    if _AWS_SECRET.search(text):
        return "is an AWS credentials file (aws_secret_access_key)"
    if lowered.endswith(".json") and _JSON_SECRET.search(text):
        return "is a credential file (a private key, token or registry auth in JSON)"
    return None


def register_secrets(values: Mapping[str, object], *, also: Iterable[str] = ()) -> list[str]:
    """Register every value of ``values`` that looks secret (by name or shape), plus the names in ``also``.

    Returns the names whose values were registered, in order.
    """
    forced = set(also)
    registered = []
    for name, value in values.items():
        text = "" if value is None else str(value)
        if text and (name in forced or looks_secret(name, text)):
            register_secret(text)
            registered.append(name)
    return registered


def register_secret(value: str | None) -> None:
    """Remember a value that must never be logged (short values are not masked: too many false hits)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)
            for line in value.splitlines():
                if len(line) >= _MIN_SECRET_LENGTH:
                    _secrets.add(line)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and URL password masked."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_CREDENTIALS.sub(lambda match: match.group("head") + MASK + "@", text)
    text = _URL_KEY.sub(lambda match: match.group("head") + MASK + "@", text)
    return _PASSWORD_PAIR.sub(lambda match: match.group("head") + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the fully formatted message in place; never drops a record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """Return a logger named under ``runway_ext.`` that redacts secrets."""
    if not name.startswith("runway_ext"):
        name = f"runway_ext.{name}"
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def adopt_runway_logging() -> None:
    """Inside a Runway run, print ``runway_ext`` logs through Runway's own handlers and level.

    Runway installs its handlers on the ``runway`` logger only, so without this a hook's
    messages would be invisible in ``runway deploy`` output. Does nothing if ``runway_ext``
    already has handlers (e.g. the CLI's) or Runway has none (e.g. under pytest).
    """
    ours = logging.getLogger("runway_ext")
    runway = logging.getLogger("runway")
    if ours.handlers or not runway.handlers:
        return
    for handler in runway.handlers:
        ours.addHandler(handler)
    ours.setLevel(runway.getEffectiveLevel())
    if logging.getLogger().handlers:
        ours.propagate = False  # the root would print them a second time
