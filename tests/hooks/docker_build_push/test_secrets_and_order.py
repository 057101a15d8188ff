"""Build secrets never reach the image, and a failed publish never moves a requested tag — real engine, registry, moto.

The image test builds with three secrets (a literal value, ``{env: …}``, ``{file: …}``) read by a
``RUN --mount=type=secret``, removes the local image, pulls it back from the registry and greps
``docker history --no-trunc``, ``docker inspect`` and every file of ``docker save`` (each layer tar
opened and every member read) for each value; every docker argv (the shim) and every log line too.

The order tests inject an ECR ``PutImage`` error at the botocore level (a real client talking to moto;
see ``tests/reliability/faults.py``) at the first and at the second ``PutImage`` of a publish, on the
push path and on the re-tag path, and assert that no requested tag moved, neither in ECR nor in the
registry; the rerun without the fault finishes the job.
"""

from __future__ import annotations

import io
import logging
import tarfile
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.hooks.docker_build_push import cfngin_hook
from runway_ext.local.moto_server import MotoServer
from runway_ext.testing.cfngin import make_cfngin_context
from tests.hooks.docker_build_push.test_hook import DockerCalls, docker_calls, make_app, registry_digest, registry_json, unique_repository
from tests.reliability.faults import Fault, session_with, use_session

__all__ = ["docker_calls"]  # the fixture, re-used from the hook suite
pytestmark = pytest.mark.docker


def publish(engine, app: Path, repository: str, context: object = None, **args: object) -> Any:  # type: ignore[no-untyped-def]
    """The hook's CFNgin face on the test app, pushing to the engine's registry: its raw result (a dict or False)."""
    return cfngin_hook(
        context,
        None,
        repository_name=repository,
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=engine.registry,
        **args,
    )


