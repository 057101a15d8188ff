"""The local console in real Chromium (playwright, Debian's /usr/bin/chromium), after and during real deploys.

``runway-ext local serve`` (Docker off, no sam: this test is about the page) prints ``console: URL``; a copy of
sample-project/ is deployed against it with the real CLI. The browser, allowed to reach 127.0.0.1 only (any
other request is aborted and fails the test: no CDN assets), sees the sample's stacks, the hook runs, the
site's first release marked live; a second deploy of an edited page shows up on the open page without a
reload (a second release, live, its diff naming the edited page); the site link opens a site that renders
with its stylesheet.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page

from tests.support.cli_process import RUNWAY_EXT, LocalServe, console_address

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample-project"
pytestmark = [pytest.mark.runway]


@pytest.fixture
def browser_page(page: Page) -> tuple[Page, list[str]]:
    """The session browser's fresh page (tests/support/browser.py), allowed to reach 127.0.0.1 only; the second item lists refused URLs."""
    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_loopback)
    return page, refused


def deploy(project: Path, endpoint: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [RUNWAY_EXT, "local", "deploy", str(project), "--endpoint", endpoint, "--docker", "off"],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_console_lists_the_sample_follows_a_redeploy_and_links_to_a_site_that_renders(tmp_path: Path, browser_page: Any) -> None:
    page, refused = browser_page
    project = tmp_path / "my-site"
    shutil.copytree(
        SAMPLE, project, ignore=shutil.ignore_patterns("node_modules", "out", ".env.local", ".runway", ".aws-sam", "__pycache__")
    )
    path = os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep) if not (Path(part) / "sam").exists())
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_") and name != "RUNWAY_EXT_REGISTRY"}
    env["PATH"] = path
    serve = LocalServe("--docker", "off", "--invalidation-seconds", "1", env=env, cwd=tmp_path)
    try:
        page.goto(console_address(serve))
        assert "No stacks yet" in page.inner_text("#stacks")
        deploy(project, serve.endpoint, env)
        page.reload()
        for stack in ("sample-dev-registry", "sample-dev-site", "sample-dev-artifacts"):
            row = page.locator(f'tr[data-stack="{stack}"]')
            assert "CREATE_COMPLETE" in row.inner_text(), stack
        assert "DistributionId" in page.locator('tr[data-stack="sample-dev-site"]').inner_text()
        assert page.locator('#runs li[data-hook="npm_build"]').first.inner_text().startswith("npm_build: uploaded=")
        first = page.locator('tr[data-release="r1"]')
        assert "live" in first.inner_text() and "first release" in first.inner_text()
        # an atomic release needs no invalidation: the sample makes none, so the site has no invalidation table
        assert page.locator("#sites th", has_text="invalidation").count() == 0

        # a second deploy of an edited page: the open page follows without a reload
        about = project / "app" / "src" / "pages" / "about.html"
        about.write_text(about.read_text(encoding="utf-8") + "\n<p>Edited for the console test.</p>\n", encoding="utf-8")
        deploy(project, serve.endpoint, env)
        second = page.locator('tr[data-release="r2"]')
        second.wait_for(timeout=20_000)
        assert "live" in second.inner_text() and "live" not in page.locator('tr[data-release="r1"]').inner_text()
        second.locator("summary").click()
        assert "about/index.html" in second.inner_text()
        assert page.locator("#runs .run").count() == 2
        assert page.locator("#sites th", has_text="invalidation").count() == 0

        # the site link opens the site the local edge serves
        link = page.locator("a.site-link").first
        site = link.get_attribute("href")
        assert site and re.fullmatch(r"http://127\.0\.0\.1:\d+/", site)
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        link.click()
        page.wait_for_url(site)
        page.wait_for_load_state("load")
        assert page.locator("h1").first.is_visible()
        assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # the site's stylesheet applied
        page.goto(site + "about/")
        assert "Edited for the console test." in page.inner_text("body")
        assert failed == []
    finally:
        serve.stop()
    assert refused == [], f"the page asked for something beyond 127.0.0.1: {refused}"
    console_port = int(urlparse(console_address(serve)).port or 0)
    with pytest.raises(OSError):  # the console ended with its serve
        socket.create_connection(("127.0.0.1", console_port), timeout=2).close()
