"""How long the docker compose hooks take to start a project until healthy, and to stop it.

Run (root, after ``bash .ci/docker-install.sh``): ``python benchmarks/docker_compose.py [--repeat 5]``.
Starts a private Docker engine (``tests.support.docker_engine``), writes a two-service project
built from the local busybox base image (one service with a 1 s healthcheck interval and a named
volume, ``init: true``), and times through the hooks: the first start (images built), a start of
the running project (nothing to do), stop without cleanup, a start of stopped containers, ``down``,
a start from nothing with the images present, and ``down -v``; plus plain ``docker compose up -d
--wait`` / ``down`` for comparison. Prints the median and the range over the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: its tests.support holds the private Docker engine

from runway_ext.hooks.docker_compose_integration import start_containers_hook, stop_containers_hook  # noqa: E402
from tests.support.docker_engine import DockerEngine, engine_unavailable_reason  # noqa: E402

COMPOSE = """\
services:
  api:
    build:
      context: ./app
      args:
        BASE_IMAGE: ${BASE_IMAGE:?}
    pull_policy: never
    init: true
    command: ["sh", "-c", "touch /tmp/ready && exec sleep 3600"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
  worker:
    build:
      context: ./app
      args:
        BASE_IMAGE: ${BASE_IMAGE:?}
    pull_policy: build
    init: true
    command: ["sleep", "3600"]
volumes:
  data: {}
"""


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    outcome = action()
    if outcome is False:
        raise SystemExit("a step failed; see the log above")
    return time.perf_counter() - started


def one_round(engine: DockerEngine, work: Path, index: int) -> dict[str, float]:
    project = work / f"bench-{index}"
    (project / "app").mkdir(parents=True)
    (project / "app" / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo built > /built\n")
    (project / "docker-compose.yml").write_text(COMPOSE)
    (project / ".env").write_text(f"BASE_IMAGE={engine.base_image}\n")
    common = {"working_directory": str(project), "env_file": ".env"}
    times = {
        "hook start, images built first": timed(lambda: start_containers_hook(None, None, **common)),
        "hook start, already healthy (no-op)": timed(lambda: start_containers_hook(None, None, **common)),
        "hook stop, cleanup false (stop)": timed(lambda: stop_containers_hook(None, None, **common, cleanup=False)),
        "hook start, stopped containers": timed(lambda: start_containers_hook(None, None, **common)),
        "hook stop (down)": timed(lambda: stop_containers_hook(None, None, **common)),
        "hook start to healthy, images present": timed(lambda: start_containers_hook(None, None, **common)),
        "hook stop, remove_volumes (down -v)": timed(lambda: stop_containers_hook(None, None, **common, remove_volumes=True)),
    }
    compose = ["docker", "compose", "--env-file", ".env"]
    quiet = {"cwd": project, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    times["plain docker compose up -d --wait"] = timed(lambda: subprocess.run([*compose, "up", "-d", "--wait"], **quiet))
    times["plain docker compose down -v"] = timed(lambda: subprocess.run([*compose, "down", "-v"], **quiet))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    reason = engine_unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rwx-bench-compose-") as tmp, DockerEngine(Path(tmp) / "engine") as engine:
        os.environ.update(engine.environment())
        os.environ["PATH"] = f"{engine.bin_dir}{os.pathsep}{os.environ['PATH']}"
        rounds = [one_round(engine, Path(tmp), index) for index in range(options.repeat)]
    print(f"\ndocker compose hooks, {options.repeat} rounds (seconds; median, min-max)\n")
    print("| step | median | range |\n| --- | --- | --- |")
    for step in rounds[0]:
        values = [round_[step] for round_ in rounds]
        print(f"| {step} | {statistics.median(values):.2f} | {min(values):.2f}-{max(values):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
