"""Smoke tests of the real Docker toolchain: engine, builders, registry, compose."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support.docker_engine import (
    PROXY_GUARD,
    DockerEngine,
    buildx_available,
    compose_command,
    compose_read_env_file,
    compose_unavailable_reason,
)

pytestmark = pytest.mark.docker


def docker(*args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``docker`` from PATH (the engine's client, via ``docker_env``)."""
    res = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert res.returncode == 0, f"docker {' '.join(args)}: {res.stderr}"
    return res


def registry_get(engine: DockerEngine, path: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{engine.registry}{path}", timeout=10) as resp:
        return json.load(resp)


def write_context(tmp_path: Path, base: str) -> Path:
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nRUN echo hi > /x\n")
    return tmp_path


def test_engine_answers_with_proxy_guard_and_egress_drop(docker_env: DockerEngine) -> None:
    info = json.loads(docker("version", "--format", "{{json .}}").stdout)
    assert info["Server"]["ApiVersion"] == docker_env.api_version
    assert info["Server"]["Version"].startswith("20.10")
    assert docker_env.docker_host.startswith("unix://")
    daemon = json.loads(docker("info", "--format", "{{json .}}").stdout)
    assert daemon["HttpProxy"] == PROXY_GUARD["HTTP_PROXY"]
    assert daemon["HttpsProxy"] == PROXY_GUARD["HTTPS_PROXY"]
    rules = subprocess.run(["iptables", "-w", "-S", "DOCKER-USER"], capture_output=True, text=True, check=True).stdout
    assert docker_env.egress_interfaces, "no default-route interface found"
    for iface in docker_env.egress_interfaces:
        assert f"-A DOCKER-USER -o {iface} -j DROP" in rules
    images = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert docker_env.base_image in images


def test_base_image_runs_busybox(docker_env: DockerEngine) -> None:
    out = docker("run", "--rm", docker_env.base_image, "sh", "-c", "id -u; ls /bin/busybox; echo $PATH").stdout
    assert out.splitlines()[:2] == ["0", "/bin/busybox"]
    assert "/usr/bin" in out


def test_legacy_build(docker_env: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    tag = f"runway-ext/smoke-legacy:{uuid.uuid4().hex[:8]}"
    docker("build", "--pull=false", "-t", tag, str(write_context(tmp_path, docker_env.base_image)))
    assert docker("run", "--rm", tag, "cat", "/x").stdout == "hi\n"
    docker("rmi", tag)


@pytest.mark.skipif(not buildx_available(), reason="docker buildx plugin missing (bash .ci/docker-install.sh)")
def test_buildkit_build_via_buildx(docker_env: DockerEngine, tmp_path: Path) -> None:
    tag = f"runway-ext/smoke-buildx:{uuid.uuid4().hex[:8]}"
    docker("buildx", "build", "--pull=false", "--load", "--progress=plain", "-t", tag,
           str(write_context(tmp_path, docker_env.base_image)), timeout=300)
    assert docker("run", "--rm", tag, "cat", "/x").stdout == "hi\n"
    docker("rmi", tag)


def test_push_to_local_registry(docker_env: DockerEngine) -> None:
    repo = f"runway-ext/smoke-push-{uuid.uuid4().hex[:6]}"
    ref = f"{docker_env.registry}/{repo}:1"
    docker("tag", docker_env.base_image, ref)
    push = docker("push", ref)
    assert "digest: sha256:" in push.stdout
    assert repo in registry_get(docker_env, "/v2/_catalog")["repositories"]
    assert registry_get(docker_env, f"/v2/{repo}/tags/list")["tags"] == ["1"]


def _ps_json(stdout: str) -> list[dict]:
    text = stdout.strip()
    if not text:
        return []
    if text.startswith("["):  # compose < 2.21 printed one array
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines()]


def test_compose_up_wait_healthy_ps_down(docker_env: DockerEngine, tmp_path: Path) -> None:
    assert compose_command() is not None, compose_unavailable_reason()
    project = f"rwx-smoke-{uuid.uuid4().hex[:6]}"
    (tmp_path / "x.yml").write_text(
        "services:\n"
        "  web:\n"
        f"    image: {docker_env.base_image}\n"
        "    pull_policy: never\n"
        "    init: true\n"
        '    command: ["sh", "-c", "touch /tmp/ready && exec sleep 3600"]\n'
        "    healthcheck:\n"
        '      test: ["CMD", "test", "-f", "/tmp/ready"]\n'
        "      interval: 1s\n"
        "      timeout: 2s\n"
        "      retries: 20\n"
        "volumes:\n"
        "  data: {}\n"
    )
    compose = ["compose", "-p", project, "-f", str(tmp_path / "x.yml")]
    t0 = time.monotonic()
    docker(*compose, "up", "-d", "--wait", "--wait-timeout", "120", timeout=180)
    up = time.monotonic() - t0
    try:
        rows = _ps_json(docker(*compose, "ps", "--format", "json").stdout)
        assert [(r["Service"], r["State"], r["Health"]) for r in rows] == [("web", "running", "healthy")]
    finally:
        t0 = time.monotonic()
        docker(*compose, "down", "-v", "--timeout", "10", timeout=120)
        down = time.monotonic() - t0
    print(f"compose up-to-healthy {up:.1f} s, down {down:.1f} s")
    assert _ps_json(docker(*compose, "ps", "-a", "--format", "json").stdout) == []
    assert down < 10, "down waited for a stop timeout: init: true should forward SIGTERM"


@pytest.mark.skipif(compose_unavailable_reason() is not None, reason=str(compose_unavailable_reason()))
def test_compose_read_env_file_without_daemon(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text(
        "# a comment\n"
        "PLAIN=1\n"
        'QUOTED="two words"\n'
        "SINGLE='literal $NOT_EXPANDED'\n"
        "export EXPORTED=yes\n"
        "REF=${PLAIN}-x\n"
        'MULTI="a\nb"\n'
        "TRAILING=val # comment\n"
        "EMPTY=\n"
        "EQUALS=a=b\n"
        "BARE\n"
    )
    # compose_read_env_file points DOCKER_HOST at a socket that does not exist: no daemon involved.
    assert compose_read_env_file(env_file) == {
        "PLAIN": "1",
        "QUOTED": "two words",
        "SINGLE": "literal $NOT_EXPANDED",
        "EXPORTED": "yes",
        "REF": "1-x",
        "MULTI": "a\nb",
        "TRAILING": "val",
        "EMPTY": "",
        "EQUALS": "a=b",
    }
    assert compose_read_env_file(env_file, environ={"BARE": "from-env"})["BARE"] == "from-env"