def every_file_of_the_saved_image(engine, ref: str, tmp_path: Path) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Every file of ``docker save REF``, and every member of every tar inside it (the layers), by name."""
    archive = tmp_path / "image.tar"
    engine.run_docker("save", "--output", str(archive), ref)
    files: dict[str, bytes] = {}
    pending = [("", archive.read_bytes())]
    while pending:
        prefix, data = pending.pop()
        with tarfile.open(fileobj=io.BytesIO(data)) as outer:
            for member in outer.getmembers():
                if not member.isfile():
                    continue
                extracted = outer.extractfile(member)
                assert extracted is not None
                content = extracted.read()
                files[prefix + member.name] = content
                if content[257:262] == b"ustar" or member.name.endswith(".tar"):
                    pending.append((prefix + member.name + "!", content))
    return files


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_build_secrets_are_in_no_image_history_config_layer_argv_or_log(
    docker_calls: DockerCalls,
    aws: MotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    builder: str,
) -> None:
    engine = docker_calls.engine
    app = make_app(tmp_path / "app", engine.base_image)
    literal, from_env, from_file = (f"{kind}-{uuid.uuid4().hex}" for kind in ("literal", "env", "file"))
    (app / "docker" / "Dockerfile").write_text(
        f"FROM {engine.base_image}\n"
        "RUN --mount=type=secret,id=api_token --mount=type=secret,id=gh --mount=type=secret,id=npmrc "
        "cat /run/secrets/api_token /run/secrets/gh /run/secrets/npmrc | sha256sum | cut -c1-64 > /secrets.sha"
        f" # {uuid.uuid4().hex}\n"  # BuildKit's cache ignores secret values: a unique step per run"
    )
    (app / "npmrc").write_text(from_file)  # in the context too: the test also proves .dockerignore-free files are hashed, not baked
    (app / ".dockerignore").write_text("*.md\nnpmrc\n")
    monkeypatch.setenv("GH_TOKEN", from_env)
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    repository = unique_repository()
    secrets = {"api_token": literal, "gh": {"env": "GH_TOKEN"}, "npmrc": {"file": "npmrc"}}
    result = publish(
        engine,
        app,
        repository,
        builder=builder,
        secrets=secrets,
        verbose=True,
    )
    assert result, caplog.text[-2000:]
    values = (literal, from_env, from_file)
    # the secrets did reach the RUN step
    import hashlib

    ref = result["image_uri"]
    engine.run_docker("image", "rm", "--force", *[f"{engine.registry}/{repository}:{tag}" for tag in result["tags"]])
    engine.run_docker("pull", ref)
    inside = engine.run_docker("run", "--rm", ref, "cat", "/secrets.sha").stdout.strip()
    assert inside == hashlib.sha256("".join(values).encode()).hexdigest()
    history = engine.run_docker("history", "--no-trunc", ref).stdout
    inspect = engine.run_docker("image", "inspect", ref).stdout
    assert "--mount=type=secret" in history or "secrets.sha" in history  # the history is really there, and is what we grep
    saved = every_file_of_the_saved_image(engine, ref, tmp_path)
    assert any(name.endswith("secrets.sha") for name in saved)  # the layers were opened down to their files
    for value in values:
        assert value not in history and value not in inspect
        assert not [name for name, content in saved.items() if value.encode() in content]
        assert all(value not in arg for argv in docker_calls.all() for arg in argv)
        assert value not in caplog.text
        assert value not in repr(result)
    assert [argv[argv.index("--secret") + 1] for argv in docker_calls.builds()][0].startswith("id=")

    # rotating a secret does not rebuild (secrets_affect_hash is off) ...
    monkeypatch.setenv("GH_TOKEN", from_env + "-rotated")
    again = publish(
        engine,
        app,
        repository,
        builder=builder,
        secrets=secrets,
    )
    assert again and again["skipped"] and again["content_tag"] == result["content_tag"]
    # ... unless asked: then the tag changes, and still says nothing about the value
    asked = publish(
        engine,
        app,
        repository,
        builder=builder,
        secrets=secrets,
        secrets_affect_hash=True,
        push=False,
    )
    assert asked and asked["content_tag"] != result["content_tag"]


def test_a_secret_looking_build_arg_is_refused_before_anything_runs(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = docker_calls.engine
    app = make_app(tmp_path / "app", engine.base_image)
    token = f"tok-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG, logger="runway_ext")
    result = cfngin_hook(
        None,
        None,
        repository_name=unique_repository(),
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=engine.registry,
        build_args={"API_TOKEN": token},
    )
    assert result is False
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("docker_build_push: build_args: API_TOKEN looks secret") and "secrets" in errors[0]
    assert token not in caplog.text
    assert docker_calls.all() == []  # refused before docker ran at all
    assert boto3.client("ecr").describe_repositories()["repositories"] == []


def test_an_allowed_secret_build_arg_warns_that_it_is_readable_in_the_history(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = docker_calls.engine
    app = make_app(tmp_path / "app", engine.base_image)
    caplog.set_level(logging.INFO, logger="runway_ext")
    result = cfngin_hook(
        None,
        None,
        repository_name=unique_repository(),
        dockerfile_path="docker/Dockerfile",
        working_directory=str(app),
        registry=engine.registry,
        build_args={"API_TOKEN": "tok-allowed-1234"},
        allow_secret_build_args=True,
        push=False,
    )
    assert result
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("API_TOKEN" in line and "readable in the image history" in line for line in warnings), warnings
    assert "tok-allowed-1234" not in caplog.text


# -- publish order -------------------------------------------------------------------------------
def tags_everywhere(engine, repository: str) -> tuple[dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """tag -> digest in ECR, and in the registry."""
    ecr = boto3.client("ecr")
    details = ecr.describe_images(repositoryName=repository)["imageDetails"]
    in_ecr = {tag: item["imageDigest"] for item in details for tag in item.get("imageTags", [])}
    listed = registry_json(engine, f"/v2/{repository}/tags/list").get("tags") or []
    return in_ecr, {tag: registry_digest(engine, repository, tag) for tag in listed}


def run_with_put_image_fault(engine, app: Path, repository: str, fault: Fault, tmp_path: Path, **args: object) -> object:  # type: ignore[no-untyped-def]
    context = use_session(make_cfngin_context(tmp_path), session_with("before-send.ecr.PutImage", fault))
    return publish(engine, app, repository, context, **args)


@pytest.mark.parametrize("passing_put_images", [0, 1], ids=["first-PutImage-fails", "second-PutImage-fails"])
def test_a_publish_that_fails_midway_moves_no_requested_tag(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, passing_put_images: int
) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", engine.base_image)
    first = publish(
        engine,
        app,
        repository,
        image_tag="v1",
        tags=["stable"],
    )
    assert first
    before = tags_everywhere(engine, repository)
    assert before[0]["stable"] == before[1]["stable"] == first["digest"]

    # a new build: ECR refuses PutImage (after ``passing_put_images`` succeeded) while it is being published
    (app / "index.html").write_text("<h1>v2</h1>\n")
    fault = Fault(code="InvalidParameterException", protocol="json", status=400, fail_after=passing_put_images)
    failed = run_with_put_image_fault(engine, app, repository, fault, tmp_path, image_tag="v1", tags=["stable"])
    assert failed is False and fault.injected >= 1
    in_ecr, in_registry = tags_everywhere(engine, repository)
    for tag in ("v1", "stable"):  # no requested tag moved, in either place
        assert in_ecr[tag] == first["digest"] and in_registry[tag] == first["digest"]
    assert [argv[-1].rsplit(":", 1)[-1] for argv in docker_calls.pushes()][-1].startswith("content-")  # only the content ref was pushed

    # the rerun finds the content tag in the registry or ECR and finishes the job
    done = publish(
        engine,
        app,
        repository,
        image_tag="v1",
        tags=["stable"],
    )
    assert done and done["digest"] != first["digest"]
    in_ecr, in_registry = tags_everywhere(engine, repository)
    for tag in ("v1", "stable", done["content_tag"]):
        assert in_ecr[tag] == in_registry[tag] == done["digest"]


def test_a_retag_that_fails_in_ecr_leaves_the_registry_tags_alone(docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", engine.base_image)
    old = publish(
        engine,
        app,
        repository,
        image_tag="prod",
    )
    (app / "index.html").write_text("<h1>v2</h1>\n")
    new = publish(
        engine,
        app,
        repository,
        image_tag="candidate",
    )
    assert old and new and old["digest"] != new["digest"]
    docker_calls.clear()

    fault = Fault(code="InvalidParameterException", protocol="json", status=400)
    assert run_with_put_image_fault(engine, app, repository, fault, tmp_path, image_tag="prod") is False  # promote: a re-tag
    assert docker_calls.builds() == []
    in_ecr, in_registry = tags_everywhere(engine, repository)
    assert in_ecr["prod"] == in_registry["prod"] == old["digest"]  # the registry did not move ahead of ECR

    promoted = publish(
        engine,
        app,
        repository,
        image_tag="prod",
    )
    assert promoted and promoted["skipped"] and promoted["retagged"] == ["prod"]
    in_ecr, in_registry = tags_everywhere(engine, repository)
    assert in_ecr["prod"] == in_registry["prod"] == new["digest"]
