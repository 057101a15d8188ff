"""The docs' screenshots of the sample site are what docs/screenshots.py makes of today's sample.

The script runs into a temporary folder (it builds a copy of the app, so the checkout stays as it was: the test
checks ``git status``); each committed PNG in docs/images/sample/ must exist and have the pixel size of the fresh
one (a page whose layout changed is taller or shorter: run ``python docs/screenshots.py`` and commit the result).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

from tests.support.browser import chromium_or_skip

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "docs" / "images" / "sample"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def git_status() -> str | None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        return None
    # only docs/: other tests running beside this one (pytest-xdist) may write ignored files elsewhere in the clone
    return subprocess.run(
        [git, "status", "--porcelain", "--ignored", "--", "docs"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout


def test_committed_screenshots_match_a_fresh_run_in_size(tmp_path: Path) -> None:
    chromium_or_skip()
    before = git_status()
    done = subprocess.run(
        [sys.executable, str(REPO / "docs" / "screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert git_status() == before, "taking the screenshots changed the checkout"
    fresh = {path.name: png_size(path) for path in tmp_path.glob("*.png")}
    assert set(fresh) == {"home.png", "docs.png", "not-found.png"}
    committed = {path.name: png_size(path) for path in COMMITTED.glob("*.png")}
    missing = sorted(set(fresh) - set(committed))
    assert not missing, f"docs/images/sample/ lacks {missing}: run python docs/screenshots.py"
    stale = {name: (committed[name], size) for name, size in fresh.items() if committed[name] != size}
    assert not stale, f"docs/images/sample/ is out of date (committed vs fresh size) {stale}: run python docs/screenshots.py"
    assert sorted(committed) == sorted(fresh), (
        f"docs/images/sample/ holds screenshots the script no longer makes: {sorted(set(committed) - set(fresh))}"
    )
