"""Every npm_build test keeps the hook's local digest cache in its own temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``RUNWAY_EXT_CACHE_DIR`` for this test (the CLI subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("runway-ext-cache")
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(folder))
    return folder
