"""``runway-ext local env``: ``eval "$(runway-ext local env)"`` points a shell's AWS clients at the running serve.

A real bash evaluates the exports; a real boto3 client in that shell then writes to the serve's stand-in (and
nowhere else: a profile the caller had set is unset).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3

from runway_ext.local.moto_server import DUMMY_CREDENTIALS, free_port
from tests.local.tiny_project import RUNWAY_EXT, cli_environment, fake_serve, run_cli

CREATE_BUCKET = "import boto3; boto3.client('s3').create_bucket(Bucket='from-the-shell'); print(boto3.Session().profile_name)"


def test_eval_of_local_env_sends_a_shells_clients_to_the_serve(tmp_path: Path) -> None:
    with fake_serve() as serve:
        script = f'eval "$({RUNWAY_EXT} local env --endpoint http://localhost:{serve.port})" && {sys.executable} -c "{CREATE_BUCKET}"'
        done = subprocess.run(
            ["bash", "-c", script], env={**cli_environment(), "AWS_PROFILE": "real-account"}, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "default"  # AWS_PROFILE was unset
        s3 = boto3.client(
            "s3",
            endpoint_url=serve.endpoint,
            region_name="us-east-1",
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        assert "from-the-shell" in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
        code, stdout, output = run_cli(["local", "env"], tmp_path)
        lines = stdout.splitlines()
        if code == 0:  # the only serve of this user: found without --port
            assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{serve.port}" in lines
            assert f"export AWS_ENDPOINT_URL_S3=http://localhost:{serve.port}" in lines
            assert lines[-1].startswith("unset AWS_PROFILE ")
        else:  # another serve of this user runs on this machine: the error names the ports
            assert "several `runway-ext local serve` run" in output


def test_local_env_without_a_serve_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(
        [RUNWAY_EXT, "local", "env", "--port", str(port)], env=cli_environment(), capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: endpoint: no `runway-ext local serve` runs at http://127.0.0.1:{port}; start one with `runway-ext local serve --port {port}`"
    ]
    assert os.environ.get("AWS_ENDPOINT_URL") != f"http://127.0.0.1:{port}"
