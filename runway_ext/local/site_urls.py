"""Where a deploy run by local mode can watch its site: the local edge's URL for a distribution's domain.

In local mode the stack's ``DistributionDomainName`` (``dXXXX.cloudfront.net``) is the stand-in's and answers
nowhere; a ``runway-ext local serve`` serves each distribution at its own ``http://127.0.0.1:PORT/`` and
advertises them in its session file (:mod:`.serve_session`). :func:`served_url_finder` turns a site URL into a
function giving the URL to poll now (``None``: not served yet), or says in one line why none can exist:

- outside local mode (no loopback ``AWS_ENDPOINT_URL``), or for a URL on this machine: the URL as given;
- against a ``local serve``: the edge URL of the distribution whose domain is the URL's host, plus its path;
- against the stand-in a ``local deploy`` started for itself (no serve yet): none — its edge starts after the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from runway_ext.local.serve_session import read_session
from runway_ext.static_site.served import is_loopback_host

Finder = Callable[[], "str | None"]


def served_url_finder(site_url: str, environ: Mapping[str, str], cloudfront: Callable[[], Any]) -> tuple[Finder | None, str | None]:
    """``(finder, None)`` or ``(None, why not)``; ``cloudfront`` makes a CloudFront client of the run's AWS."""
    endpoint = (environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")
    parsed = urlparse(site_url)
    if not endpoint or not is_loopback_host(urlparse(endpoint).hostname) or is_loopback_host(parsed.hostname):
        return (lambda: site_url), None
    if read_session(endpoint) is None:
        return None, (
            f"site_url: {parsed.hostname} is the local AWS's distribution, and no `runway-ext local serve` at {endpoint} "
            "serves it during this deploy: time to served not measured"
        )
    client = cloudfront()
    path = parsed.path or "/"

    distribution: list[str] = []  # the distribution id, once a listing named it (a domain never changes owner)

    def find() -> str | None:
        sites = (read_session(endpoint) or {}).get("sites") or {}
        if not distribution:
            try:
                pages = list(client.get_paginator("list_distributions").paginate())
            except (BotoCoreError, ClientError):
                return None
            distribution.extend(
                str(item["Id"])
                for page in pages
                for item in page.get("DistributionList", {}).get("Items") or []
                if item.get("DomainName") == parsed.hostname
            )
        served = [sites[name] for name in distribution if name in sites]
        return str(served[0]).rstrip("/") + path if served else None

    return find, None
