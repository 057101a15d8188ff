"""Debian's headless chromium driven through the DevTools protocol, with nothing but the standard library.

:class:`Browser` starts ``chromium --headless`` on a free DevTools port (its own profile folder, no network
but what a page asks for), and :meth:`Browser.load` opens a URL in a fresh tab and returns what a person would
have seen: the document's status, every response and every failed request, the rendered text, computed styles
asked for, and a PNG screenshot. The websocket client and the PNG reader are minimal (enough for DevTools'
text frames and chromium's 8-bit screenshots).

``chromium_or_skip`` skips a test with the reason when chromium is absent, or fails it when
``RUNWAY_EXT_REQUIRE_CHROMIUM=1`` (CI installs it with ``.ci/chromium-install.sh``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--window-size=1024,768",
)


def chromium_or_skip() -> str:
    """The chromium executable, or skip (fail with ``RUNWAY_EXT_REQUIRE_CHROMIUM=1``) saying why."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Debian's chromium is not installed (bash .ci/chromium-install.sh)"
        if os.environ.get("RUNWAY_EXT_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"RUNWAY_EXT_REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    return found


class _WebSocket:
    """A client websocket (RFC 6455) for DevTools: masked text frames out, text frames (maybe fragmented) in."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the websocket handshake")
            answer += chunk
        if b" 101 " not in answer.split(b"\r\n", 1)[0]:
            raise ConnectionError(answer.decode(errors="replace"))
        self.buffer = answer.split(b"\r\n\r\n", 1)[1]

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload)))

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the websocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x9, 0xA):
                continue
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


@dataclass
class PageLoad:
    """What loading one URL produced."""

    url: str
    status: int | None = None
    responses: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    styles: dict[str, str] = field(default_factory=dict)
    screenshot: bytes = b""


class Browser:
    """One headless chromium for a test session; stopped by its pid."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.profile = profile
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._next_id = 0

    def _call(
        self, ws: _WebSocket, method: str, params: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        ws.send(json.dumps({"id": self._next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(ws.receive())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if events is not None:
                events.append(message)

    def load(self, url: str, *, styles: dict[str, str] | None = None, screenshot: bool = False, timeout: float = 30) -> PageLoad:
        """Open ``url`` in a new tab (browser cache off), wait for the load event, and report what was seen.

        ``styles``: {name: "selector|property"} computed styles to read.
        """
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with self.opener.open(request, timeout=10) as answer:
            target = json.loads(answer.read())
        ws = _WebSocket(target["webSocketDebuggerUrl"], timeout=timeout)
        events: list[dict[str, Any]] = []
        try:
            self._call(ws, "Network.enable", events=events)
            self._call(ws, "Network.setCacheDisabled", {"cacheDisabled": True}, events=events)
            self._call(ws, "Page.enable", events=events)
            self._call(ws, "Page.navigate", {"url": url}, events=events)
            deadline = time.monotonic() + timeout
            while not any(event.get("method") == "Page.loadEventFired" for event in events):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not finish loading in {timeout:g}s")
                events.append(json.loads(ws.receive()))
            result = PageLoad(url)
            requests = {}
            for event in events:
                params = event.get("params", {})
                if event.get("method") == "Network.requestWillBeSent":
                    requests[params["requestId"]] = params["request"]["url"]
                elif event.get("method") == "Network.responseReceived":
                    response = params["response"]
                    result.responses[response["url"]] = int(response["status"])
                    if params.get("type") == "Document" and response["url"].split("#")[0] == url:
                        result.status = int(response["status"])
                elif event.get("method") == "Network.loadingFailed":
                    result.failed.append(f"{requests.get(params['requestId'], '?')}: {params.get('errorText')}")
            result.text = self._evaluate(ws, "document.body ? document.body.innerText : ''", events)
            result.html = self._evaluate(ws, "document.documentElement.outerHTML", events)
            for name, spec in (styles or {}).items():
                selector, prop = spec.split("|")
                result.styles[name] = self._evaluate(
                    ws,
                    f"(() => {{ const e = document.querySelector({json.dumps(selector)}); return e ? getComputedStyle(e).getPropertyValue({json.dumps(prop)}) : ''; }})()",
                    events,
                )
            if screenshot:
                result.screenshot = base64.b64decode(self._call(ws, "Page.captureScreenshot", {"format": "png"}, events)["data"])
            return result
        finally:
            ws.close()
            with self.opener.open(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=10):
                pass

    def _evaluate(self, ws: _WebSocket, expression: str, events: list[dict[str, Any]]) -> str:
        answer = self._call(ws, "Runtime.evaluate", {"expression": expression, "returnByValue": True}, events)
        return str(answer.get("result", {}).get("value", ""))

    def stop(self) -> None:
        """Stop chromium (its process group, by pid)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB/RGBA, non-interlaced PNG (what chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack("!I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack("!IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and color in (2, 6), (depth, color, interlace)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for row_index in range(height):
        start = row_index * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            upper_left = previous[index - channels] if index >= channels else 0
            if kind == 1:
                line[index] = (line[index] + left) & 0xFF
            elif kind == 2:
                line[index] = (line[index] + up) & 0xFF
            elif kind == 3:
                line[index] = (line[index] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - upper_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[index] = (line[index] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def distinct_colours(data: bytes, sample_every: int = 2) -> int:
    """How many different pixel colours a PNG screenshot has (sampled): 1 means blank."""
    width, _height, rows = png_pixels(data)
    channels = len(rows[0]) // width if rows else 3
    colours = set()
    for row in rows[::sample_every]:
        for index in range(0, len(row), channels * sample_every):
            colours.add(row[index : index + 3])
    return len(colours)
