"""Local mode's tools: the user's Docker engine (never one of its own), a registry it starts on 127.0.0.1, switches.

The engine here is the test session's private one, handed over through ``DOCKER_HOST`` exactly as a user's own
engine would be. Local mode itself must start no engine and change no firewall rule, interface or forwarding.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request

import pytest

from runway_ext.local.tools import local_tools
from tests.support.docker_engine import DockerEngine
from tests.support.host_state import host_network_state


def registry_answers(address: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{address}/v2/_catalog", timeout=5) as response:
            return "repositories" in json.loads(response.read())
    except OSError:
        return False


def test_docker_off_switches_containers_off_with_one_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    with local_tools("off") as tools:
        assert tools.environment["RUNWAY_EXT_CONTAINERS"] == "false"
        docker_notices = [notice for notice in tools.notices if notice.startswith("docker:")]
        assert docker_notices == ["docker: switched off (--docker off); image, service stack and compose steps are skipped"]
        assert "RUNWAY_EXT_REGISTRY" not in tools.environment


def test_no_engine_is_one_notice_naming_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("docker") is None:  # the client is what asks the engine; without one see the next test
        if os.environ.get("RUNWAY_EXT_REQUIRE_DOCKER") == "1":
            pytest.fail("RUNWAY_EXT_REQUIRE_DOCKER=1 but there is no docker client on PATH")
        pytest.skip("no docker client on PATH to ask the engine")
    missing = f"unix://{tmp_path}/no-such-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", missing)
    monkeypatch.delenv("RUNWAY_EXT_REGISTRY", raising=False)
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_CONTAINERS"] == "false"
        (notice,) = [notice for notice in tools.notices if notice.startswith("docker:")]
        assert notice.startswith(f"docker: no engine answers at {missing} (")
        assert notice.endswith("); image, service stack and compose steps are skipped")
        assert "\n" not in notice


def test_no_docker_client_is_one_notice(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no docker (and no sam) on PATH
    monkeypatch.delenv("RUNWAY_EXT_REGISTRY", raising=False)
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_CONTAINERS"] == "false"
        docker_notices = [notice for notice in tools.notices if notice.startswith("docker:")]
        assert docker_notices == ["docker: no docker client on PATH; image, service stack and compose steps are skipped"]


@pytest.mark.docker
def test_registry_started_on_loopback_and_stopped_host_untouched(docker_env: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWAY_EXT_REGISTRY", raising=False)
    before = host_network_state()
    with local_tools("auto") as tools:
        registry = tools.environment["RUNWAY_EXT_REGISTRY"]
        assert tools.environment["RUNWAY_EXT_CONTAINERS"] == "true", tools.notices
        assert registry.startswith("127.0.0.1:") and registry != docker_env.registry
        assert registry_answers(registry)
        docker_env.run_docker("tag", docker_env.base_image, f"{registry}/probe:one")
        docker_env.run_docker("push", f"{registry}/probe:one")
        assert host_network_state() == before
    assert not registry_answers(registry)
    assert host_network_state() == before


@pytest.mark.docker
def test_given_registry_is_used_as_is(docker_env: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_REGISTRY", docker_env.registry)
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_REGISTRY"] == docker_env.registry
    assert registry_answers(docker_env.registry)  # not ours to stop


@pytest.mark.docker
def test_image_platforms_are_those_the_engine_can_build_from_the_base_each_skip_one_line(
    docker_env: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.docker_engine import multiarch_unavailable_reason

    reason = multiarch_unavailable_reason()
    if reason:
        pytest.skip(reason)
    monkeypatch.setenv("RUNWAY_EXT_REGISTRY", docker_env.registry)
    monkeypatch.setenv("RUNWAY_EXT_BASE_IMAGE", docker_env.base_image)  # imported into the engine: amd64 only
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_PLATFORMS"] == "linux/amd64"
        assert [notice for notice in tools.notices if "linux/arm64" in notice] == [
            f"docker: the image is not built for linux/arm64: the base image {docker_env.base_image} on the engine is linux/amd64 only "
            "(set RUNWAY_EXT_BASE_IMAGE to a multi-platform base)"
        ]
    monkeypatch.setenv("RUNWAY_EXT_BASE_IMAGE", docker_env.multiarch_base_image())
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_PLATFORMS"] == "linux/amd64,linux/arm64"
        assert not [notice for notice in tools.notices if "linux/" in notice]
    monkeypatch.setenv("RUNWAY_EXT_PLATFORMS", "linux/arm64")
    with local_tools("auto") as tools:
        assert tools.environment["RUNWAY_EXT_PLATFORMS"] == "linux/arm64"
