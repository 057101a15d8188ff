"""Reading a large .env file: the ${dotenv} reader against python-dotenv's own expansion.

Run: ``python benchmarks/dotenv_lookup.py [--lines 40000] [--repeat 3] [--no-dotenv-expansion]``.
Writes a generated file (every tenth line refers to an earlier key) into a temporary folder and
prints, per reader, the best wall-clock time of ``--repeat`` runs and whether its answer equals
python-dotenv's with an empty environment. python-dotenv's expansion copies the process environment
and every value read so far for every line, so its time grows with the square of the file's length;
``--no-dotenv-expansion`` skips it.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from dotenv import dotenv_values

from runway_ext.core.dotenv_file import read_dotenv


def generated_file(lines: int) -> str:
    """A .env text of ``lines`` assignments; every tenth expands the one before it."""
    rows = []
    for n in range(lines):
        rows.append(f"KEY_{n}=${{KEY_{n - 1}:-start}}/{n}\n" if n % 10 == 9 else f'KEY_{n}="value number {n}"\n')
    return "".join(rows)


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, answer = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        best = min(best, time.perf_counter() - started)
    return best, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dotenv-expansion", action="store_true", help="skip python-dotenv with interpolate=True")
    options = parser.parse_args()
    text = generated_file(options.lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.env"
        path.write_text(text, encoding="utf-8")
        with mock.patch.dict(os.environ, {}, clear=True):
            expected = dict(dotenv_values(stream=io.StringIO(text)))
        print(f"file: {options.lines} lines, {path.stat().st_size / 1e6:.1f} MB; environment: {len(os.environ)} variables")
        print(f"| reader | seconds (best of {options.repeat}) | answer equals python-dotenv's (empty environment) |")
        print("| --- | ---: | --- |")
        readers: list[tuple[str, Callable[[], Any]]] = [
            ("runway_ext read_dotenv (file-only expansion)", lambda: read_dotenv(path)),
            ("runway_ext read_dotenv, expand_environment", lambda: read_dotenv(path, environment=os.environ)),
            ("python-dotenv, interpolate=False", lambda: dict(dotenv_values(path, encoding="utf-8", interpolate=False))),
        ]
        if not options.no_dotenv_expansion:
            readers.append(("python-dotenv, interpolate=True", lambda: dict(dotenv_values(path, encoding="utf-8"))))
        for name, run in readers:
            seconds, answer = best_of(options.repeat, run)
            print(f"| {name} | {seconds:.2f} | {'yes' if answer == expected else 'no'} |")


if __name__ == "__main__":
    main()
