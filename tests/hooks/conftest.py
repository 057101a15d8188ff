"""Fixtures for hook tests that need a real Docker engine, a registry and a base image.

``docker_engine`` (session) starts one private dockerd + registry + locally built
``runway-ext/busybox:latest`` via :mod:`runway_ext.testing.docker_engine`; it skips
with a one-line reason only when this machine cannot run the engine at all (set
``RUNWAY_EXT_REQUIRE_DOCKER=1`` to make that a failure instead, as CI should).
``docker_env`` (function) points ``docker``/``docker compose``/``docker buildx``
subprocesses of one test at that engine through ``monkeypatch``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from runway_ext.testing.docker_engine import DockerEngine, engine_unavailable_reason


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """One engine for the session: ``.docker_host``, ``.registry``, ``.base_image``, ``.env()``."""
    reason = engine_unavailable_reason()
    if reason:
        if os.environ.get("RUNWAY_EXT_REQUIRE_DOCKER") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_DOCKER=1 but {reason}")
        pytest.skip(reason)
    engine = DockerEngine(tmp_path_factory.mktemp("docker-engine")).start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def docker_env(docker_engine: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> DockerEngine:
    """The session engine, with ``DOCKER_HOST`` & co. set for this test's subprocesses."""
    for name in ("DOCKER_CONTEXT", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in docker_engine.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", str(docker_engine.bin_dir), prepend=os.pathsep)
    return docker_engine
