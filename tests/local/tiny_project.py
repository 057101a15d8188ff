"""Small Runway projects written into a temporary folder, for local-mode tests that need seconds, not minutes.

:func:`tiny_project` writes a project with one CFNgin module holding one stack (an S3 bucket whose name is an
Output) and the hooks given as YAML text, so a test states exactly what its run does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runway_ext.local.moto_server import MotoServer
from runway_ext.local.serve_session import remove_session, write_session

RUNWAY_EXT = str(Path(sys.executable).parent / "runway-ext")

BUCKET_TEMPLATE = """Resources:
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  BucketName:
    Value: {Ref: Bucket}
"""


def tiny_project(folder: Path, *, hooks: str = "", template: str = BUCKET_TEMPLATE, namespace: str = "tiny") -> Path:
    """A Runway project in ``folder``: module ``app.cfn`` with stack ``store`` and ``hooks`` (YAML, top level)."""
    module = folder / "app.cfn"
    (module / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "runway.yml").write_text(
        "deployments:\n"
        f"  - name: {namespace}\n"
        "    modules:\n"
        "      - path: app.cfn\n"
        "        parameters:\n"
        "          suffix: dev\n"
        "    regions:\n"
        "      - us-east-1\n",
        encoding="utf-8",
    )
    (module / "templates" / "store.yaml").write_text(template, encoding="utf-8")
    (module / "config.yml").write_text(
        f'namespace: {namespace}\ncfngin_bucket: ""\nstacks:\n  - name: store\n    template_path: templates/store.yaml\n{hooks}',
        encoding="utf-8",
    )
    return folder


def cli_environment() -> dict[str, str]:
    """The caller's environment without AWS or runway_ext settings (as a user's shell would be)."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "RUNWAY_EXT_"))}


@contextmanager
def fake_serve() -> Iterator[MotoServer]:
    """A moto server with the session file a ``runway-ext local serve`` writes (this process's pid: alive).

    That file is all a deploy reads from a ``serve``; there is no edge and no registry behind it.
    """
    server = MotoServer().start()
    server.reset()  # moto's state lives in this process, shared by every server it runs: start empty
    write_session(server.port, {"endpoint": server.endpoint, "registry": None, "sites": {}, "invalidations_applied": {}})
    try:
        yield server
    finally:
        remove_session(server.port)
        server.stop()


def run_cli(args: list[str], cwd: Path, *, timeout: float = 300) -> tuple[int, str, str]:
    """``runway-ext ARGS`` as a user's shell runs it: (exit code, stdout, stdout + stderr)."""
    done = subprocess.run(
        [RUNWAY_EXT, *args], cwd=cwd, env=cli_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stdout, done.stdout + done.stderr
