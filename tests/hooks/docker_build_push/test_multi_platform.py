"""Two-platform images on the real engine: build, index, run each platform under QEMU, skip, look up, faults.

The engine (``docker_env``) is a plain dockerd whose buildx docker driver cannot export several
platforms at once; arm64 ``RUN`` steps run under QEMU registered with binfmt_misc
(``.ci/multiarch-install.sh``). The base is a real two-platform busybox index in the engine's local
registry (:meth:`~tests.support.docker_engine.DockerEngine.multiarch_base_image`). The ECR API is a
moto server; the registry is the engine's own. Every ``docker`` the hook starts goes through the
logging shim of :mod:`.test_hook`.
"""

# ruff: noqa: F811 - docker_calls is a fixture imported from test_hook
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from runway_ext.core.image_index import attestation_digests, parse_index, platform_digests
from runway_ext.hooks.docker_build_push import cfngin_hook
from runway_ext.local.moto_server import MotoServer
from runway_ext.lookups.ecr_image import EcrImageLookup
from runway_ext.testing.cfngin import make_cfngin_context
from tests.hooks.docker_build_push.test_hook import DockerCalls, docker_calls, unique_repository  # noqa: F401 - the shim fixture
from tests.support.docker_engine import DockerEngine, multiarch_unavailable_reason

pytestmark = pytest.mark.docker

PLATFORMS = ["linux/arm64", "linux/amd64"]  # written out of order: the index is the same either way
INDEX_ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def multiarch_base(docker_env: DockerEngine) -> str:
    reason = multiarch_unavailable_reason()
    if reason:
        if os.environ.get("RUNWAY_EXT_REQUIRE_DOCKER") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_DOCKER=1 but {reason}")
        pytest.skip(reason)
    return docker_env.multiarch_base_image()


def make_app(root: Path, base: str) -> Path:
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(f'FROM {base}\nRUN uname -m > /arch\nCOPY index.html /app/index.html\nCMD ["cat", "/arch"]\n')
    (root / "index.html").write_text("<h1>v1</h1>\n")
    return root


def registry_manifest(engine: DockerEngine, repository: str, reference: str, accept: str = INDEX_ACCEPT) -> tuple[int, bytes, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"http://{engine.registry}/v2/{repository}/manifests/{reference}", headers={"Accept": accept})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, b"", ""


def hook(engine: DockerEngine, app: Path, repository: str, **args: object) -> dict:
    result = cfngin_hook(None, None, repository_name=repository, working_directory=str(app), registry=engine.registry, **args)
    assert result, "hook failed (see the log above)"
    return result


