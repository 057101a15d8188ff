"""Debian's headless chromium driven by playwright: the browser for tests of anything a person looks at.

Repository-only test support. Playwright (sync API) launches the chromium found on PATH through
``executable_path``; it never downloads a browser (``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1`` is set for its driver,
and nothing here calls ``playwright install``). Each launch gets a new, empty profile from playwright, removed
when the browser closes.

- :func:`chromium_or_skip`: the chromium executable, or skip the test saying why (fail instead with
  ``RUNWAY_EXT_REQUIRE_CHROMIUM=1``, as CI does after ``.ci/chromium-install.sh``).
- :func:`chromium_session`: one playwright + one chromium, closed on exit (``tests/conftest.py`` makes it the
  session fixture ``browser``).
- :func:`fresh_page`: a new context (own cookies, storage and cache, 1024x768) and its page, closed on exit
  (the per-test fixture ``page``).
- :func:`watching`: every response, failed request and page error on a page while the block runs, for a test
  that keeps a page open across something (a deploy) and checks each request it made.
- :func:`look`: load a URL with the HTTP cache off and return what a person saw (:class:`PageView`).
- :func:`distinct_colours`: how many colours a PNG screenshot has (1 means blank), decoded by Pillow.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Request, Response, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT: ViewportSize = {"width": 1024, "height": 768}


def chromium_or_skip() -> str:
    """The chromium executable, or skip (fail with ``RUNWAY_EXT_REQUIRE_CHROMIUM=1``) saying why."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Debian's chromium is not installed (bash .ci/chromium-install.sh)"
        if os.environ.get("RUNWAY_EXT_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    return found


@contextmanager
def chromium_session(executable: str) -> Iterator[Browser]:
    """Playwright's driver and one headless ``executable`` (a new empty profile), both stopped on exit."""
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, chromium_sandbox=False, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own (nothing shared with other tests), closed on exit."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass(frozen=True)
class Seen:
    """One response the page received."""

    status: int
    url: str


@dataclass
class Traffic:
    """What a page exchanged while :func:`watching` it, in order."""

    responses: list[Seen] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "URL: chromium's error text"
    errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page's scripts

    def statuses(self) -> dict[str, int]:
        """{url: status} of the last response to each URL."""
        return {seen.url: seen.status for seen in self.responses}


@contextmanager
def watching(page: Page) -> Iterator[Traffic]:
    """Record every response, failed request and page error of ``page`` until the block ends.

    Playwright delivers events while the test waits on it (``goto``, ``wait_for_*``, ``expect``...): wait for
    what you expect before leaving the block.
    """
    traffic = Traffic()

    def on_response(response: Response) -> None:
        traffic.responses.append(Seen(response.status, response.url))

    def on_failed(request: Request) -> None:
        traffic.failed.append(f"{request.url}: {request.failure}")

    def on_error(error: Exception) -> None:
        traffic.errors.append(str(error))

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("pageerror", on_error)
    try:
        yield traffic
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)
        page.remove_listener("pageerror", on_error)


@dataclass
class PageView:
    """What loading one URL showed: the document's status, the traffic up to the load event, the page itself."""

    url: str
    status: int | None
    traffic: Traffic
    text: str
    html: str
    screenshot: bytes

    @property
    def responses(self) -> list[Seen]:
        return self.traffic.responses

    @property
    def failed(self) -> list[str]:
        return self.traffic.failed

    @property
    def errors(self) -> list[str]:
        return self.traffic.errors


def look(page: Page, url: str, *, screenshot: bool = False, timeout: float = 30) -> PageView:
    """Open ``url`` in ``page`` with the HTTP cache off, wait for the load event, and report what was seen.

    ``status`` is the document's own (``None`` when chromium got none, e.g. a refused connection: then
    ``failed`` says why). The page stays on ``url`` for the test's own ``expect`` checks.
    """
    devtools = page.context.new_cdp_session(page)  # the cache switch holds while this session is attached
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    refused: list[Request] = []

    def on_failed(request: Request) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            refused.append(request)

    page.on("requestfailed", on_failed)
    try:
        with watching(page) as traffic:
            try:
                response = page.goto(url, wait_until="load", timeout=timeout * 1000)
            except PlaywrightError:  # the document itself failed (its failed request says why), else a real error
                if not refused:
                    raise
                return PageView(url, None, traffic, "", "", b"")
            text = page.evaluate("document.body ? document.body.innerText : ''")
            html = page.content()
            shot = page.screenshot(type="png", timeout=timeout * 1000) if screenshot else b""
    finally:
        page.remove_listener("requestfailed", on_failed)
        devtools.detach()
    return PageView(url, response.status if response else None, traffic, text, html, shot)


def distinct_colours(png: bytes) -> int:
    """How many different colours a PNG screenshot has: 1 means blank."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=rgb.width * rgb.height)
    assert colours is not None
    return len(colours)
