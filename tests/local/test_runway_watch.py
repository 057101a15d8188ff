"""Reading Runway's output for modules it skipped (real Runway runs are in test_readme_project.py), and the pass-through run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from runway_ext.local.runway_watch import RunwayWatch, run_watched


def watched(*lines: str) -> RunwayWatch:
    watch = RunwayWatch()
    for line in lines:
        watch.feed(f"[runway] {line}\n")
    return watch


def test_a_module_that_runs_is_never_nothing_even_with_skipped_lines_inside() -> None:
    watch = watched(
        "d:processing deployment (in progress)",
        "d.a.cfn:processing module in us-east-1 (in progress)",
        "found environment file: /p/a.cfn/dev.env",
        "config.yml:init (in progress)",
        "skipped; cfngin_bucket not defined",
        "queue:skipped (nochange)",
        "d.a.cfn:processing module in us-east-1 (complete)",
    )
    assert watch.nothing_done() is None and watch.ran == 1


def test_every_module_skipped_gives_runways_reasons_once_each() -> None:
    watch = watched(
        "d:processing deployment (in progress)",
        "d.a.cfn:processing module in us-east-1 (in progress)",
        "skipped; no parameters and environment file not found",
        "skipped; no parameters and environment file not found",
        "d.a.cfn:processing module in us-east-1 (complete)",
        "",
        "d.b.cfn:processing module in eu-west-1 (in progress)",
        "d.b.cfn:skipped; environment not in definition",
    )
    assert watch.nothing_done() == (
        "Runway skipped every module: d.a.cfn (us-east-1): no parameters and environment file not found; "
        "d.b.cfn (eu-west-1): environment not in definition"
    )


def test_a_deployment_without_modules_and_silent_outputs() -> None:
    assert watched("d:processing deployment (in progress)", "d:skipped; no modules found in definition").nothing_done() == (
        "Runway skipped every module: deployment d: no modules found in definition"
    )
    assert watched().nothing_done() is None  # Runway said nothing about modules (e.g. failed before): no claim
    assert watched("d.a.cfn:processing module in us-east-1 (in progress)").nothing_done() is None


def test_output_passes_through_and_a_hang_is_stopped(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = "import sys; print('[runway] d.a.cfn:processing module in r (in progress)'); print('[runway] skipped; why'); sys.exit(0)"
    code, watch = run_watched([sys.executable, "-c", script], cwd=tmp_path, env={}, timeout=60)
    assert code == 0 and watch.nothing_done() == "Runway skipped every module: d.a.cfn (r): why"
    assert "[runway] skipped; why" in capfd.readouterr().out
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_watched([sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, env={}, timeout=1)
    assert time.monotonic() - started < 15
