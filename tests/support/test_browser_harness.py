"""The browser harness (tests.support.browser) against a real local HTTP server and Debian's chromium.

A throwaway site served by the standard library on 127.0.0.1: a page with a stylesheet and a script that
changes the page, a 404, a request to a closed port, a script that throws, and long ``Cache-Control`` headers
so that a cached reload would show old content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from runway_ext.local.moto_server import free_port
from tests.support.browser import chromium_or_skip, distinct_colours, fresh_page, look, watching


class CachingHandler(SimpleHTTPRequestHandler):
    """Static files with a year of browser caching, and no log lines."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=31536000")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder) of a small site served on 127.0.0.1 for this test only."""
    root = tmp_path / "site"
    root.mkdir()
    closed = free_port()
    (root / "index.html").write_text(
        '<!doctype html><html><head><title>Home</title><link rel="stylesheet" href="site.css"></head>'
        '<body><h1>Home</h1><p id="note">Plain.</p><script src="site.js"></script></body></html>'
    )
    (root / "site.css").write_text("body { max-width: 40rem; background: #fafafa; color: #123456; font-size: 20px; }\n")
    (root / "site.js").write_text('document.getElementById("note").textContent = "Script ran.";\n')
    (root / "broken.html").write_text(
        f'<!doctype html><html><body><p>Broken</p><img src="http://127.0.0.1:{closed}/gone.png">'
        '<script>throw new Error("boom in the page")</script></body></html>'
    )
    (root / "blank.html").write_text('<!doctype html><html><body style="background: #fff"></body></html>')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CachingHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_look_reports_status_every_response_text_and_a_screenshot(page: Page, site: tuple[str, Path]) -> None:
    base, _ = site
    home = look(page, base, screenshot=True)
    assert home.status == 200 and home.failed == [] and home.errors == []
    assert home.traffic.statuses() == {base: 200, base + "site.css": 200, base + "site.js": 200}
    assert "Home" in home.text and "Script ran." in home.text and "<title>Home</title>" in home.html
    expect(page.locator("body")).to_have_css("max-width", "640px")  # the stylesheet applied
    assert home.screenshot.startswith(b"\x89PNG") and distinct_colours(home.screenshot) > 20


def test_a_blank_page_has_one_colour(page: Page, site: tuple[str, Path]) -> None:
    base, _ = site
    blank = look(page, base + "blank.html", screenshot=True)
    assert blank.status == 200 and distinct_colours(blank.screenshot) == 1


def test_look_reports_a_missing_page_a_refused_request_and_a_script_error(page: Page, site: tuple[str, Path]) -> None:
    base, _ = site
    missing = look(page, base + "no-such-page/")
    assert missing.status == 404 and "File not found" in missing.text and missing.failed == []
    broken = look(page, base + "broken.html")
    assert broken.status == 200 and "Broken" in broken.text
    assert len(broken.failed) == 1 and "/gone.png: net::ERR_CONNECTION_REFUSED" in broken.failed[0], broken.failed
    assert broken.errors == ["boom in the page"]


def test_a_refused_document_has_no_status_and_says_why(page: Page) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    refused = look(page, url)
    assert refused.status is None and refused.failed == [f"{url}: net::ERR_CONNECTION_REFUSED"]


def test_look_bypasses_the_browser_cache(page: Page, site: tuple[str, Path]) -> None:
    base, root = site
    look(page, base)
    expect(page.locator("#note")).to_have_text("Script ran.")
    (root / "site.js").write_text('document.getElementById("note").textContent = "Script changed.";\n')
    (root / "index.html").write_text((root / "index.html").read_text().replace("<h1>Home</h1>", "<h1>Home again</h1>"))
    again = look(page, base)
    assert "Home again" in again.text and "Script changed." in again.text


def test_watching_sees_requests_made_after_the_load(page: Page, site: tuple[str, Path]) -> None:
    base, _ = site
    look(page, base)
    with watching(page) as traffic:
        with page.expect_response(base + "site.css?later"):
            page.evaluate("fetch('site.css?later')")
        with page.expect_response(base + "missing.txt"):
            page.evaluate("fetch('missing.txt')")
    assert [(seen.status, seen.url) for seen in traffic.responses] == [(200, base + "site.css?later"), (404, base + "missing.txt")]


def test_fresh_pages_share_nothing_but_the_browser(browser: Browser, site: tuple[str, Path]) -> None:
    base, _ = site
    with fresh_page(browser) as first:
        look(first, base)
        first.evaluate("localStorage.setItem('seen', 'yes')")
        with fresh_page(browser) as second:
            look(second, base)
            assert second.evaluate("localStorage.getItem('seen')") is None
            assert first.context is not second.context and first.context.browser is second.context.browser is browser
    assert browser.is_connected()


def test_chromium_or_skip_skips_without_chromium_or_fails_when_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chromium_or_skip()  # present on this machine, or this test was skipped by now
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("RUNWAY_EXT_REQUIRE_CHROMIUM", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium_or_skip()
    monkeypatch.setenv("RUNWAY_EXT_REQUIRE_CHROMIUM", "1")
    with pytest.raises(pytest.fail.Exception, match="RUNWAY_EXT_REQUIRE_CHROMIUM=1 but"):
        chromium_or_skip()