def test_two_platforms_one_index_each_runs_under_its_arch_rerun_skips_and_lookup_pins_each(
    docker_calls: DockerCalls,
    multiarch_base: str,
    aws: MotoServer,
    tmp_path: Path,
) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", multiarch_base)
    result = hook(engine, app, repository, image_tag="v1", platforms=PLATFORMS)

    assert (result["built"], result["pushed"], result["skipped"]) == (True, True, False)
    assert result["platforms"] == ["linux/amd64", "linux/arm64"]
    # the registry holds one index at every tag, listing exactly the two pushed manifests and no attestation
    status, body, media_type = registry_manifest(engine, repository, "v1")
    assert status == 200 and "index" in media_type or "manifest.list" in media_type
    index = parse_index(body)
    assert attestation_digests(index) == [] and len(index.manifests) == 2
    assert platform_digests(index) == result["platform_digests"]
    assert result["index_digest"] == result["digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    for platform, digest in result["platform_digests"].items():
        assert registry_manifest(engine, repository, digest, MANIFEST_ACCEPT)[0] == 200, platform
    # each platform's image runs under its own architecture (arm64 through QEMU)
    machines = {
        platform: engine.run_docker("run", "--rm", "--platform", platform, f"{engine.registry}/{repository}@{digest}").stdout.strip()
        for platform, digest in result["platform_digests"].items()
    }
    assert machines == {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
    # ECR records the index under the tags and each platform's manifest (untagged) by digest
    ecr = boto3.client("ecr", region_name="us-east-1")
    [tagged] = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    assert tagged["imageDigest"] == result["index_digest"]
    for digest in result["platform_digests"].values():
        [child] = ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])["imageDetails"]
        assert not child.get("imageTags")

    # the lookup: per platform the registry's manifest digest; without platform the index
    context = make_cfngin_context(tmp_path / "module")
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    for platform, digest in result["platform_digests"].items():
        resolved = EcrImageLookup.handle(f"{repository}::tag=v1, platform={platform}", context)
        assert resolved == f"{host}/{repository}@{digest}"
    assert EcrImageLookup.handle(f"{repository}::tag=v1", context) == f"{host}/{repository}@{result['index_digest']}"
    with pytest.raises(ValueError, match=r"has no linux/s390x image \(it has linux/amd64, linux/arm64\)$"):
        EcrImageLookup.handle(f"{repository}::tag=v1, platform=linux/s390x", context)

    # nothing changed: nothing built, nothing pushed, no index made again
    docker_calls.clear()
    again = hook(engine, app, repository, image_tag="v1", platforms="linux/amd64,linux/arm64")
    assert again["skipped"] is True and again["digest"] == result["digest"]
    assert again["platform_digests"] == result["platform_digests"]
    assert docker_calls.builds() == [] and docker_calls.pushes() == []
    assert not [argv for argv in docker_calls.all() if argv[:2] == ["buildx", "imagetools"]]


def test_the_platform_set_is_part_of_the_content_hash(
    docker_calls: DockerCalls, multiarch_base: str, aws: MotoServer, tmp_path: Path
) -> None:
    engine = docker_calls.engine
    repository = unique_repository()
    app = make_app(tmp_path / "app", multiarch_base)
    one = hook(engine, app, repository, image_tag="one", platform="linux/amd64")
    both = hook(engine, app, repository, image_tag="both", platforms=PLATFORMS)
    assert one["content_tag"] != both["content_tag"] and both["pushed"] is True
    assert one["index_digest"] is None and list(one["platform_digests"]) == ["linux/amd64"]


