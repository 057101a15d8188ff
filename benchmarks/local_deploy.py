"""Time sample-project/ in local mode: first deploy, no-change redeploy, one-page redeploy, destroy.

    python benchmarks/local_deploy.py

Uses the same pieces as ``runway-ext local deploy`` (an in-process moto server, the Docker engine and
registry it finds or starts, sam if on PATH) but keeps one AWS stand-in across the four runs, so the
redeploys see the first deploy's state. Prints a table: seconds, objects uploaded, paths invalidated,
whether the image was built.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runway_ext.core import journal  # noqa: E402
from runway_ext.local.command import run_runway_locally  # noqa: E402
from runway_ext.local.session import local_aws  # noqa: E402
from runway_ext.local.tools import local_tools  # noqa: E402


def results(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Each hook's last result in one run (failures as their error line)."""
    return {entry["hook"]: entry.get("result") or {"error": entry.get("error")} for entry in entries}


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="runway-ext-bench-") as folder:
        project = Path(folder) / "sample-project"
        shutil.copytree(ROOT / "sample-project", project, ignore=shutil.ignore_patterns("out", "node_modules", ".env.local", ".runway"))
        with local_aws() as aws, local_tools("auto") as tools:
            for notice in tools.notices:
                print(f"note: {notice}")
            seen = 0
            steps = [("first deploy", "deploy", None), ("no-change redeploy", "deploy", None), ("one page changed", "deploy", "about"), ("destroy", "destroy", None)]
            for label, action, change in steps:
                if change:
                    page = project / "app" / "src" / "pages" / f"{change}.html"
                    page.write_text(page.read_text() + "<p>Changed.</p>\n")
                started = time.monotonic()
                code = run_runway_locally(project, action, aws, deploy_environment="dev", timeout=1800, extra_environment=tools.environment)
                seconds = time.monotonic() - started
                entries = journal.read(aws.journal_file)
                run, seen = results(entries[seen:]), len(entries)
                npm = run.get("npm_build", {})
                invalidation = run.get("cloudfront_invalidation", {})
                image = run.get("docker_build_push", {})
                rows.append(
                    (
                        label,
                        f"{seconds:.1f}",
                        "ok" if code == 0 else f"exit {code}",
                        str(npm.get("uploaded", "-")),
                        "-" if invalidation.get("skipped", True) else str(len(invalidation.get("paths", []))),
                        "-" if not image else ("built" if image.get("built") else "skipped"),
                    )
                )
    header = ("step", "seconds", "runway", "objects uploaded", "paths invalidated", "image")
    widths = [max(len(str(row[index])) for row in [header, *rows]) for index in range(len(header))]
    print("| " + " | ".join(text.ljust(width) for text, width in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print("| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
