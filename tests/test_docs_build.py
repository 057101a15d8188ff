"""The user guide builds with MkDocs in strict mode: no warning (broken link, missing anchor, bad page)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (pip install -e '.[docs]')"
)


def build(site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of docs/ into ``site``, run from the repository root as CI does."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "docs/mkdocs.yml", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The site, built once for this module, and the build's output."""
    site = tmp_path_factory.mktemp("docs") / "site"
    return site, build(site)


def test_docs_build_strict_without_warnings(built: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    site, run = built
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stderr
    pages = {path.relative_to(site).parent.as_posix() for path in site.rglob("index.html")}
    assert {".", "writing_hooks", "testing_hooks", "troubleshooting", "local_mode", "hooks/env_file_generator", "lookups/dotenv"} <= pages
    assert not (site / "mkdocs.yml").exists()


def test_generated_table_is_rendered_as_a_table(built: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    site, run = built
    assert run.returncode == 0, run.stdout + run.stderr
    html = (site / "hooks" / "env_file_generator" / "index.html").read_text(encoding="utf-8")
    table = html[html.index("<table>") : html.index("</table>")]
    assert "<code>output_file</code>" in table
    assert "&lt;name&gt;.&lt;UTC timestamp&gt;.bak" in table
