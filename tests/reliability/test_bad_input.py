"""Hostile and wrong input through both faces of every hook, and through the lookups.

CFNgin face: the hook object called as Runway calls it, with a real CfnginContext. CLI face:
``python -m runway_ext.hooks.<module> …`` as a subprocess. Every case must end in one clear
line naming the field, ``False`` / a non-zero exit, no traceback, nothing written — and a shell
metacharacter payload must never run (its marker file is never created).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.hooks.cloudfront_invalidation import cfngin_hook as invalidation_hook
from runway_ext.hooks.docker_build_push import cfngin_hook as docker_hook
from runway_ext.hooks.docker_compose_integration import start_containers_hook, stop_containers_hook
from runway_ext.hooks.env_file_generator import cfngin_hook as env_file_hook
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.sam_deploy import cfngin_delete_hook as sam_delete_hook
from runway_ext.hooks.sam_deploy import cfngin_hook as sam_hook
from runway_ext.lookups.dotenv import DotenvLookup
from runway_ext.lookups.ecr_image import EcrImageLookup
from runway_ext.testing.cfngin import make_cfngin_context
from tests.support.logs import LoggedLines

MARKER = "PWNED_MARKER"
HUGE = "x" * 200_000
SHELL = [f"$(touch {MARKER})", f"`touch {MARKER}`", f"a; touch {MARKER}", f"a && touch {MARKER} #", f"a | touch {MARKER}"]
"""Shell metacharacter payloads; each would create ./PWNED_MARKER if any shell ran it."""


def cases() -> list[Any]:
    """(hook, id, args, field the error must name)."""
    env = env_file_hook
    table: list[Any] = [
        (env, "env-missing-output", {"variables": {"A": "1"}}, "output_file"),
        (env, "env-missing-variables", {"output_file": "out/.env"}, "variables"),
        (env, "env-empty-variables", {"output_file": "out/.env", "variables": {}}, "variables"),
        (env, "env-extra-arg", {"output_file": "out/.env", "variables": {"A": "1"}, "colour": "red"}, "colour"),
        (env, "env-wrong-type", {"output_file": "out/.env", "variables": {"A": "1"}, "overwrite": "maybe"}, "overwrite"),
        (env, "env-variables-not-a-dict", {"output_file": "out/.env", "variables": ["A=1"]}, "variables"),
        (env, "env-empty-path", {"output_file": "", "variables": {"A": "1"}}, "output_file"),
        (env, "env-folder-path", {"output_file": ".", "variables": {"A": "1"}}, "output_file"),
        (env, "env-name-digit", {"output_file": "out/.env", "variables": {"1A": "1"}}, "variables"),
        (env, "env-name-dash", {"output_file": "out/.env", "variables": {"A-B": "1"}}, "variables"),
        (env, "env-name-unicode", {"output_file": "out/.env", "variables": {"ÄPFEL": "1"}}, "variables"),
        (env, "env-name-shell", {"output_file": "out/.env", "variables": {SHELL[0]: "1"}}, "variables"),
        (env, "env-name-empty", {"output_file": "out/.env", "variables": {"": "1"}}, "variables"),
        (env, "env-nested-value", {"output_file": "out/.env", "variables": {"A": {"b": 1}}}, "variables"),
    ]
    npm = build_and_sync_app
    base = {"bucket_name": "site-bucket", "app_path": "app"}
    table += [
        (npm, "npm-missing-bucket", {"app_path": "app"}, "bucket_name"),
        (npm, "npm-empty-bucket", {**base, "bucket_name": ""}, "bucket_name"),
        (npm, "npm-bad-bucket", {**base, "bucket_name": "Bad_Bucket"}, "bucket_name"),
        (npm, "npm-huge-bucket", {**base, "bucket_name": HUGE}, "bucket_name"),
        (npm, "npm-bucket-shell", {**base, "bucket_name": SHELL[2]}, "bucket_name"),
        (npm, "npm-prefix-traversal", {**base, "prefix": "../other-site"}, "prefix"),
        (npm, "npm-prefix-inner-traversal", {**base, "prefix": "site/../../x"}, "prefix"),
        (npm, "npm-environment-traversal", {**base, "environment": "../../etc"}, "environment"),
        (npm, "npm-environment-shell", {**base, "environment": SHELL[0]}, "environment"),
        (npm, "npm-environment-empty", {**base, "environment": ""}, "environment"),
        (npm, "npm-max-delete-negative", {**base, "max_delete": -1}, "max_delete"),
        (npm, "npm-workers-zero", {**base, "workers": 0}, "workers"),
        (npm, "npm-workers-huge", {**base, "workers": 10**9}, "workers"),
        (npm, "npm-timeout-string", {**base, "build_timeout": "soon"}, "build_timeout"),
        (npm, "npm-extra-arg", {**base, "bucket": "x"}, "bucket"),
        (npm, "npm-bad-cache-rule", {**base, "cache_rules": [{"pattern": "*.html"}]}, "cache_rules"),
    ]
    cf = invalidation_hook
    table += [
        (cf, "cf-missing-id", {"paths": ["/a"]}, "distribution_id"),
        (cf, "cf-empty-id", {"distribution_id": ""}, "distribution_id"),
        (cf, "cf-shell-id", {"distribution_id": SHELL[0]}, "distribution_id"),
        (cf, "cf-unicode-id", {"distribution_id": "E1ÄÖ"}, "distribution_id"),
        (cf, "cf-no-paths", {"distribution_id": "E1234567890ABC", "paths": []}, "paths"),
        (cf, "cf-empty-path", {"distribution_id": "E1234567890ABC", "paths": [""]}, "paths"),
        (cf, "cf-inner-wildcard", {"distribution_id": "E1234567890ABC", "paths": ["/a*/b"]}, "paths"),
        (cf, "cf-timeout-zero", {"distribution_id": "E1234567890ABC", "timeout": 0}, "timeout"),
        (cf, "cf-max-paths-huge", {"distribution_id": "E1234567890ABC", "max_paths": 10**6}, "max_paths"),
        (cf, "cf-paths-not-list", {"distribution_id": "E1234567890ABC", "paths": {"a": 1}}, "paths"),
        (cf, "cf-extra-arg", {"distribution_id": "E1234567890ABC", "path": "/a"}, "path"),
    ]
    dk = docker_hook
    table += [
        (dk, "docker-missing-repo", {}, "repository_name"),
        (dk, "docker-empty-repo", {"repository_name": ""}, "repository_name"),
        (dk, "docker-upper-repo", {"repository_name": "MyApp"}, "repository_name"),
        (dk, "docker-repo-traversal", {"repository_name": "../../etc"}, "repository_name"),
        (dk, "docker-shell-repo", {"repository_name": SHELL[2]}, "repository_name"),
        (dk, "docker-shell-tag", {"repository_name": "app", "image_tag": SHELL[0]}, "image_tag"),
        (dk, "docker-huge-tag", {"repository_name": "app", "image_tag": HUGE}, "image_tag"),
        (dk, "docker-shell-extra-tag", {"repository_name": "app", "tags": [SHELL[1]]}, "tags"),
        (dk, "docker-shell-platform", {"repository_name": "app", "platform": f"linux/amd64;touch {MARKER}"}, "platform"),
        (dk, "docker-shell-environment", {"repository_name": "app", "environment": SHELL[4]}, "environment"),
        (dk, "docker-bad-build-arg-name", {"repository_name": "app", "build_args": {"1BAD": "x"}}, "build_args"),
        (dk, "docker-shell-build-arg-name", {"repository_name": "app", "build_args": {SHELL[0]: "x"}}, "build_args"),
        (dk, "docker-shell-registry", {"repository_name": "app", "registry": SHELL[3]}, "registry"),
        (dk, "docker-bad-builder", {"repository_name": "app", "builder": "podman"}, "builder"),
        (dk, "docker-timeout-negative", {"repository_name": "app", "timeout": -5}, "timeout"),
    ]
    sam = sam_hook
    table += [
        (sam, "sam-missing-stack", {"template_file": "template.yaml"}, "stack_name"),
        (sam, "sam-empty-stack", {"template_file": "template.yaml", "stack_name": ""}, "stack_name"),
        (sam, "sam-shell-stack", {"template_file": "template.yaml", "stack_name": SHELL[0]}, "stack_name"),
        (sam, "sam-unicode-stack", {"template_file": "template.yaml", "stack_name": "stäck"}, "stack_name"),
        (sam, "sam-huge-stack", {"template_file": "template.yaml", "stack_name": "a" * 300}, "stack_name"),
        (sam, "sam-bad-region", {"template_file": "template.yaml", "stack_name": "s", "region": SHELL[2]}, "region"),
        (sam, "sam-timeout-zero", {"template_file": "template.yaml", "stack_name": "s", "timeout": 0}, "timeout"),
        (
            sam,
            "sam-bad-parameter-name",
            {"template_file": "template.yaml", "stack_name": "s", "parameters": {"Bad-Key": "x"}},
            "parameters",
        ),
        (sam, "sam-extra-arg", {"template_file": "template.yaml", "stack_name": "s", "stack": "x"}, "stack"),
        (sam, "sam-missing-template-file", {"template_file": "../../nowhere/template.yaml", "stack_name": "s"}, "template_file"),
        (sam_delete_hook, "sam-delete-shell-stack", {"stack_name": SHELL[1]}, "stack_name"),
    ]
    up, down = start_containers_hook, stop_containers_hook
    table += [
        (up, "compose-shell-project", {"project_name": SHELL[0]}, "project_name"),
        (up, "compose-upper-project", {"project_name": "MyProject"}, "project_name"),
        (up, "compose-shell-service", {"services": [SHELL[2]]}, "services"),
        (up, "compose-option-service", {"services": ["--privileged"]}, "services"),
        (up, "compose-unicode-service", {"services": "wéb"}, "services"),
        (up, "compose-bad-pull", {"pull": f"never; touch {MARKER}"}, "pull"),
        (up, "compose-timeout-zero", {"wait_timeout": 0}, "wait_timeout"),
        (up, "compose-extra-arg", {"project": "x"}, "project"),
        (up, "compose-missing-file", {"compose_file": "../../nowhere/compose.yml"}, "compose_file"),
        (down, "compose-stop-shell-project", {"project_name": SHELL[1]}, "project_name"),
        (down, "compose-stop-negative-timeout", {"timeout": -1}, "timeout"),
    ]
    return table


CASES = cases()


@pytest.fixture
def workdir(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    """An empty working folder (the marker would land here) and an empty bucket."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    boto3.client("s3").create_bucket(Bucket="site-bucket")
    return folder


