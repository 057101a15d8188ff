"""Side by side on one Docker engine: an unchanged redeploy with the docker_build_push hook vs always building.

Usage (from the repository root, as root, after ``bash .ci/docker-install.sh``)::

    python benchmarks/docker_skip.py [--files 300] [--repeat 3]

What it does:

1. starts a private dockerd + registry (:mod:`tests.support.docker_engine`; nothing is pulled,
   the base image is imported locally) and a moto server on 127.0.0.1 for the ECR API;
2. writes a service: ``--files`` source files (~10 KB each) and a Dockerfile that copies them and
   does some work in a ``RUN`` step (checksums and a tarball of the sources);
3. deploys it three ways, each into its own repository of the local registry:

   * **runway-ext** — ``runway_ext.hooks.docker_build_push`` (BuildKit via ``docker buildx``, the
     content-hash check against the ECR API first; the ECR API records each pushed image);
   * **runway-ext --force** — the same hook made to build and push every time;
   * **runway** — Runway's own ``runway.cfngin.hooks.docker.image.build`` then ``…image.push``
     (docker-py: the classic builder, no skip), called with a real ``CfnginContext``;

   then times, for each: the first deploy; unchanged redeploys with the engine's build cache kept
   (a developer machine); unchanged redeploys with the build cache and the built images removed
   before each one (a fresh CI runner: ``docker builder prune -af`` and the image tags removed — the
   imported base image stays);
4. checks that every deploy left the image in the registry (docker-py's push does not raise on a
   failed push, so the registry is asked) and prints a Markdown table.

All calls run in this one interpreter (warm), as they do inside a Runway deploy.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: its tests.support holds the private Docker engine

from runway_ext.hooks.docker_build_push.registry import RegistryClient, RegistryError  # noqa: E402
from runway_ext.local.moto_server import moto_server  # noqa: E402
from tests.support.docker_engine import DockerEngine, engine_unavailable_reason  # noqa: E402

DOCKERFILE = """\
FROM {base}
COPY . /app
RUN find /app -type f -exec sha256sum {{}} + | sort > /checksums && tar -czf /app.tgz -C /app . && rm -rf /tmp/*
CMD ["sh", "-c", "wc -l /checksums"]
"""


@dataclass
class Row:
    approach: str
    first: float
    warm: list[float]
    cold: list[float]
    built_on_redeploy: str


def write_service(root: Path, files: int) -> Path:
    """A service folder: ``files`` deterministic sources of ~10 KB and a .dockerignore (the Dockerfile goes at its root).

    At the root because Runway 2.8's ``image.build`` validates its ``dockerfile`` arg but never passes
    it to docker-py, which then always looks for ``Dockerfile`` in the context.
    """
    rng = random.Random(7)
    for index in range(files):
        path = root / "src" / f"pkg{index % 20:02d}" / f"module{index:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(rng.choice("abcdefghij\n") for _ in range(10_000)))
    (root / ".dockerignore").write_text("*.md\n")
    (root / "README.md").write_text("not in the image\n")
    return root


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def registry_digest(registry: str, repository: str, tag: str) -> str:
    try:
        return RegistryClient(registry).get_manifest(repository, tag).digest
    except RegistryError as error:
        raise SystemExit(f"benchmark broken: {repository}:{tag} is not in the registry after a deploy ({error})") from None


def drop_build_cache(engine: DockerEngine, repository: str) -> None:
    """Make the engine look like a fresh CI runner for this image: no build cache, no built image."""
    engine.run_docker("builder", "prune", "-af")
    listing = engine.run_docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", f"{engine.registry}/{repository}").stdout.split()
    if listing:
        engine.run_docker("image", "rm", "-f", *listing)
    engine.run_docker("image", "prune", "-f")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="source files in the build context (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="unchanged redeploys per case (default 3)")
    options = parser.parse_args(argv)
    reason = engine_unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    for name in ("runway", "runway_ext", "botocore", "urllib3", "docker"):
        logging.getLogger(name).setLevel(logging.WARNING)

    workdir = Path(tempfile.mkdtemp(prefix="rwx-docker-bench-"))
    try:
        with DockerEngine(workdir / "engine") as engine, moto_server() as moto:
            os.environ.update(engine.env())
            os.environ.update(moto.environment())
            for name in ("DOCKER_CONTEXT", "AWS_PROFILE"):
                os.environ.pop(name, None)
            service = write_service(workdir / "service", options.files)
            (service / "Dockerfile").write_text(DOCKERFILE.format(base=engine.base_image))
            rows = [
                bench_hook(engine, service, options.repeat, force=False),
                bench_hook(engine, service, options.repeat, force=True),
                bench_runway(engine, service, workdir, options.repeat),
            ]
            context_bytes = sum(path.stat().st_size for path in service.rglob("*") if path.is_file())
            print_table(rows, options.files, context_bytes, engine)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def bench_hook(engine: DockerEngine, service: Path, repeat: int, *, force: bool) -> Row:
    from runway_ext.hooks.docker_build_push import cfngin_hook

    repository = "bench-hook-force" if force else "bench-hook"

    def deploy() -> dict:
        result = cfngin_hook(
            None, None, repository_name=repository, image_tag="v1", dockerfile_path="Dockerfile",
            working_directory=str(service), registry=engine.registry, force=force,
        )
        if not result:
            raise SystemExit(f"benchmark broken: the hook failed for {repository}")
        if registry_digest(engine.registry, repository, "v1") != result["digest"]:
            raise SystemExit("benchmark broken: registry and hook disagree on the digest")
        return result

    first, _ = timed(deploy)
    warm, built = [], set()
    for _ in range(repeat):
        seconds, result = timed(deploy)
        warm.append(seconds)
        built.add(result["built"])  # type: ignore[index]
    cold = []
    for _ in range(repeat):
        drop_build_cache(engine, repository)
        seconds, result = timed(deploy)
        cold.append(seconds)
        built.add(result["built"])  # type: ignore[index]
    return Row("runway-ext --force" if force else "runway-ext", first, warm, cold, "yes" if built == {True} else "no" if built == {False} else "mixed")


def bench_runway(engine: DockerEngine, service: Path, workdir: Path, repeat: int) -> Row:
    from runway.cfngin.hooks.docker.image import build, push
    from runway.context import CfnginContext

    repository = "bench-runway"
    repo = f"{engine.registry}/{repository}"
    module = workdir / "module"
    module.mkdir(exist_ok=True)
    context = CfnginContext(config_path=module / "config.yml")

    def deploy() -> None:
        build(context=context, path=str(service), repo=repo, tags=["v1"])
        push(context=context, repo=repo, tags=["v1"])
        registry_digest(engine.registry, repository, "v1")

    first, _ = timed(deploy)
    warm = [timed(deploy)[0] for _ in range(repeat)]
    cold = []
    for _ in range(repeat):
        drop_build_cache(engine, repository)
        cold.append(timed(deploy)[0])
    return Row("runway (docker.image.build + push)", first, warm, cold, "yes")


def print_table(rows: list[Row], files: int, context_bytes: int, engine: DockerEngine) -> None:
    client = engine.run_docker("version", "--format", "{{.Client.Version}} / {{.Server.Version}}").stdout.strip()
    buildx = engine.run_docker("buildx", "version", check=False).stdout.split()
    print(f"docker {client}, buildx {buildx[1] if len(buildx) > 1 else 'n/a'}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; context {files} files, {context_bytes / 1e6:.1f} MB")
    print()
    print("| approach | first deploy (s) | unchanged redeploy, build cache kept (s) | unchanged redeploy, fresh runner (s) | built on redeploy |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        print(f"| {row.approach} | {row.first:.2f} | {_spread(row.warm)} | {_spread(row.cold)} | {row.built_on_redeploy} |")


def _spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    sys.exit(main())
