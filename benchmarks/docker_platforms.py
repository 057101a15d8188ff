"""Two-platform image (linux/amd64 + linux/arm64, one index) vs two one-platform images, and the no-change rerun.

Usage (from the repository root, as root, after ``bash .ci/docker-install.sh`` and
``bash .ci/multiarch-install.sh``)::

    python benchmarks/docker_platforms.py [--files 100] [--repeat 3]

What it does:

1. starts a private dockerd + registry (:mod:`tests.support.docker_engine`; nothing is pulled) with its
   two-platform busybox base, and a moto server on 127.0.0.1 for the ECR API;
2. writes a service: ``--files`` sources (~10 KB each) and a Dockerfile whose ``RUN`` step checksums
   and tars them — under QEMU for arm64;
3. times, each in a fresh repository, cold (build cache pruned before each run):

   * **two one-platform images** — the docker_build_push hook run twice, ``platform: linux/amd64`` then
     ``platform: linux/arm64`` (two tags, no index: what a project without ``platforms`` does);
   * **one two-platform index** — the hook with ``platforms: [linux/amd64, linux/arm64]``;

   then the **no-change rerun** of the index (nothing built, pushed or joined) ``--repeat`` times;
4. prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: its tests.support holds the private Docker engine

from runway_ext.hooks.docker_build_push import cfngin_hook  # noqa: E402
from runway_ext.local.moto_server import moto_server  # noqa: E402
from tests.support.docker_engine import DockerEngine, engine_unavailable_reason, multiarch_unavailable_reason  # noqa: E402

DOCKERFILE = """\
FROM {base}
COPY . /app
RUN find /app -type f -exec sha256sum {{}} + | sort > /checksums && tar -czf /app.tgz -C /app . && uname -m > /arch
CMD ["cat", "/arch"]
"""


def write_service(root: Path, files: int, base: str) -> Path:
    rng = random.Random(7)
    for index in range(files):
        path = root / "src" / f"module{index:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(rng.choice("abcdefghij\n") for _ in range(10_000)))
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    return root


def run(engine: DockerEngine, service: Path, repository: str, **args: object) -> tuple[float, dict]:
    started = time.perf_counter()
    result = cfngin_hook(None, None, repository_name=repository, working_directory=str(service), registry=engine.registry, **args)
    elapsed = time.perf_counter() - started
    if not result:
        raise SystemExit(f"benchmark broken: the hook failed for {repository} {args}")
    return elapsed, result


def cold(engine: DockerEngine) -> None:
    engine.run_docker("builder", "prune", "-af")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100, help="source files in the build context (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="cold runs of each case, and no-change reruns (default 3)")
    options = parser.parse_args(argv)
    reason = engine_unavailable_reason() or multiarch_unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    for name in ("runway", "runway_ext", "botocore", "urllib3", "docker"):
        logging.getLogger(name).setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="rwx-platforms-bench-"))
    try:
        with DockerEngine(workdir / "engine") as engine, moto_server() as moto:
            os.environ.update(engine.env())
            os.environ.update(moto.environment())
            service = write_service(workdir / "service", options.files, engine.multiarch_base_image())
            singles, indexes, reruns = [], [], []
            for _ in range(options.repeat):
                repository = f"bench-{uuid.uuid4().hex[:8]}"
                cold(engine)
                amd64, _ = run(engine, service, repository, image_tag="amd64", platform="linux/amd64")
                arm64, _ = run(engine, service, repository, image_tag="arm64", platform="linux/arm64")
                singles.append(amd64 + arm64)
                cold(engine)
                elapsed, result = run(engine, service, f"{repository}-index", image_tag="v1", platforms=["linux/amd64", "linux/arm64"])
                indexes.append(elapsed)
            for _ in range(options.repeat):
                elapsed, again = run(engine, service, f"{repository}-index", image_tag="v1", platforms=["linux/amd64", "linux/arm64"])
                if not again["skipped"] or again["digest"] != result["digest"]:
                    raise SystemExit("benchmark broken: the no-change rerun did not skip")
                reruns.append(elapsed)
            print(f"\n{options.files} files x 10 KB, {platform.machine()} host, {os.cpu_count()} cores, arm64 RUN under QEMU\n")
            print("| case | median s | runs |")
            print("|---|---:|---|")
            for name, values in (
                ("two one-platform images (amd64 build+push, then arm64 build+push)", singles),
                ("one two-platform index (both builds, both pushes, imagetools create, ECR record)", indexes),
                ("no-change rerun of the index (nothing built, pushed or joined)", reruns),
            ):
                print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{value:.2f}' for value in values)} |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
