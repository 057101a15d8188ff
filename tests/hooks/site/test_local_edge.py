"""Roll back on the local edge: the old page comes back after the rollback's invalidation, and releases are never served.

The stack is the local edge's test distribution (``tests/local/test_edge.py``: bucket + OAC + function + cache
policy, OriginPath ``/site``) with a versioned bucket and the CDN blueprint's statement denying the
distribution the tool's files under ``.runway-ext/``. Real parts: moto's CloudFormation, S3 and CloudFront,
the npm_build hook, the edge fleet serving over HTTP.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import boto3

from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.local.edge_fleet import EdgeFleet
from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_invalidations import install_invalidation_delay
from tests.local.test_edge import BUCKET, TEMPLATE, get

CACHED_PAGES = [{"pattern": "*.html", "cache_control": "public, max-age=600"}]


def template() -> dict[str, Any]:
    """The edge test stack, versioned, with the blueprint's DenyToolFilesToTheDistribution statement."""
    stack = copy.deepcopy(TEMPLATE)
    stack["Resources"]["Bucket"]["Properties"]["VersioningConfiguration"] = {"Status": "Enabled"}
    stack["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {
            "Sid": "DenyToolFilesToTheDistribution",
            "Effect": "Deny",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": [f"arn:aws:s3:::{BUCKET}/.runway-ext/*", f"arn:aws:s3:::{BUCKET}/*/.runway-ext/*"],
        }
    )
    return stack


def deploy(tmp_path: Path, home: bytes) -> None:
    out = tmp_path / "app" / "out"
    shutil.rmtree(out, ignore_errors=True)
    (out / "about").mkdir(parents=True)
    (out / "index.html").write_bytes(home)
    (out / "about" / "index.html").write_bytes(b"<h1>about</h1>")
    (out / "404.html").write_bytes(b"<h1>not here</h1>")
    assert build_and_sync_app(
        None,
        None,
        bucket_name=BUCKET,
        app_path=str(out.parent),
        build=False,
        output_dir="out",
        delete=True,
        prefix="site/",
        cache_rules=CACHED_PAGES,
    )


def test_roll_back_and_see_the_old_page_after_the_invalidation(aws: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path / "cache"))
    install()
    install_invalidation_delay(0)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="edge", TemplateBody=json.dumps(template()))
    distribution_id = cloudformation.describe_stacks(StackName="edge")["Stacks"][0]["Outputs"][0]["OutputValue"]
    deploy(tmp_path, b"<h1>good v1</h1>")
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        site = fleet.sites()[distribution_id]
        assert get(site)[2] == b"<h1>good v1</h1>"
        deploy(tmp_path, b"<h1>broken v2</h1>")
        fleet.poll_once()  # the deploy invalidated nothing: the edge still serves its cached v1
        assert get(site)[2] == b"<h1>good v1</h1>"
        boto3.client("cloudfront").create_invalidation(
            DistributionId=distribution_id, InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "v2"}
        )
        fleet.poll_once()
        assert get(site)[2] == b"<h1>broken v2</h1>"

        result = rollback_hook(None, None, bucket=BUCKET, prefix="site/", steps=1, distribution_id=distribution_id)
        assert result and result["invalidation_paths"] == ["/", "/index.html"]  # viewer paths: the OriginPath /site is not in them
        assert get(site)[2] == b"<h1>broken v2</h1>"  # cached until the invalidation is applied
        fleet.poll_once()
        assert get(site)[2] == b"<h1>good v1</h1>"
        for path in (".runway-ext/releases/index.json", ".runway-ext/releases/r1.json", ".runway-ext/site-manifest.json"):
            status, _, body = get(site + path)
            assert status != 200 and b"release" not in body, path
    finally:
        fleet.stop()
        install_invalidation_delay(0)  # the rest of the session: invalidations complete at once, as in plain moto
