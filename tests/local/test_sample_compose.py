"""The sample's Docker Compose service builds from the local base image and becomes healthy, then stops.

On the test session's real engine (whose base image is a static busybox: its ``wget`` crashes and its ``nc``
has no ``-z``, so the healthcheck must only connect), exactly as the sample's deploy starts it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runway_ext.hooks.docker_compose_integration import start_containers_hook, stop_containers_hook
from tests.support.docker_engine import DockerEngine

SAMPLE = Path(__file__).resolve().parents[2] / "sample-project"


@pytest.mark.docker
def test_sample_compose_service_gets_healthy(docker_env: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "sample"
    project.mkdir()
    shutil.copy2(SAMPLE / "docker-compose.yml", project / "docker-compose.yml")
    shutil.copytree(SAMPLE / "docker", project / "docker")
    (project / ".env.local").write_text("SERVICE_ENVIRONMENT=dev\n")
    monkeypatch.setenv("BASE_IMAGE", docker_env.base_image)
    common = {"working_directory": str(project), "project_name": "sample-compose-test"}
    try:
        started = start_containers_hook(None, None, **common, env_file=".env.local", build=True, wait_timeout=60)
        assert started, "the sample's service did not become healthy"
        assert [(service["service"], service["health"], service["ready"]) for service in started["services"]] == [
            ("service", "healthy", True)
        ]
    finally:
        assert stop_containers_hook(None, None, **common, remove_volumes=True)
