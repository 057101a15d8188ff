"""Time to served: after a switch, poll the site until its edge answers with the new release.

Every 2xx/3xx answer of an atomic site carries ``x-runway-ext-release: <release id>`` (the CDN stack's
viewer-response function). :func:`wait_until_served` asks for the site's URL (``GET``, no cache-busting: a
viewer's request) until that header names the release just made live, and returns the seconds it took, or
``None`` when ``timeout`` passed first — the switch stands either way: this only measures what viewers get.

AWS publishes no figure for how fast a KeyValueStore write reaches every edge location; what this measures is
the edge location nearest to the deploying machine, once. ``where`` is called before every attempt, so a URL
that becomes known while waiting (the local edge of ``runway-ext local serve`` starts serving a new distribution
within a second or two) is picked up; ``None`` from it means "not reachable yet".
"""

from __future__ import annotations

import ipaddress
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from runway_ext.core.errors import HookError
from runway_ext.core.waiting import wait_until

RELEASE_HEADER = "x-runway-ext-release"
"""The response header naming the release a viewer got (set by the CDN stack's viewer-response function)."""
REQUEST_TIMEOUT = 10.0
"""Seconds one poll may take."""


@dataclass(frozen=True)
class Served:
    """The outcome of a wait: seconds to served (None: not within the timeout) and the release last seen."""

    seconds: float | None
    last_seen: str | None
    attempts: int


def site_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the site's URL (an absolute http(s) URL with a host, no credentials), or None. Pure."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"{url!r} is no http(s) URL with a host (e.g. https://d111111abcdef8.cloudfront.net/)"
    if parsed.username or parsed.password:
        return f"{url!r} carries credentials; give the URL a viewer uses"
    return None


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``*.localhost``, a loopback address). Pure."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _opener(url: str) -> urllib.request.OpenerDirector:
    """The environment's proxies for a public URL; none for this machine's."""
    if is_loopback_host(urlparse(url).hostname):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def release_served(url: str) -> str | None:
    """The release id one ``GET url`` answers with (None: no header, an error status, or no answer)."""
    request = urllib.request.Request(url, headers={"User-Agent": "runway-ext (time to served)"})
    try:
        with _opener(url).open(request, timeout=REQUEST_TIMEOUT) as response:
            return response.headers.get(RELEASE_HEADER)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_until_served(
    where: Callable[[], str | None],
    release: str,
    *,
    timeout: float,
    poll_seconds: float = 0.25,
    fetch: Callable[[str], str | None] = release_served,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Served:
    """Poll ``where()`` until an answer names ``release``; see the module docstring."""
    started = clock()
    seen: list[str | None] = []

    def served() -> bool:
        url = where()
        if url is None:
            return False
        seen.append(fetch(url))
        return seen[-1] == release

    try:
        wait_until(served, timeout=timeout, what=f"release {release}", interval=poll_seconds, sleep=sleep, clock=clock)
    except HookError:
        return Served(None, seen[-1] if seen else None, len(seen))
    return Served(round(clock() - started, 3), release, len(seen))
