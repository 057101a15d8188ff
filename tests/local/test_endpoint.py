"""``--endpoint`` is checked before anything is touched: a mistyped one never harms a running ``serve``.

A stand-in "serve" here is a real moto server plus the session file a ``serve`` writes (this test process's
pid, so it counts as alive), which is all a deploy reads from a ``serve``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.local.moto_server import MotoServer, free_port
from runway_ext.local.serve_session import read_session, session_file
from runway_ext.local.session import require_loopback
from tests.local.tiny_project import RUNWAY_EXT, cli_environment, fake_serve, tiny_project


@pytest.fixture
def serve() -> Iterator[MotoServer]:
    with fake_serve() as server:
        yield server


def run_cli(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [RUNWAY_EXT, *args], cwd=cwd, env=cli_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:4566", "http://127.0.0.1:4566"),
        ("http://127.0.0.1:4566/", "http://127.0.0.1:4566"),
        ("http://LOCALHOST:4566", "http://127.0.0.1:4566"),
    ],
)
def test_localhost_and_127_0_0_1_are_the_same_endpoint(given: str, expected: str) -> None:
    assert require_loopback(given) == expected


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("http://10.1.2.3:4566", "not a loopback address"),
        ("https://127.0.0.1:4566", "must start with http://"),
        ("http://127.0.0.1", "has no port"),
        ("http://127.0.0.1:4566/s3", "has a path"),
        ("http://127.0.0.1:99999", "not a URL"),
    ],
)
def test_a_bad_endpoint_is_one_line_naming_it(given: str, named: str) -> None:
    with pytest.raises(HookError) as caught:
        require_loopback(given)
    assert named in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_another_endpoint_does_not_remove_a_live_serves_session(serve: MotoServer) -> None:
    assert read_session(f"http://127.0.0.2:{serve.port}") is None
    assert session_file(serve.port).exists()
    assert read_session(require_loopback(f"http://localhost:{serve.port}")) is not None


@pytest.mark.runway
def test_a_non_loopback_endpoint_leaves_the_serve_and_localhost_finds_it(tmp_path: Path, serve: MotoServer) -> None:
    project = tiny_project(tmp_path / "project")
    code, output, _ = run_cli(["local", "deploy", str(project), "--docker", "off", "--endpoint", f"http://10.1.2.3:{serve.port}"], tmp_path)
    assert code == 1 and "Traceback" not in output
    assert output.strip().splitlines() == [
        f"error: endpoint: 'http://10.1.2.3:{serve.port}' is not a loopback address; local mode only talks to 127.0.0.1/localhost"
    ]
    assert session_file(serve.port).exists(), "a mistyped --endpoint removed the serve's session"

    code, output, _ = run_cli(
        ["local", "deploy", str(project), "--docker", "off", "--endpoint", f"http://localhost:{serve.port}"], tmp_path
    )
    assert code == 0, output
    assert "is not a `runway-ext local serve`" not in output and "no `runway-ext local serve`" not in output
    assert f"AWS stand-in at http://127.0.0.1:{serve.port})" in output
    assert session_file(serve.port).exists()


def test_an_endpoint_where_nothing_listens_is_one_line_within_seconds(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    port = free_port()
    code, output, seconds = run_cli(["local", "deploy", str(project), "--endpoint", f"http://127.0.0.1:{port}"], tmp_path, timeout=60)
    assert code == 1
    assert output.strip().splitlines() == [
        f"error: endpoint: nothing answers at http://127.0.0.1:{port} (Connection refused); start `runway-ext local serve --port {port}` "
        "first, or drop --endpoint to deploy to a stand-in started for this run"
    ]
    assert seconds < 10
