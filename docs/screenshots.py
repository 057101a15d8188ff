"""Take the docs' screenshots of the sample site: ``python docs/screenshots.py [--out FOLDER]``.

Builds a copy of sample-project/app/ (with its ``.env.dev`` as the deploy would, so nothing is written in the
checkout), serves the build on 127.0.0.1 the way the CDN does (``/docs/`` → ``docs/index.html``, a missing page →
``404.html`` with status 404), and photographs each page in Debian's headless chromium through playwright at a
fixed window (1024 px wide, light colour scheme, whole page). A page that answers another status than expected,
or asks for anything that fails or lies beyond 127.0.0.1, stops the script with one line and exit code 1.

Writes ``home.png``, ``docs.png``, ``not-found.png`` into ``--out`` (default: docs/images/sample/). The test suite
runs it into a temporary folder and compares with the committed ones (tests/test_docs_screenshots.py).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "sample-project" / "app"
DEFAULT_OUT = REPO / "docs" / "images" / "sample"
PAGES = (("home", "/", 200), ("docs", "/docs/", 200), ("not-found", "/no-such-page/", 404))
"""(file name, path, expected status)."""
WINDOW = {"width": 1024, "height": 768}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--font-render-hinting=none",
]


class ScreenshotError(RuntimeError):
    """A page did not render as expected (the message is one line)."""


def build_copy(folder: Path) -> Path:
    """Build a copy of the sample app in ``folder``; returns its ``out/``."""
    app = folder / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("out", "node_modules", ".env.local"))
    shutil.copy(app / ".env.dev", app / ".env.local")
    node = shutil.which("node")
    if node is None:
        raise ScreenshotError("node is not on PATH")
    done = subprocess.run([node, "build.mjs"], cwd=app, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ScreenshotError(f"the sample's build failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return app / "out"


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves the build like the CDN: folders by their index.html, a missing page as 404.html with status 404."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def serve(site: Path) -> ThreadingHTTPServer:
    """Serve ``site`` on a free 127.0.0.1 port in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_SiteHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise ScreenshotError("Debian's chromium is not installed (apt-get install chromium)")
    return found


def take(out: Path) -> list[Path]:
    """Build, serve and photograph every page of :data:`PAGES` into ``out``; returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="sample-screenshots-") as folder:
        server = serve(build_copy(Path(folder)))
        base = f"http://127.0.0.1:{server.server_address[1]}"
        problems: list[str] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
                try:
                    context = browser.new_context(viewport=WINDOW, device_scale_factor=1, color_scheme="light", reduced_motion="reduce")

                    def only_loopback(route: Any) -> None:
                        if urlparse(route.request.url).hostname == "127.0.0.1":
                            route.continue_()
                        else:
                            problems.append(f"asked for {route.request.url}")
                            route.abort()

                    context.route("**/*", only_loopback)
                    page = context.new_page()
                    page.on("requestfailed", lambda request: problems.append(f"{request.url} failed"))
                    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
                    for name, path, status in PAGES:
                        response = page.goto(base + path, wait_until="load")
                        if response is None or response.status != status:
                            raise ScreenshotError(f"{path}: status {response.status if response else None}, expected {status}")
                        page.wait_for_load_state("networkidle")
                        if problems:
                            raise ScreenshotError(f"{path}: {'; '.join(problems)}")
                        target = out / f"{name}.png"
                        page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
                        written.append(target)
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the docs' screenshots of the sample site.")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNG files (default: {DEFAULT_OUT.relative_to(REPO)})"
    )
    args = parser.parse_args(argv)
    try:
        for path in take(args.out):
            print(path)
    except ScreenshotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
