"""``local destroy`` mirrors AWS for a bucket that is not empty, and a summary shows this project's stacks only.

AWS refuses to delete a bucket holding objects and leaves its stack DELETE_FAILED; moto deletes the stack and
keeps the bucket without a word. The destroy must fail naming the bucket. Two projects deployed to one
stand-in: each summary lists its own stacks and counts the others.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from runway_ext.local.moto_server import DUMMY_CREDENTIALS
from tests.local.tiny_project import fake_serve, run_cli, tiny_project


@pytest.mark.runway
def test_destroy_of_a_non_empty_bucket_fails_naming_it_and_summaries_show_their_own_stacks(tmp_path: Path) -> None:
    alpha = tiny_project(tmp_path / "alpha", namespace="alpha")
    beta = tiny_project(tmp_path / "beta", namespace="beta")
    with fake_serve() as serve:
        for project in (alpha, beta):
            code, stdout, output = run_cli(["local", "deploy", str(project), "--docker", "off", "--endpoint", serve.endpoint], tmp_path)
            assert code == 0, output
        summary = stdout[stdout.index("runway-ext local deploy:") :]
        stacks = summary.split("stacks:\n", 1)[1].split("hooks:\n", 1)[0]
        assert "  beta-store: CREATE_COMPLETE" in stacks and "alpha-store" not in stacks, summary
        assert "(1 stack of other projects on this stand-in not shown)" in stacks

        s3 = boto3.client(
            "s3",
            endpoint_url=serve.endpoint,
            region_name="us-east-1",
            **{k.lower(): v for k, v in DUMMY_CREDENTIALS.items() if k != "AWS_DEFAULT_REGION"},
        )
        bucket = next(name["Name"] for name in s3.list_buckets()["Buckets"] if name["Name"].startswith("beta-store"))
        s3.put_object(Bucket=bucket, Key="left.txt", Body=b"still here")

        code, stdout, output = run_cli(["local", "destroy", str(beta), "--docker", "off", "--endpoint", serve.endpoint], tmp_path)
        assert code == 1, output
        summary = stdout[stdout.index("runway-ext local destroy:") :].splitlines()
        assert summary[0].startswith("runway-ext local destroy: FAILED")
        assert summary[1].startswith(
            f"failed: stack beta-store: bucket {bucket} is not empty, so AWS would fail the delete (DELETE_FAILED)"
        ), summary
        assert bucket in [item["Name"] for item in s3.list_buckets()["Buckets"]]

        code, _, output = run_cli(["local", "destroy", str(alpha), "--docker", "off", "--endpoint", serve.endpoint], tmp_path)
        assert code == 0, output
