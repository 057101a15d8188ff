"""Session-wide real services for the tests: a moto server on 127.0.0.1 standing in for AWS, and a Docker engine.

The fixtures come from the pytest plugin runway_ext ships to its users
(:mod:`runway_ext.testing.pytest_plugin`, loaded through its ``pytest11`` entry point); ``moto`` and
``aws`` are this suite's short names for ``runway_ext_moto`` and ``runway_ext_aws``.

``docker_engine`` (session) starts one private dockerd + registry + locally built ``runway-ext/busybox:latest``
via :mod:`tests.support.docker_engine`; it skips with a one-line reason only when this machine cannot run the
engine at all (``RUNWAY_EXT_REQUIRE_DOCKER=1`` makes that a failure instead, as CI does). ``docker_env``
(function) points ``docker``/``docker compose``/``docker buildx`` subprocesses of one test at that engine.

``browser`` (session) is one headless Debian chromium driven by playwright (:mod:`tests.support.browser`),
started on first use and closed at the end; it skips saying why when chromium is missing
(``RUNWAY_EXT_REQUIRE_CHROMIUM=1`` makes that a failure). ``page`` (function) is a fresh context and page of it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from runway_ext.local.moto_server import MotoServer
from tests.support.browser import chromium_or_skip, chromium_session, fresh_page
from tests.support.docker_engine import DockerEngine, engine_unavailable_reason

PLUGIN_MODULE = "runway_ext.testing.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    """Load the plugin by hand when entry-point plugins are off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``)."""
    if not config.pluginmanager.has_plugin("runway_ext") and not config.pluginmanager.has_plugin(PLUGIN_MODULE):
        config.pluginmanager.import_plugin(PLUGIN_MODULE)


@pytest.fixture(scope="session")
def moto(runway_ext_moto: MotoServer) -> MotoServer:
    """One moto server for the whole session (started once, stopped at the end)."""
    return runway_ext_moto


@pytest.fixture
def aws(runway_ext_aws: MotoServer) -> MotoServer:
    """The moto server, emptied, with ``AWS_*`` pointing every client of this test at it."""
    return runway_ext_aws


@pytest.fixture(scope="session")
def sam() -> str:
    """Path of the real sam CLI: on PATH, else the repository's ``.venv-sam`` (where ``.ci/sam-install.sh`` puts it).

    Without it the tests skip saying why, or fail when ``RUNWAY_EXT_REQUIRE_SAM=1`` (CI).
    """
    found = shutil.which("sam")
    if found is None:
        local = Path(__file__).resolve().parents[1] / ".venv-sam" / "bin" / "sam"
        found = str(local) if local.is_file() else None
    if found is None:
        reason = "the sam CLI is not installed (bash .ci/sam-install.sh, or put sam on PATH)"
        if os.environ.get("RUNWAY_EXT_REQUIRE_SAM") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_SAM=1 but {reason}")
        pytest.skip(reason)
    return found


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium (playwright, Debian's executable) for the whole session."""
    with chromium_session(chromium_or_skip()) as started:
        yield started


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context of the session's browser: nothing shared with other tests."""
    with fresh_page(browser) as fresh:
        yield fresh


def uses_the_engine(item: pytest.Item) -> bool:
    """Whether a test needs the private Docker engine (directly or through a fixture that does)."""
    return "docker_engine" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``RUNWAY_EXT_TEST_PART=engine`` keeps only the tests of the private Docker engine, ``rest`` all the others.

    ``.ci/test`` runs ``rest`` on two pytest-xdist workers, then ``engine`` in one process: one engine runs per host
    (:mod:`tests.support.docker_engine` serialises them with a lock), so those tests share one session's engine.
    Without the variable every test runs.
    """
    part = os.environ.get("RUNWAY_EXT_TEST_PART", "")
    if part not in ("engine", "rest"):
        return
    keep = [item for item in items if uses_the_engine(item) == (part == "engine")]
    dropped = [item for item in items if uses_the_engine(item) != (part == "engine")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
