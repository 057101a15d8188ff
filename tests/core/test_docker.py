"""The one docker daemon probe: a missing engine is one line saying where it looked, never a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from runway_ext.core.docker import describe_host, probe_daemon, require_daemon
from runway_ext.core.errors import HookError
from tests.support.docker_engine import DockerEngine


def test_describe_host() -> None:
    assert describe_host({"DOCKER_HOST": "tcp://127.0.0.1:2375"}) == "tcp://127.0.0.1:2375"
    assert describe_host({}) == "the default socket (unix:///var/run/docker.sock)"


def test_unreachable_engine_is_one_line(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on PATH")
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    version, why = probe_daemon(docker, env, timeout=20)
    assert version is None and why and "\n" not in why
    with pytest.raises(HookError) as error:
        require_daemon(docker, env, timeout=20)
    assert str(error.value).startswith(f"docker daemon unreachable at unix://{tmp_path}/none.sock (")
    assert "\n" not in str(error.value)


def test_missing_client_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    version, why = probe_daemon(str(tmp_path / "no-docker"), {})
    assert version is None and why.startswith("cannot run ")


@pytest.mark.docker
def test_running_engine_answers_with_its_version(docker_env: DockerEngine) -> None:
    docker = shutil.which("docker")
    assert docker is not None
    version = require_daemon(docker, os.environ)
    assert version[0].isdigit()
