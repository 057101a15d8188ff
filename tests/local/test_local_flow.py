"""The documented flow, end to end, as a user runs it: serve → deploy → edit → deploy → no-change deploy → destroy → destroy.

On a copy of sample-project/ outside the repository, with Docker on (the test session's engine handed over
through DOCKER_HOST, as a user's own engine would be), the real sam CLI, npm and runway, every command run as
the ``runway-ext`` CLI a user types. ``serve`` owns the stand-in, the local registry and the local edge; the
deploys find them through the serve session. Debian's headless chromium looks at the site the edge serves:
``/``, ``/about/``, a missing page, CSS and JS loaded, a screenshot that is not blank. The sample deploys atomic
releases: after an edit, the reload right after the deploy shows the new release (``x-runway-ext-release``
names it), the assets the old release's pages load are still served, and no invalidation is ever created
(serve keeps invalidations in progress for a few seconds, so one would show). Set
``RUNWAY_EXT_UPDATE_SCREENSHOT=1`` to refresh docs/images/local-edge.png from this run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from runway_ext.local.serve_session import session_file
from tests.support.browser import distinct_colours, look
from tests.support.cli_process import RUNWAY_EXT, LocalServe
from tests.support.host_state import host_network_state

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample-project"
SCREENSHOT = REPO / "docs" / "images" / "local-edge.png"
INVALIDATION_SECONDS = 4

pytestmark = [pytest.mark.runway, pytest.mark.docker, pytest.mark.sam]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A plain GET without proxies: (status, headers, body); HTTP errors are answers too."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def registry_digest(registry: str, repository: str, tag: str) -> str:
    accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": accept})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def header(headers: dict[str, str], name: str) -> str | None:
    """One response header, whatever its letter case."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def invalidation_count(cloudfront: Any, distribution_id: str) -> int:
    return len(cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items") or [])


def hook_line(summary: str, hook: str) -> dict[str, str]:
    """The ``key=value`` figures of one hook's summary line (the last one of that hook)."""
    lines = [line for line in summary.splitlines() if line.startswith(f"  {hook}: ")]
    assert lines, f"no {hook} line in:\n{summary}"
    assert "FAILED" not in lines[-1], lines[-1]
    return dict(re.findall(r"(\w+)=([^,]*)", lines[-1]))


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [RUNWAY_EXT, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_documented_flow_serve_deploy_edit_redeploy_destroy_twice(tmp_path: Path, page: Page, docker_env, sam: str) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "my-site"
    shutil.copytree(
        SAMPLE, project, ignore=shutil.ignore_patterns("node_modules", "out", ".env.local", ".runway", ".aws-sam", "__pycache__")
    )
    assert REPO not in project.parents
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_") and name != "RUNWAY_EXT_REGISTRY"}
    env.update(RUNWAY_EXT_BASE_IMAGE=docker_env.base_image, PATH=f"{Path(sam).parent}{os.pathsep}{os.environ['PATH']}")
    host_before = host_network_state()
    serve = LocalServe("--invalidation-seconds", str(INVALIDATION_SECONDS), env=env, cwd=tmp_path)
    try:
        session = json.loads(session_file(serve.port).read_text())
        registry = session["registry"]
        assert registry and registry.startswith("127.0.0.1:") and registry != docker_env.registry, serve.lines
        deploy = ["local", "deploy", str(project), "--endpoint", serve.endpoint]
        aws = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        cloudfront = aws.client("cloudfront", endpoint_url=serve.endpoint)
        s3 = aws.client("s3", endpoint_url=serve.endpoint)

        # 1. first deploy: the summary names the site's local URL; the edge serves it as CloudFront would
        code, first = run_cli(deploy, env, tmp_path)
        assert code == 0, first
        assert "started empty for this run" not in first  # state lives in serve
        image = hook_line(first, "docker_build_push")
        assert image["skipped"] == "false" and image["digest"].startswith("sha256:")
        assert registry_digest(registry, "sample-dev-service", "dev") == image["digest"]
        stacks = {
            stack["StackName"]: stack for stack in aws.client("cloudformation", endpoint_url=serve.endpoint).describe_stacks()["Stacks"]
        }
        assert set(stacks) == {f"sample-dev-{name}" for name in ("registry", "site", "artifacts", "service", "api")}
        assert {stack["StackStatus"] for stack in stacks.values()} == {"CREATE_COMPLETE"}
        service = {item["OutputKey"]: item["OutputValue"] for item in stacks["sample-dev-service"]["Outputs"]}
        assert service["ImageUri"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sample-dev-service@{image['digest']}"
        (site_line,) = [line for line in first.split("sites:\n", 1)[1].splitlines() if "http://127.0.0.1:" in line]
        distribution_id = site_line.split()[0]
        site = re.search(r"http://127\.0\.0\.1:\d+/", site_line).group(0)  # type: ignore[union-attr]
        home = look(page, site, screenshot=True)
        assert home.status == 200 and "Home" in home.html
        assert home.failed == [] and home.errors == [] and all(seen.status < 400 for seen in home.responses), home.responses
        urls = [seen.url for seen in home.responses]
        assert any("/_next/static/css/" in url for url in urls) and any("/_next/static/chunks/" in url for url in urls)
        expect(page.locator("body")).to_have_css("max-width", "640px")  # site.css applied (max-width: 40rem)
        # site.js ran: it sets body[data-api] to NEXT_PUBLIC_API_URL, which the sample leaves unset (no attribute in the HTML served)
        assert 'data-api=""' in home.html
        assert distinct_colours(home.screenshot) > 20, "the screenshot is blank"
        (tmp_path / "local-edge.png").write_bytes(home.screenshot)
        if os.environ.get("RUNWAY_EXT_UPDATE_SCREENSHOT") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            SCREENSHOT.write_bytes(home.screenshot)
        about = look(page, site + "about/")
        assert about.status == 200 and "About" in about.text and about.failed == []
        missing = look(page, site + "no-such-page/")
        assert missing.status == 404 and "Not found." in missing.text and missing.failed == []
        fetch(site)  # no Accept-Encoding: a cache entry of its own (the key holds the normalized encoding, as on CloudFront)
        status, headers, _ = fetch(site)
        assert (
            status == 200 and headers["X-Frame-Options"] == "DENY" and headers["Strict-Transport-Security"].startswith("max-age=63072000")
        )
        assert headers["X-Cache"] == "Hit from cloudfront" and "s-maxage=31536000" in headers["Cache-Control"]
        assert header(headers, "x-runway-ext-release") == "r1"
        assert hook_line(first, "npm_build")["layout"] == "atomic" and hook_line(first, "npm_build")["release"] == "r1"
        assert float(hook_line(first, "npm_build")["served_seconds"]) >= 0  # the serve's edge answered with r1 (time to served)
        assert "cloudfront_invalidation" not in first.split("hooks:\n", 1)[1]  # the sample has no invalidation step
        old_assets = [seen.url for seen in home.responses if "/_next/static/" in seen.url]
        assert old_assets

        # OAC: only this distribution reads the bucket; a policy naming another one shuts the edge out
        bucket = re.search(r"BucketName = (sample-dev-site-bucket-\S+)", first).group(1)  # type: ignore[union-attr]
        # the static-site hook's own files are in the bucket but never served (the blueprint denies the distribution)
        assert s3.head_object(Bucket=bucket, Key=".runway-ext/site-manifest.json")["ContentLength"] > 0
        for tool_file in (".runway-ext/site-manifest.json", ".runway-ext/"):
            status, _, body = fetch(site + tool_file)
            assert status in (403, 404) and b"site-manifest" not in body and b'"lock"' not in body, (tool_file, status)
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        s3.put_bucket_policy(Bucket=bucket, Policy=policy.replace(f"distribution/{distribution_id}", "distribution/EOTHER"))
        assert fetch(site + "docs/")[0] == 403  # not cached yet: the origin refuses, and so does the 404 page
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        assert fetch(site + "docs/")[0] == 403  # the error stays cached for ErrorCachingMinTTL (60 s), as on CloudFront
        assert fetch(site + "docs/", {"Accept-Encoding": "gzip"})[0] == 200  # another cache entry: read again, allowed again

        # 2. edit a page and redeploy: an atomic release, live at once, nothing invalidated
        before = look(page, site + "about/")
        assert before.status == 200 and "Edited for the flow test." not in before.text
        about_source = project / "app" / "src" / "pages" / "about.html"
        about_source.write_text(about_source.read_text() + "<p>Edited for the flow test.</p>\n")
        code, second = run_cli(deploy, env, tmp_path)
        assert code == 0, second
        built = hook_line(second, "npm_build")
        assert built["layout"] == "atomic" and built["release"] == "r2" and built["uploaded"] != "0", built
        assert float(built["served_seconds"]) >= 0, built
        after = look(page, site + "about/")  # the reload right after the deploy: no invalidation to wait for
        assert after.status == 200 and "Edited for the flow test." in after.text and after.failed == []
        status, headers, body = fetch(site + "about/")
        assert status == 200 and header(headers, "x-runway-ext-release") == "r2" and b"Edited for the flow test." in body
        for asset in old_assets:  # what a page of r1 loads is still served after the switch
            assert fetch(asset)[0] == 200, asset
        assert invalidation_count(cloudfront, distribution_id) == 0
        rebuilt = hook_line(second, "docker_build_push")
        assert rebuilt["skipped"] == "true" and rebuilt["digest"] == image["digest"]  # the registry outlived the first deploy

        # 3. nothing changed: nothing uploaded, switched, invalidated or built
        code, third = run_cli(deploy, env, tmp_path)
        assert code == 0, third
        unchanged = hook_line(third, "npm_build")
        assert unchanged["uploaded"] == "0" and unchanged["skipped"] == "true" and unchanged["release"] == "r2", unchanged
        assert header(fetch(site)[1], "x-runway-ext-release") == "r2"
        assert invalidation_count(cloudfront, distribution_id) == 0
        assert hook_line(third, "docker_build_push")["digest"] == image["digest"]
        assert host_network_state() == host_before

        # 4. destroy, then destroy again: both succeed, the second says there was nothing to do
        code, gone = run_cli(["local", "destroy", str(project), "--endpoint", serve.endpoint], env, tmp_path)
        assert code == 0, gone
        assert "stacks:\n  (none)" in gone and "Traceback" not in gone
        code, again = run_cli(["local", "destroy", str(project), "--endpoint", serve.endpoint], env, tmp_path)
        assert code == 0 and "Traceback" not in again and "error" not in again.lower(), again
        assert "stack sample-dev-site does not exist: no bucket to empty" in again
        assert aws.client("cloudformation", endpoint_url=serve.endpoint).describe_stacks()["Stacks"] == []
        assert s3.list_buckets()["Buckets"] == []
        assert aws.client("ecr", endpoint_url=serve.endpoint).describe_repositories()["repositories"] == []
        assert cloudfront.list_distributions()["DistributionList"].get("Items", []) == []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                fetch(site)
            except OSError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the edge still serves a destroyed distribution")
    finally:
        assert serve.stop() == 0, "\n".join(serve.lines)
    assert not session_file(serve.port).exists()
    with pytest.raises(OSError):
        registry_digest(registry, "sample-dev-service", "dev")  # serve's registry stopped with it
    assert host_network_state() == host_before