def test_a_base_without_the_platform_is_one_line_and_nothing_is_pushed(
    docker_calls: DockerCalls,
    multiarch_base: str,
    aws: MotoServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = docker_calls.engine
    amd64_only = f"{engine.registry}/runway-ext/busybox:amd64-only"  # an index with one platform, as some public bases are
    engine.run_docker("buildx", "imagetools", "create", "--tag", amd64_only, multiarch_base.replace(":multiarch", ":amd64"))
    repository = unique_repository()
    app = make_app(tmp_path / "app", amd64_only)
    docker_calls.clear()
    result = cfngin_hook(None, None, repository_name=repository, working_directory=str(app), registry=engine.registry, platforms=PLATFORMS)
    assert result is False
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert errors == [
        f"docker_build_push: platforms: the base image {amd64_only} has no linux/arm64 image (FROM in the Dockerfile); "
        "use a base built for linux/arm64, or leave linux/arm64 out"
    ]
    assert docker_calls.pushes() == []
    ecr = boto3.client("ecr", region_name="us-east-1")
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []


def test_a_platform_the_engine_cannot_emulate_is_one_line_naming_qemu_before_any_build(
    docker_calls: DockerCalls, aws: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = docker_calls.engine
    offered = engine.run_docker("buildx", "inspect").stdout
    foreign = next((p for p in ("linux/s390x", "linux/ppc64le", "linux/riscv64", "linux/mips64le") if p not in offered), None)
    if foreign is None:
        pytest.skip("the engine emulates every platform this test could ask for")
    app = make_app(tmp_path / "app", engine.base_image)
    docker_calls.clear()
    result = cfngin_hook(
        None,
        None,
        repository_name=unique_repository(),
        working_directory=str(app),
        registry=engine.registry,
        platforms=["linux/amd64", foreign],
    )
    assert result is False
    [error] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert error.startswith(f"docker_build_push: platforms: the Docker engine cannot build for {foreign}: no QEMU emulator")
    assert "binfmt_misc" in error and "apt-get install qemu-user-static binfmt-support" in error
    assert docker_calls.builds() == [] and docker_calls.pushes() == []


def test_a_push_killed_between_platforms_leaves_no_index_and_the_rerun_finishes(
    docker_env: DockerEngine, multiarch_base: str, aws: MotoServer, tmp_path: Path
) -> None:
    repository = unique_repository()
    app = make_app(tmp_path / "app", multiarch_base)
    # a docker that kills the hook's process the moment the first platform's push has finished
    shim_dir = tmp_path / "killer"
    shim_dir.mkdir()
    marker = tmp_path / "killed"
    (shim_dir / "docker").write_text(
        "#!/bin/sh\n"
        f'"{docker_env.docker}" "$@"; status=$?\n'
        f'case "$1 $2" in push\\ *-linux-amd64) if [ ! -e "{marker}" ]; then touch "{marker}"; kill -9 $PPID; fi;; esac\n'
        "exit $status\n"
    )
    (shim_dir / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}"}
    argv = [
        sys.executable,
        "-m",
        "runway_ext",
        "docker-build-push",
        repository,
        "--image-tag",
        "v1",
        "--platforms",
        "linux/amd64",
        "linux/arm64",
        "--working-directory",
        str(app),
        "--registry",
        docker_env.registry,
        "--json",
    ]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    assert marker.exists()
    # both platforms are in the registry, but no tag names an index, and ECR records nothing
    ecr = boto3.client("ecr", region_name="us-east-1")
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []
    assert registry_manifest(docker_env, repository, "v1")[0] == 404
    tags = json.loads(
        urllib.request.build_opener(urllib.request.ProxyHandler({}))
        .open(f"http://{docker_env.registry}/v2/{repository}/tags/list", timeout=10)
        .read()
    )["tags"]
    assert not [tag for tag in tags if not tag.endswith(("-linux-amd64", "-linux-arm64"))]

    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    result = json.loads(second.stdout)
    assert result["pushed"] is True and sorted(result["platform_digests"]) == ["linux/amd64", "linux/arm64"]
    status, body, _ = registry_manifest(docker_env, repository, "v1")
    assert status == 200 and platform_digests(parse_index(body)) == result["platform_digests"]


def test_tags_moved_by_someone_else_between_build_and_index_cannot_change_what_the_index_holds(
    docker_env: DockerEngine, multiarch_base: str, aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = unique_repository()
    app = make_app(tmp_path / "app", multiarch_base)
    intruder = multiarch_base.replace(":multiarch", ":amd64")  # another image, already in the registry
    shim_dir = tmp_path / "intruder"
    shim_dir.mkdir()
    real = docker_env.docker
    # just before the index is made, someone re-points this build's amd64 ref and `latest` at another image
    (shim_dir / "docker").write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2 $3" = "buildx imagetools create" ]; then\n'
        '  index="$5"; repo="${index%:*}"\n'
        '  for ref in "$index-linux-amd64" "$repo:latest"; do\n'
        f'    "{real}" tag "{intruder}" "$ref" && "{real}" push -q "$ref" >/dev/null || exit 99\n'
        "  done\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    (shim_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", str(shim_dir), prepend=os.pathsep)
    result = hook(docker_env, app, repository, image_tag="latest", platforms=PLATFORMS)
    intruder_digest = registry_manifest(docker_env, "runway-ext/busybox", "amd64", MANIFEST_ACCEPT)
    assert intruder_digest[0] == 200
    moved = "sha256:" + hashlib.sha256(intruder_digest[1]).hexdigest()
    assert moved not in result["platform_digests"].values()
    status, body, _ = registry_manifest(docker_env, repository, "latest")
    assert status == 200 and platform_digests(parse_index(body)) == result["platform_digests"]
    ecr = boto3.client("ecr", region_name="us-east-1")
    [latest] = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "latest"}])["imageDetails"]
    assert latest["imageDigest"] == result["index_digest"]
