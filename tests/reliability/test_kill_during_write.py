"""SIGKILL while the env file generator writes: afterwards the file is the old or the new version, never partial.

The generator runs as a real subprocess (``python -m runway_ext.hooks.env_file_generator --overwrite``)
with a large payload and is killed 50 times: every other kill lands at a spread-out moment of its
whole run time (before, during or after the write), the others right after its temporary file
appears (during the write itself). Only unfinished temporary files may be left beside the file.

A killed static-site deploy is not a local file write and is tested where it lives: the site manifest
is marked ``syncing`` before the first upload and ``complete`` only after the last
(``tests/reliability/test_aws_faults.py``), and a deploy SIGKILLed mid-sync then rolled back ends
exact (``tests/hooks/npm_build/test_exactness.py``).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dotenv import dotenv_values

MODULE = "runway_ext.hooks.env_file_generator"
ITERATIONS = 50
VALUE_SIZE = 100_000
VARIABLES = 4


def variant(generation: int) -> dict[str, str]:
    """A payload of about 400 kB whose every value tells which generation wrote it."""
    return {f"VALUE_{index}": f"gen{generation}-" + chr(ord("a") + generation % 26) * VALUE_SIZE for index in range(VARIABLES)}


def command(output: Path, variables: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", MODULE, "--output-file", str(output), "--overwrite", "--no-create-backup",
            "--variables", *(f"{name}={value}" for name, value in variables.items())]


def start(output: Path, variables: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command(output, variables), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_temporary_file(folder: Path, process: subprocess.Popen[bytes], before: set[str], limit: float = 30.0) -> None:
    """Return once the generator has created a new temporary file (or ended), bounded by ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if any(path.name.endswith(".tmp") and path.name not in before for path in folder.iterdir()):
            return
        time.sleep(0.0005)


def test_sigkill_at_any_moment_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    output = tmp_path / "app" / ".env"
    generations = {0: variant(0), 1: variant(1)}
    assert subprocess.run(command(output, generations[0]), capture_output=True, check=False, timeout=60).returncode == 0
    started = time.monotonic()
    assert subprocess.run(command(output, generations[1]), capture_output=True, check=False, timeout=60).returncode == 0
    full_run = time.monotonic() - started
    on_disk = 1

    rng = random.Random(20261123)  # fixed: the same kill moments on every run
    outcomes = {"old": 0, "new": 0}
    for iteration in range(ITERATIONS):
        target = 1 - on_disk
        before = {path.name for path in output.parent.iterdir()}
        process = start(output, generations[target])
        if iteration % 2:
            # aim at the write itself: wait for the temporary file, then kill within the next few ms
            wait_for_temporary_file(output.parent, process, before)
            time.sleep(rng.uniform(0, 0.03))
        else:
            time.sleep(full_run * (iteration / ITERATIONS) * 1.2 + rng.uniform(0, 0.02))
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = dotenv_values(output)
        if found == generations[on_disk]:
            outcomes["old"] += 1
        else:
            assert found == generations[target], f"iteration {iteration}: partial file ({len(output.read_bytes())} bytes)"
            outcomes["new"] += 1
            on_disk = target
        assert (output.stat().st_mode & 0o777) == 0o600

    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes  # kills landed both before and after the replace
    leftovers = [path.name for path in output.parent.iterdir() if path.name != output.name]
    assert all(name.startswith(f".{output.name}.") and name.endswith(".tmp") for name in leftovers), leftovers  # only unfinished temp files
    # the next, undisturbed run works and writes the new version
    final = variant(2)
    assert subprocess.run(command(output, final), capture_output=True, check=False, timeout=60).returncode == 0
    assert dotenv_values(output) == final
    print(f"full run {full_run:.2f}s; SIGKILL x{ITERATIONS}: old {outcomes['old']}, new {outcomes['new']}, partial 0, temp files left {len(leftovers)}")
