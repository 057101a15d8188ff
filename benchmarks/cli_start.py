"""How long a command takes to answer ``--help`` and a bad argument, against ``python -c pass`` and ``aws --version``.

    python benchmarks/cli_start.py [--repeat 5]

Each command is started afresh (``python -m …``, as a user runs it); the table shows the median
and range of the wall-clock seconds, and which heavy libraries (boto3, botocore, runway, docker,
troposphere) the command imported. ``aws --version`` is timed only when an ``aws`` CLI is on PATH.
For where the time goes inside one command: ``python -X importtime -m runway_ext.hooks.<name> --help``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "runway", "docker", "troposphere")
PROBE = (
    "import atexit, sys\n"
    f"HEAVY = {HEAVY!r}\n"
    "atexit.register(lambda: sys.__stderr__.write('\\nHEAVY=' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))) + '\\n'))\n"
)
WRAPPER = (
    PROBE
    + "import runpy\nmodule = sys.argv[1]\nsys.argv = [module, *sys.argv[2:]]\nrunpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)
HOOKS = (
    "cloudfront_invalidation",
    "docker_build_push",
    "docker_compose_integration",
    "env_file_generator",
    "npm_build",
    "sam_deploy",
    "site",
)


def timed(argv: list[str], repeat: int) -> tuple[list[float], str]:
    seconds, heavy = [], "-"
    for _ in range(repeat):
        started = time.perf_counter()
        run = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        for line in run.stderr.splitlines():
            if line.startswith("HEAVY="):
                heavy = line[len("HEAVY=") :] or "none"
    return seconds, heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    cases: list[tuple[str, list[str]]] = [("python -c pass", [sys.executable, "-c", "pass"])]
    if shutil.which("aws"):
        cases.append(("aws --version", [str(shutil.which("aws")), "--version"]))
    for hook in HOOKS:
        cases.append((f"{hook} --help", [sys.executable, "-c", WRAPPER, f"runway_ext.hooks.{hook}", "--help"]))
        cases.append((f"{hook} bad argument", [sys.executable, "-c", WRAPPER, f"runway_ext.hooks.{hook}", "--no-such-flag"]))
    cases.append(("runway-ext --help", [sys.executable, "-c", WRAPPER, "runway_ext", "--help"]))
    cases.append(("runway-ext --version", [sys.executable, "-c", WRAPPER, "runway_ext", "--version"]))
    print("| command | median s | min s | max s | heavy modules imported |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, argv in cases:
        seconds, heavy = timed(argv, options.repeat)
        print(f"| {label} | {statistics.median(seconds):.2f} | {min(seconds):.2f} | {max(seconds):.2f} | {heavy} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
