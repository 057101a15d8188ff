"""Session-wide real services for the tests: a moto server on 127.0.0.1 standing in for AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runway_ext.testing.moto_server import MotoServer, moto_server


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto server for the whole session (started once, stopped at the end)."""
    with moto_server() as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The moto server, emptied, with ``AWS_*`` pointing every client of this test at it."""
    moto.reset()
    for name, value in moto.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto
