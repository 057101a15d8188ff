"""Secret files in the build context: refused before docker runs, one line per file with the ignore-file line that fixes it.

The hook runs for real up to the check; a ``docker`` on ``PATH`` that records its calls proves docker
never ran, and no AWS endpoint is needed (the check comes before any AWS call).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from runway_ext.hooks.docker_build_push import cfngin_hook
from runway_ext.hooks.docker_build_push.context_hash import context_paths
from runway_ext.hooks.docker_build_push.context_secrets import scan_context

SECRETS = {
    ".env": "APP_NAME=shop\nDB_PASSWORD=hunter2-very-secret\n",
    ".env.production": "export API_TOKEN='tok-9f8e7d6c5b4a'\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnop\n",
    ".git/config": '[remote "origin"]\n\turl = https://deploy:ghp_s3cr3tvalue@github.com/acme/shop.git\n',
    "keys/deploy.pem": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "aws/credentials": "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n",
}
HARMLESS = {
    "Dockerfile": "FROM scratch\nCOPY . .\n",
    ".env.example": "DB_PASSWORD=\nAPI_TOKEN=changeme\n",
    ".env.defaults": "LOG_LEVEL=info\n",
    "config.env": "PORT=8080\nSECRET_KEY=${SECRET_KEY}\n",
    "index.html": "<h1>password reset</h1>\n",
    ".git/HEAD": "ref: refs/heads/main\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def recording_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "docker-calls"
    (folder / "docker").write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexit 1\n')
    (folder / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", str(folder), prepend=os.pathsep)
    return log


def test_each_secret_file_is_one_line_naming_the_ignore_line_and_docker_never_runs(
    tmp_path: Path, recording_docker: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = tmp_path / "app"
    write(app, {**SECRETS, **HARMLESS})
    caplog.set_level(logging.INFO)
    assert cfngin_hook(None, None, repository_name="shop", working_directory=str(app), registry="127.0.0.1:5999") is False
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    ignore_file = app / ".dockerignore"
    expected = {
        ".env": "is an env file with secret values (DB_PASSWORD)",
        ".env.production": "is an env file with secret values (API_TOKEN)",
        ".git/config": "is a .git/config with credentials in a remote URL",
        ".npmrc": "is an .npmrc with a registry token",
        "aws/credentials": "is an AWS credentials file (aws_secret_access_key)",
        "keys/deploy.pem": "holds a private key",
    }
    assert errors == [
        f"docker_build_push: build_context: {path} {reason} and would be copied into the image: "
        f"add the line '{'.git' if path.startswith('.git/') else path}' to {ignore_file} (or list it in allow_context_files)"
        for path, reason in sorted(expected.items())
    ]
    assert not recording_docker.exists(), "docker ran"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in ("hunter2", "tok-9f8e", "npm_abcdef", "ghp_s3cr3t", "b3BlbnNzaC1", "wJalrXUtn"):
        assert value not in logged


def test_the_lines_it_names_fix_it(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write(app, {**SECRETS, **HARMLESS})
    first = scan_context(app, context_paths(app, []))
    (app / ".dockerignore").write_text("".join(item.ignore_line + "\n" for item in first.refused))
    patterns = (app / ".dockerignore").read_text().split()
    again = scan_context(app, context_paths(app, patterns))
    assert again.refused == () and again.warnings == ()


def test_git_without_credentials_is_a_warning_and_templates_pass(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write(app, {**HARMLESS, ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/shop.git\n'})
    scan = scan_context(app, context_paths(app, []))
    assert scan.refused == ()
    assert scan.warnings == (
        ".git/ is in the build context (history and remotes reach the image with COPY . .): add .git to the ignore file",
    )


def test_an_allowed_file_passes_and_an_ignored_one_is_never_read(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write(app, {**HARMLESS, ".env": SECRETS[".env"], "keys/deploy.pem": SECRETS["keys/deploy.pem"], ".npmrc": SECRETS[".npmrc"]})
    scan = scan_context(app, context_paths(app, [".npmrc"]), allow=["keys/", ".env"])
    assert scan.refused == ()


def test_a_larger_or_binary_file_is_not_read(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write(app, {".env": "DB_PASSWORD=x1234567\n" + "A=" + "b" * 1024 * 1024 + "\n"})
    (app / "blob.bin").write_bytes(b"\x00-----BEGIN RSA PRIVATE KEY-----\n")
    assert scan_context(app, context_paths(app, [])).refused == ()