def snapshot(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize(
    ("target", "args", "field"), [c if hasattr(c, "marks") else pytest.param(c[0], c[2], c[3], id=c[1]) for c in CASES]
)
def test_cfngin_face_refuses_in_one_clear_line(target: Any, args: dict[str, Any], field: str, workdir: Path, lines: LoggedLines) -> None:
    before = snapshot(workdir)
    result = target(make_cfngin_context(workdir), None, **args)
    assert result is False
    errors = [record for record in lines.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    message = errors[0].getMessage()
    assert message.startswith(f"{target.name}: {field}"), message
    assert "\n" not in message and "Traceback" not in message and len(message) < 600
    assert all(record.exc_info is None for record in lines.records)
    assert snapshot(workdir) == before  # nothing written, no marker
    assert not (workdir / MARKER).exists()
    assert boto3.client("s3").list_objects_v2(Bucket="site-bucket").get("KeyCount", 0) == 0


CLI_CASES = [
    ("env_file_generator", ["--output-file", "out/.env", "--variables", "1A=x"], "variables"),
    ("env_file_generator", ["--output-file", "out/.env", "--variables", f"A-B={SHELL[0]}"], "variables"),
    ("env_file_generator", ["--output-file", "out/.env", "--json-variables", "{not json"], "variables"),
    ("env_file_generator", ["--output-file", "", "--variables", "A=1"], "output_file"),
    ("npm_build", ["--bucket-name", SHELL[2]], "bucket_name"),
    ("npm_build", ["--bucket-name", "site-bucket", "--prefix", "../x"], "prefix"),
    ("npm_build", ["--bucket-name", "site-bucket", "--environment", SHELL[0]], "environment"),
    ("npm_build", ["--bucket-name", "site-bucket", "--max-delete", "-1"], "max_delete"),
    ("cloudfront_invalidation", [SHELL[0]], "distribution_id"),
    ("cloudfront_invalidation", ["E1234567890ABC", "--paths", "/a*/b"], "paths"),
    ("cloudfront_invalidation", ["E1234567890ABC", "--timeout", "soon"], "timeout"),
    ("docker_build_push", ["app", "--image-tag", SHELL[0]], "image_tag"),
    ("docker_build_push", ["MyApp"], "repository_name"),
    ("docker_build_push", ["app", "--build-args", f"{SHELL[0]}=x"], "build_args"),
    ("sam_deploy", ["deploy", "--template-file", "template.yaml", "--stack-name", SHELL[0]], "stack_name"),
    ("sam_deploy", ["deploy", "--template-file", "template.yaml", "--stack-name", "s", "--region", "ünïcode"], "region"),
    ("sam_deploy", ["delete", "--stack-name", SHELL[1]], "stack_name"),
    ("docker_compose_integration", ["start", "--project-name", SHELL[0]], "project_name"),
    ("docker_compose_integration", ["stop", "--services", f"a;touch {MARKER}"], "services"),
]


@pytest.mark.parametrize(("module", "argv", "field"), CLI_CASES, ids=[f"{m}-{f}-{i}" for i, (m, _, f) in enumerate(CLI_CASES)])
def test_cli_face_refuses_in_one_clear_line(module: str, argv: list[str], field: str, workdir: Path, aws) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(workdir)
    done = subprocess.run(
        [sys.executable, "-m", f"runway_ext.hooks.{module}", *argv],
        cwd=workdir,
        env=aws.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    # bad values the model refuses are named as typed (--stack-name, or REPOSITORY_NAME for a positional);
    # what the hook finds wrong later names its argument
    named = (field, "--" + field.replace("_", "-"), field.upper())
    assert len(lines) == 1 and any(name in lines[0] for name in named), done.stderr
    assert snapshot(workdir) == before
    assert not (workdir / MARKER).exists()


# -- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("API_URL::file=missing.env", r"^dotenv: file .*missing\.env not found$"),
        ("API_URL::file=../../../../etc/nothing-here.env", r"^dotenv: file .*nothing-here\.env not found$"),
        ("NOT_THERE::file=app.env", r"^dotenv: key 'NOT_THERE' not found in .*app\.env$"),
        (f"{SHELL[0]}::file=app.env", r"^dotenv: key .* not found in .*app\.env$"),
        ("ÄPFEL::file=app.env", r"^dotenv: key 'ÄPFEL' not found in .*app\.env$"),
        ("API_URL::fiel=app.env", r"^dotenv: fiel: unknown argument$"),
    ],
)
def test_dotenv_lookup_bad_queries_name_the_file_and_key(query: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("API_URL=https://example.test\n")
    context = make_cfngin_context(tmp_path)
    with pytest.raises(ValueError, match=message):
        DotenvLookup.handle(query, context)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("::tag=v1", r"^ecr_image: a repository name is required"),
        ("app::tag=v1, form=shell", r"^ecr_image: form: Input should be"),
        ("app::tgs=v1", r"^ecr_image: tgs: unknown argument$"),
        (f"app::tag={SHELL[0]}", r"^ecr_image: .*tag"),
        ("MyApp::tag=v1", r"^ecr_image: .*MyApp"),
        ("app::tag=nope", r"^ecr_image: no image app:nope in us-east-1"),
        ("absent::tag=v1", r"^ecr_image: .*absent.*v1"),
    ],
)
def test_ecr_image_lookup_bad_queries_name_the_repository_and_tag(query: str, message: str, aws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    boto3.client("ecr").create_repository(repositoryName="app")
    with pytest.raises(ValueError, match=message):
        EcrImageLookup.handle(query, make_cfngin_context(tmp_path))
