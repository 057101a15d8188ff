"""How long the sam_deploy hook takes with the real ``sam`` against a moto server on loopback.

Run: ``python benchmarks/sam_deploy.py [--repeat 3] [--sam PATH]``.
Times, for the tiny Python app of the tests (``tests/fixtures/sam_app``): ``sam --version``
(start-up), ``sam build`` alone, the hook's first deploy (``skip_build``, after that build), an
unchanged rerun (``skip_build``: skipped, no sam process), the same forced (what the hook did
before the skip: ``sam deploy`` finding no changes), plain ``sam deploy`` finding no changes, an
unchanged rerun with build (skipped) and forced (``sam build`` + ``sam deploy``), a one-line code
change (hook) against plain ``sam build && sam deploy``, and the delete hook.
Prints the median and the range over the repeats. moto answers at once, so this measures sam
and the hook, not CloudFormation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from runway_ext.hooks.sam_deploy import cfngin_delete_hook, cfngin_hook
from runway_ext.hooks.sam_deploy.commands import app_dir_metadata
from runway_ext.local.moto_server import moto_server, patched_environ

REPO = Path(__file__).resolve().parents[1]
FIXTURE_APP = REPO / "tests" / "fixtures" / "sam_app"
BUCKET = "sam-artifacts"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    outcome = action()
    if outcome is False:
        raise SystemExit("a step failed; see the log above")
    return time.perf_counter() - started


def one_round(sam: str, work: Path, index: int) -> dict[str, float]:
    app = work / f"app-{index}"
    shutil.copytree(FIXTURE_APP, app)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("python3.11", f"python{sys.version_info.major}.{sys.version_info.minor}"))
    app_dir = work / "sam-app-dir"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "metadata.json").write_text(json.dumps(app_dir_metadata(time.time())))
    sam_env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "__SAM_CLI_APP_DIR": str(app_dir)}
    stack = f"bench-{index}"
    common = {"stack_name": stack, "sam_executable": sam, "s3_bucket": BUCKET, "template_file": str(template)}
    built = {**common, "template_file": str(app / ".aws-sam" / "build" / "template.yaml"), "skip_build": True}
    parameters = {"parameters": {"Environment": "dev", "BucketName": f"bench-data-{index}", "Greeting": "hi", "ApiToken": "none"}}

    def run(argv: list[str]) -> None:
        subprocess.run(argv, cwd=app, env=sam_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    overrides = [f"{key}={value}" for key, value in parameters["parameters"].items()]
    plain_deploy = [sam, "deploy", "--template-file", str(app / ".aws-sam" / "build" / "template.yaml"), "--stack-name", stack]
    plain_deploy += ["--s3-bucket", BUCKET, "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--capabilities", "CAPABILITY_IAM"]
    plain_deploy += ["--parameter-overrides", *overrides]

    def code_change() -> None:
        source = app / "src" / "app.py"
        source.write_text(source.read_text() + f"\n# change {time.time_ns()}\n")

    times = {
        "sam --version": timed(lambda: run([sam, "--version"])),
        "sam build": timed(lambda: run([sam, "build", "--template-file", str(template)])),
        "deploy, first (skip_build)": timed(lambda: cfngin_hook(None, None, **built, **parameters)),
        "no change: hook (skip_build)": timed(lambda: cfngin_hook(None, None, **built, **parameters)),
        "no change: hook forced (skip_build)": timed(lambda: cfngin_hook(None, None, **built, **parameters, force=True)),
        "no change: plain sam deploy": timed(lambda: run(plain_deploy)),
        "deploy with build (records these inputs)": timed(lambda: cfngin_hook(None, None, **common, **parameters)),
        "no change: hook (with build)": timed(lambda: cfngin_hook(None, None, **common, **parameters)),
        "no change: hook forced (with build)": timed(lambda: cfngin_hook(None, None, **common, **parameters, force=True)),
    }
    code_change()
    times["one-line change: hook (with build)"] = timed(lambda: cfngin_hook(None, None, **common, **parameters))
    code_change()
    times["one-line change: plain sam build + deploy"] = timed(
        lambda: (run([sam, "build", "--template-file", str(template)]), run(plain_deploy))
    )
    times["delete"] = timed(lambda: cfngin_delete_hook(None, None, stack_name=stack, sam_executable=sam))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sam", default=shutil.which("sam") or str(REPO / ".venv-sam" / "bin" / "sam"))
    options = parser.parse_args()
    if not Path(options.sam).is_file():
        raise SystemExit("sam not found: install aws-sam-cli (e.g. into .venv-sam/) or pass --sam PATH")
    rounds: list[dict[str, float]] = []
    with moto_server() as server, patched_environ(server.environment()), tempfile.TemporaryDirectory() as scratch:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        for index in range(options.repeat):
            rounds.append(one_round(options.sam, Path(scratch), index))
    print(f"sam_deploy hook against moto, {options.repeat} round(s), {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}")
    print("| step | median s | min s | max s |")
    print("| --- | ---: | ---: | ---: |")
    for step in rounds[0]:
        values = [item[step] for item in rounds]
        print(f"| {step} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
