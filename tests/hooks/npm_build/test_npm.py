"""The app side without a bucket: package.json, the env file copy (and its secrets), npm's environment."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.log import redact
from runway_ext.hooks.npm_build.npm import (
    ENV_LOCAL,
    NPM_ENVIRONMENT_DEFAULTS,
    copy_env_file,
    declared_dependencies,
    is_nextjs,
    npm_environment,
    read_package,
    run_build,
)

LOG = logging.getLogger("runway_ext.hooks.npm_build")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"name": "app", "scripts": {"build": "node build.mjs"}}))
    return folder


# -- package.json --------------------------------------------------------------------------------
def test_read_package(app: Path) -> None:
    assert read_package(app)["name"] == "app"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "app_path: no package.json in {app}"),
        ("{not json", "app_path: cannot read {app}/package.json: "),
        ("[1, 2]", "app_path: {app}/package.json is not a JSON object"),
    ],
)
def test_read_package_refuses_a_missing_or_malformed_file(app: Path, content: str | None, message: str) -> None:
    if content is None:
        (app / "package.json").unlink()
    else:
        (app / "package.json").write_text(content)
    with pytest.raises(HookError) as raised:
        read_package(app)
    assert str(raised.value).startswith(message.format(app=app))


def test_read_package_needs_a_folder_and_optionally_the_file(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="is not a folder"):
        read_package(tmp_path / "missing", required=False)
    assert read_package(tmp_path, required=False) == {}


def test_declared_dependencies_of_every_kind() -> None:
    package = {
        "dependencies": {"react": "18"},
        "devDependencies": {"next": "14"},
        "optionalDependencies": {"fsevents": "2"},
        "peerDependencies": {"x": "1"},
    }
    assert declared_dependencies(package) == ["react", "next", "fsevents"]
    assert declared_dependencies({"dependencies": ["not", "a", "mapping"]}) == []


def test_a_nextjs_app_is_told_by_its_dependency_or_its_config_file(app: Path) -> None:
    assert not is_nextjs(app, {})
    assert is_nextjs(app, {"devDependencies": {"next": "14"}})
    (app / "next.config.mjs").write_text("export default {output: 'export'}\n")
    assert is_nextjs(app, {})


# -- the env file --------------------------------------------------------------------------------
def test_the_env_file_is_copied_private_and_its_secrets_registered(app: Path, log: pytest.LogCaptureFixture) -> None:
    password_url = "postgres://user:pw-4815162342@db/app"
    (app / ".env.prod").write_text(f"API_URL=https://api.example.com\nAPI_TOKEN=tok-0123456789\nDATABASE_URL={password_url}\n")
    assert copy_env_file(app, "prod", required=False, log=LOG) is True
    assert (app / ENV_LOCAL).read_bytes() == (app / ".env.prod").read_bytes()
    assert (app / ENV_LOCAL).stat().st_mode & 0o777 == 0o600
    assert "copied .env.prod to .env.local" in log.text
    masked = redact(f"token tok-0123456789, url {password_url}, api https://api.example.com")
    assert "tok-0123456789" not in masked and "pw-4815162342" not in masked and "https://api.example.com" in masked


def test_a_secret_the_env_file_takes_from_the_environment_is_masked_too(
    app: Path, log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_DEPLOY_TOKEN", "ci-9876543210")
    (app / ".env.prod").write_text("API_TOKEN=${CI_DEPLOY_TOKEN}\n")
    assert copy_env_file(app, "prod", required=False, log=LOG) is True
    assert redact("token ci-9876543210") == "token ***"


def test_an_env_file_that_is_not_utf8_is_one_line_and_nothing_is_copied(app: Path) -> None:
    (app / ".env.prod").write_bytes(b"API_TOKEN=caf\xe9\n")
    with pytest.raises(HookError) as refused:
        copy_env_file(app, "prod", required=False, log=LOG)
    assert str(refused.value) == f"environment: dotenv: file {app / '.env.prod'} is not UTF-8 text (byte 0xe9 at offset 13)"
    assert not (app / ENV_LOCAL).exists()


def test_an_env_local_that_already_matches_is_not_rewritten(app: Path, log: pytest.LogCaptureFixture) -> None:
    (app / ".env.dev").write_text("A=1\n")
    copy_env_file(app, "dev", required=False, log=LOG)
    before = (app / ENV_LOCAL).stat().st_mtime_ns
    assert copy_env_file(app, "dev", required=False, log=LOG) is True
    assert (app / ENV_LOCAL).stat().st_mtime_ns == before
    assert ".env.local already matches .env.dev" in log.text


def test_a_missing_env_file_is_a_warning_unless_required(app: Path, log: pytest.LogCaptureFixture) -> None:
    (app / ENV_LOCAL).write_text("OLD=1\n")
    assert copy_env_file(app, "staging", required=False, log=LOG) is False
    assert (app / ENV_LOCAL).read_text() == "OLD=1\n"
    assert [record.levelname for record in log.records] == ["WARNING"]
    assert "no .env.staging in" in log.text and "the existing .env.local is left as it is" in log.text
    with pytest.raises(HookError, match=r"environment: .*\.env\.staging does not exist \(require_env_file is set\)"):
        copy_env_file(app, "staging", required=True, log=LOG)


# -- npm -----------------------------------------------------------------------------------------
def test_npm_runs_quietly_unless_the_environment_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NPM_ENVIRONMENT_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("npm_config_fund", "true")
    env = npm_environment()
    assert env["npm_config_fund"] == "true"
    assert env["NEXT_TELEMETRY_DISABLED"] == "1" and env["npm_config_audit"] == "false"


def test_an_app_without_a_build_script_is_refused_before_npm_runs(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(HookError, match=r'app_path: .*package\.json has no "build" script'):
        run_build(app, {"scripts": {"test": "x"}}, timeout=5, log=LOG)
