"""The Docker build + push hook, both faces, against a real dockerd, a real registry and the ECR API of a moto server.

The engine (``docker_env``) pushes to its local registry through the hook's ``registry`` override, as
local mode does; the ECR API (moto) is the source of truth for "already built?" and for ``${ecr_image}``.
Every ``docker`` the hook starts goes through a logging shim on ``PATH`` (a real exec of the real
client), so the tests can see exactly which commands ran — and with which argv.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from runway_ext.hooks.docker_build_push import cfngin_hook
from runway_ext.local.moto_server import MotoServer
from runway_ext.testing.cfngin import make_cfngin_context
from runway_ext.testing.runway_cli import run_runway
from tests.support.docker_engine import DockerEngine

pytestmark = pytest.mark.docker

HOOK_PATH = "runway_ext.hooks.docker_build_push.cfngin_hook"
ACCOUNT_HOST = "123456789012.dkr.ecr.{region}.amazonaws.com"


@dataclass
class DockerCalls:
    """The argv of every ``docker`` command run since the fixture started (from the shim's log)."""

    log: Path
    engine: DockerEngine

    def all(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [line.split("\t")[:-1] for line in self.log.read_text().splitlines()]

    def builds(self) -> list[list[str]]:
        return [argv for argv in self.all() if argv[:1] == ["build"] or argv[:2] == ["buildx", "build"]]

    def pushes(self) -> list[list[str]]:
        return [argv for argv in self.all() if argv[:1] == ["push"]]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def docker_calls(docker_env: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DockerCalls:
    """Put a ``docker`` first on PATH that appends its argv (tab-separated) to a log, then execs the real client."""
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "docker-calls.log"
    shim = shim_dir / "docker"
    lines = [
        "#!/bin/sh",
        f'for arg in "$@"; do printf "%s\\t" "$arg"; done >> "{log}"',
        f'printf "\\n" >> "{log}"',
        f'exec "{docker_env.docker}" "$@"',
    ]
    shim.write_text("\n".join(lines) + "\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(shim_dir), prepend=os.pathsep)
    return DockerCalls(log, docker_env)


def registry_json(engine: DockerEngine, path: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{engine.registry}{path}", timeout=10) as response:
        return json.load(response)


def registry_digest(engine: DockerEngine, repository: str, tag: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"http://{engine.registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"},
    )
    with opener.open(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def ecr_digest(repository: str, tag: str, region: str = "us-east-1") -> str:
    details = boto3.client("ecr", region_name=region).describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return details["imageDetails"][0]["imageDigest"]


def make_app(root: Path, base_image: str) -> Path:
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "Dockerfile").write_text(f"FROM {base_image}\nCOPY . /app\nRUN echo built > /built\n")
    (root / "index.html").write_text("<h1>v1</h1>\n")
    (root / "notes.md").write_text("not part of the image\n")
    (root / ".dockerignore").write_text("*.md\n")
    return root


def unique_repository() -> str:
    return f"rwx-app-{uuid.uuid4().hex[:8]}"


def run_hook(engine: DockerEngine, app: Path, repository: str, **args: object) -> dict:
    result = cfngin_hook(
        None,
        None,
        repository_name=repository,
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=engine.registry,
        **args,
    )
    assert result, "hook failed (see the log above)"
    return result


def image_identity(engine: DockerEngine, ref: str) -> str:
    return engine.run_docker("image", "inspect", "--format", "{{.Id}} {{.Created}}", ref).stdout.strip()


# -- build, skip, rebuild ------------------------------------------------------------------------
def test_first_run_builds_pushes_and_records_the_same_digest_in_ecr(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    engine_repo = unique_repository()
    app = make_app(tmp_path / "app", engine.base_image)
    result = run_hook(engine, app, engine_repo, image_tag="v1", tags=["stable"], environment="prod")

    assert (result["built"], result["pushed"], result["skipped"]) == (True, True, False)
    assert result["tags"] == ["v1", "stable", result["content_tag"]]
    assert engine_repo in registry_json(engine, "/v2/_catalog")["repositories"]
    assert sorted(registry_json(engine, f"/v2/{engine_repo}/tags/list")["tags"]) == sorted(result["tags"])
    pushed = registry_digest(engine, engine_repo, "v1")
    assert result["digest"] == pushed
    for tag in result["tags"]:
        assert ecr_digest(engine_repo, tag) == pushed
    assert result["digest_uri"] == f"{engine.registry}/{engine_repo}@{pushed}"
    assert result["ecr_digest_uri"] == f"{ACCOUNT_HOST.format(region='us-east-1')}/{engine_repo}@{pushed}"
    assert result["image_uri"] == f"{engine.registry}/{engine_repo}:v1"

    ecr = boto3.client("ecr", region_name="us-east-1")
    repository = ecr.describe_repositories(repositoryNames=[engine_repo])["repositories"][0]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert {"Key": "Environment", "Value": "prod"} in ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    assert result["repository_created"] is True

    [build] = docker_calls.builds()
    assert "--pull=false" in build and build[build.index("--platform") + 1] == "linux/amd64"
    # only the content tag is pushed; the requested tags are moved onto it once it is confirmed (no layers move)
    assert docker_calls.pushes() == [["push", f"{engine.registry}/{engine_repo}:{result['content_tag']}"]]
    assert engine.run_docker("run", "--rm", f"{engine.registry}/{engine_repo}:v1", "cat", "/built").stdout == "built\n"


def test_unchanged_rerun_skips_build_and_push_and_only_adds_tags(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", engine.base_image)
    first = run_hook(engine, app, repository, image_tag="v1")
    identity = image_identity(engine, f"{engine.registry}/{repository}:v1")
    docker_calls.clear()

    second = run_hook(engine, app, repository, image_tag="v2", tags=["stable"])

    assert (second["skipped"], second["built"], second["pushed"]) == (True, False, False)
    assert docker_calls.builds() == [] and docker_calls.pushes() == []
    assert second["content_tag"] == first["content_tag"] and second["digest"] == first["digest"]
    assert second["retagged"] == ["v2", "stable"]
    # the local image was not rebuilt (same id, same creation time) ...
    assert image_identity(engine, f"{engine.registry}/{repository}:{first['content_tag']}") == identity
    # ... yet the new tags exist in ECR and in the registry, on the very same manifest (PutImage / manifest PUT)
    for tag in ("v2", "stable"):
        assert ecr_digest(repository, tag) == first["digest"]
        assert registry_digest(engine, repository, tag) == first["digest"]

    third = run_hook(engine, app, repository, image_tag="v2", tags=["stable"])
    assert third["skipped"] and third["retagged"] == []
    assert docker_calls.builds() == []


def test_changed_file_rebuilds_but_an_ignored_one_does_not(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", engine.base_image)
    first = run_hook(engine, app, repository, image_tag="latest")

    (app / "notes.md").write_text("edited, but .dockerignore leaves *.md out\n")
    assert run_hook(engine, app, repository)["skipped"] is True
    assert len(docker_calls.builds()) == 1

    (app / "index.html").write_text("<h1>v2</h1>\n")
    changed = run_hook(engine, app, repository)
    assert (changed["built"], changed["skipped"]) == (True, False)
    assert len(docker_calls.builds()) == 2
    assert changed["content_tag"] != first["content_tag"] and changed["digest"] != first["digest"]
    assert ecr_digest(repository, "latest") == changed["digest"] == registry_digest(engine, repository, "latest")
    assert ecr_digest(repository, first["content_tag"]) == first["digest"]  # the old build stays addressable
    assert engine.run_docker("run", "--rm", changed["image_uri"], "cat", "/app/index.html").stdout == "<h1>v2</h1>\n"


def test_push_false_builds_only(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    result = run_hook(engine, make_app(tmp_path / "app", engine.base_image), repository, push=False)
    assert (result["built"], result["pushed"], result["digest"]) == (True, False, None)
    assert result["image_id"].startswith("sha256:")
    assert docker_calls.pushes() == []
    assert boto3.client("ecr").describe_images(repositoryName=repository)["imageDetails"] == []


# -- faces -------------------------------------------------------------------------------------
def test_cli_as_the_seed_documents_it(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    make_app(tmp_path / "application", engine.base_image)
    infra = tmp_path / "infra"
    infra.mkdir()
    env = {**os.environ, "RUNWAY_EXT_REGISTRY": engine.registry}
    command = [
        sys.executable,
        "-m",
        "runway_ext.hooks.docker_build_push",
        repository,
        "--image-tag",
        "v1.0.0",
        "--dockerfile-path",
        "docker/Dockerfile",
        "--build-context",
        ".",
        "--region",
        "us-west-2",
        "--environment",
        "prod",
        "--working-directory",
        "../application",
        "--json",
    ]
    done = subprocess.run(command, cwd=infra, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["image_uri"] == f"{engine.registry}/{repository}:v1.0.0"
    assert result["repository_uri"] == f"{ACCOUNT_HOST.format(region='us-west-2')}/{repository}"
    assert ecr_digest(repository, "v1.0.0", region="us-west-2") == result["digest"] == registry_digest(engine, repository, "v1.0.0")

    again = subprocess.run([*command[:-1]], cwd=infra, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "skipped (already in ECR)" in again.stdout
    assert len(docker_calls.builds()) == 1


def test_region_defaults_to_the_deploy_region_inside_runway(docker_env: DockerEngine, aws: MotoServer, tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", docker_env.base_image)
    repository = unique_repository()
    # the process says us-east-1 (the aws fixture); the deploy says eu-west-1
    context = make_cfngin_context(tmp_path, environ={**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    result = cfngin_hook(
        context,
        None,
        repository_name=repository,
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=docker_env.registry,
        push=False,
    )
    assert result, "hook failed (see the log above)"
    assert result["region"] == "eu-west-1"
    assert result["repository_uri"] == f"{ACCOUNT_HOST.format(region='eu-west-1')}/{repository}"
    assert boto3.client("ecr", region_name="eu-west-1").describe_repositories(repositoryNames=[repository])["repositories"]
    assert context.hook_data["runway_ext"]["docker_build_push"] == result


def test_region_defaults_to_the_environment_from_the_cli(docker_env: DockerEngine, aws: MotoServer, tmp_path: Path) -> None:
    make_app(tmp_path / "app", docker_env.base_image)
    repository = unique_repository()
    env = {name: value for name, value in os.environ.items() if name != "AWS_REGION"}
    env.update(AWS_DEFAULT_REGION="eu-west-2", RUNWAY_EXT_REGISTRY=docker_env.registry)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runway_ext.hooks.docker_build_push",
            repository,
            "--dockerfile-path",
            "docker/Dockerfile",
            "--no-push",
            "--json",
        ],
        cwd=tmp_path / "app",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["region"] == "eu-west-2"
    assert result["repository_uri"] == f"{ACCOUNT_HOST.format(region='eu-west-2')}/{repository}"


def cli_error(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "runway_ext.hooks.docker_build_push", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    return done.returncode, done.stderr.strip().splitlines()


def test_errors_are_one_line_before_any_work(docker_env: DockerEngine, aws: MotoServer, tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", docker_env.base_image)
    env = {**os.environ, "RUNWAY_EXT_REGISTRY": docker_env.registry}

    code, lines = cli_error(["rwx-missing", "--dockerfile-path", "nope/Dockerfile"], app, env)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("error: dockerfile_path: file ") and lines[0].endswith("nope/Dockerfile not found")

    code, lines = cli_error(["rwx-bad-tag", "--dockerfile-path", "docker/Dockerfile", "--image-tag", "v1:oops"], app, env)
    assert code == 1 and len(lines) == 1 and "--image-tag: invalid image tag 'v1:oops'" in lines[0]

    socket_path = tmp_path / "no-such-engine.sock"
    code, lines = cli_error(
        ["rwx-no-daemon", "--dockerfile-path", "docker/Dockerfile"], app, {**env, "DOCKER_HOST": f"unix://{socket_path}"}
    )
    assert code == 1 and len(lines) == 1
    assert f"docker daemon unreachable at unix://{socket_path}" in lines[0] and "set DOCKER_HOST" in lines[0]

    # none of them got as far as ECR
    assert boto3.client("ecr").describe_repositories()["repositories"] == []


def test_ecr_access_denied_is_one_line(
    docker_env: DockerEngine, aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path / "app", docker_env.base_image)
    iam = boto3.client("iam")
    iam.create_user(UserName="no-permissions")
    key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def enforce_iam(count: str) -> str:
        request = urllib.request.Request(
            f"{aws.endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
        )
        with opener.open(request, timeout=10) as response:
            return json.load(response)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]

    previous = enforce_iam("0")  # from now on moto checks every request against IAM
    try:
        caplog.set_level(logging.INFO, logger="runway_ext")
        result = cfngin_hook(
            None,
            None,
            repository_name="rwx-denied",
            dockerfile_path="docker/Dockerfile",
            working_directory=str(app),
            registry=docker_env.registry,
        )
    finally:
        enforce_iam(previous)
    assert result is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [errors[0]] and errors[0].startswith(
        "docker_build_push: ECR access denied while describing the repository (rwx-denied in us-east-1): AccessDenied"
    )
    assert "is not authorized to perform: ecr:DescribeRepositories" in errors[0]


def test_push_failure_carries_the_registry_message(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = docker_calls.engine
    app = make_app(tmp_path / "app", engine.base_image)
    closed_port = "127.0.0.1:9"  # nothing listens there (it is the proxy guard's port too)
    caplog.set_level(logging.INFO, logger="runway_ext")
    result = cfngin_hook(
        None,
        None,
        repository_name=unique_repository(),
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=closed_port,
        timeout=120,
    )
    assert result is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors[0].startswith(f"docker_build_push: docker push {closed_port}/")
    assert "failed (exit code 1)" in errors[0]
    assert any("connection refused" in line for line in errors[1:])


def test_registry_password_only_through_stdin(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = docker_calls.engine
    secret = f"pw-{uuid.uuid4().hex}"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # keep the stored login out of the shared config
    monkeypatch.setenv("RUNWAY_EXT_REGISTRY_USERNAME", "deployer")
    monkeypatch.setenv("RUNWAY_EXT_REGISTRY_PASSWORD", secret)
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    result = run_hook(engine, make_app(tmp_path / "app", engine.base_image), unique_repository(), verbose=True)
    assert result["pushed"]
    logins = [argv for argv in docker_calls.all() if argv[:1] == ["login"]]
    # the shim logged the exact argv of every docker process the hook started
    assert logins == [["login", "--username", "deployer", "--password-stdin", engine.registry]]
    assert all(secret not in arg for argv in docker_calls.all() for arg in argv)
    assert secret not in caplog.text
    # docker did receive it (through stdin): the login was stored for the registry
    stored = json.loads((tmp_path / "docker-config" / "config.json").read_text())["auths"][engine.registry]["auth"]
    assert base64.b64decode(stored).decode() == f"deployer:{secret}"


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_secret_build_args_reach_the_build_through_the_environment(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, builder: str
) -> None:
    engine = docker_calls.engine
    app = make_app(tmp_path / "app", engine.base_image)
    (app / "docker" / "Dockerfile").write_text(
        f"FROM {engine.base_image}\nARG NPM_TOKEN\nARG APP_VERSION\n"
        'RUN echo "$APP_VERSION" > /version && printf %s "$NPM_TOKEN" | sha256sum | cut -c1-64 > /token.sha\n'
    )
    token = f"tok-{uuid.uuid4().hex}"
    mirror_password = f"pw-{uuid.uuid4().hex}"
    build_args = {"NPM_TOKEN": token, "APP_VERSION": 3, "MIRROR": f"https://bot:{mirror_password}@mirror.invalid/simple"}
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    # secret-looking build args are refused unless allowed (then a warning: the value is readable in the image history)
    result = run_hook(engine, app, unique_repository(), build_args=build_args, builder=builder, verbose=True, allow_secret_build_args=True)
    assert "readable in the image history" in caplog.text
    [build] = docker_calls.builds()
    assert build[:2] == (["buildx", "build"] if builder == "buildx" else ["build", "--pull=false"])
    assert "NPM_TOKEN" in build and "APP_VERSION=3" in build and "MIRROR" in build  # a URL with a password: by name only too
    for secret in (token, mirror_password):
        assert all(secret not in arg for argv in docker_calls.all() for arg in argv)
        assert secret not in caplog.text
    inside = engine.run_docker("run", "--rm", result["image_uri"], "cat", "/version", "/token.sha").stdout.split()
    assert inside == ["3", hashlib.sha256(token.encode()).hexdigest()]


# -- inside Runway -----------------------------------------------------------------------------
@pytest.mark.runway
def test_runway_deploy_builds_once_and_pins_the_stack_to_the_digest(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    make_app(tmp_path / "service", engine.base_image)
    module = tmp_path / "app.cfn"
    (module / "templates").mkdir(parents=True)
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "templates" / "image.json").write_text(
        json.dumps(
            {
                "Parameters": {"ImageUri": {"Type": "String"}, "HookDigestUri": {"Type": "String"}},
                "Resources": {
                    "Pin": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Name": f"/{repository}/image", "Type": "String", "Value": {"Ref": "ImageUri"}},
                    }
                },
                "Outputs": {"ImageUri": {"Value": {"Ref": "ImageUri"}}, "HookDigestUri": {"Value": {"Ref": "HookDigestUri"}}},
            }
        )
    )
    (module / "config.yml").write_text(
        "namespace: ${namespace}\n"
        "cfngin_bucket: ''\n"
        "lookups:\n"
        "  ecr_image: runway_ext.lookups.EcrImageLookup\n"
        "pre_deploy:\n"
        f"  - path: {HOOK_PATH}\n"
        "    args:\n"
        f"      repository_name: {repository}\n"
        "      image_tag: v1\n"
        "      dockerfile_path: docker/Dockerfile\n"
        "      working_directory: ../service\n"
        "stacks:\n"
        "  - name: image\n"
        "    template_path: templates/image.json\n"
        "    variables:\n"
        f"      ImageUri: ${{ecr_image {repository}::tag=v1}}\n"
        "      HookDigestUri: ${hook_data runway_ext.docker_build_push.ecr_digest_uri}\n"
    )
    environment = {**aws.environment(), "RUNWAY_EXT_REGISTRY": engine.registry}
    first = run_runway(tmp_path, ["deploy", "--ci"], environment=environment)
    assert first.ok, first.output
    digest = registry_digest(engine, repository, "v1")
    outputs = {
        item["OutputKey"]: item["OutputValue"]
        for item in boto3.client("cloudformation").describe_stacks(StackName="demo-image")["Stacks"][0]["Outputs"]
    }
    expected = f"{ACCOUNT_HOST.format(region='us-east-1')}/{repository}@{digest}"
    assert outputs == {"ImageUri": expected, "HookDigestUri": expected}
    assert boto3.client("ssm").get_parameter(Name=f"/{repository}/image")["Parameter"]["Value"] == expected
    assert len(docker_calls.builds()) == 1

    second = run_runway(tmp_path, ["deploy", "--ci"], environment=environment)
    assert second.ok, second.output
    assert "skipped build and push" in second.output
    assert len(docker_calls.builds()) == 1
    assert "Traceback" not in first.output + second.output
