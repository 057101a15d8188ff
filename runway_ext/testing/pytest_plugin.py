"""pytest fixtures for testing your own hooks against a local AWS stand-in, as Runway would run them.

Installed with runway_ext and loaded by pytest automatically (entry point ``pytest11``; disable it
with ``-p no:runway_ext``). Nothing is started unless a test asks for a fixture:

``runway_ext_moto`` (session)
    A moto server on 127.0.0.1, started once per session.
``runway_ext_aws``
    That server, emptied, with ``AWS_*`` (endpoint, dummy credentials, region) set for this test
    only and ``AWS_PROFILE`` removed; ``.environment()`` gives the variables for subprocesses.
``cfngin_context``
    A real ``runway.context.CfnginContext`` pointed at that server; the test runs in its own
    folder (``tmp_path``), as Runway runs hooks in the CFNgin module's folder.
``run_hook``
    ``run_hook(path, args, *, stage, required, enabled, data_key, lookups)`` runs a hook through
    Runway's own hook runner and returns the hook_data (see :func:`runway_ext.testing.cfngin.run_hook_as_runway`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from runway.context import CfnginContext

    from runway_ext.local.moto_server import MotoServer

_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


class RunHook(Protocol):
    """The ``run_hook`` fixture's signature."""

    def __call__(self, path: str | Any, args: dict[str, Any] | None = None, **definition: Any) -> dict[str, Any]:
        """Run the hook at ``path`` as Runway would; return the hook_data."""


@pytest.fixture(scope="session")
def runway_ext_moto() -> Iterator[MotoServer]:
    """One moto server on 127.0.0.1 for the whole session (started on first use, stopped at the end)."""
    from runway_ext.local.moto_server import moto_server

    with moto_server() as server:
        yield server


@pytest.fixture
def runway_ext_aws(runway_ext_moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The moto server, emptied, with ``AWS_*`` pointing every client of this test at it."""
    runway_ext_moto.reset()
    for name, value in runway_ext_moto.environment().items():
        monkeypatch.setenv(name, value)
    for name in _PROFILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return runway_ext_moto


@pytest.fixture
def cfngin_context(runway_ext_aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CfnginContext:
    """A real CfnginContext (namespace ``test``, environment ``test``) on the moto server; cwd is ``tmp_path``."""
    from runway_ext.testing.cfngin import make_cfngin_context

    monkeypatch.chdir(tmp_path)
    return make_cfngin_context(tmp_path)


@pytest.fixture
def run_hook(cfngin_context: CfnginContext) -> RunHook:
    """Run a hook through Runway's own ``handle_hooks`` with ``cfngin_context``; returns the hook_data."""
    from runway_ext.testing.cfngin import run_hook_as_runway

    def run(path: str | Any, args: dict[str, Any] | None = None, **definition: Any) -> dict[str, Any]:
        return run_hook_as_runway(cfngin_context, path, args, **definition)

    return run
