"""Small Runway projects written into a temporary folder, for local-mode tests that need seconds, not minutes.

:func:`tiny_project` writes a project with one CFNgin module holding one stack (an S3 bucket whose name is an
Output) and the hooks given as YAML text, so a test states exactly what its run does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
