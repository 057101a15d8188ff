"""Per-branch previews on the local edge: the CDN blueprint's own viewer-request function routing Hosts.

The stacks are real ``StaticSiteCdn`` templates with ``PreviewDomain`` created by moto's CloudFormation with
local mode's models; the edge runs the LIVE function code from the stack in node, reading the KeyValueStore data
plane that local mode emulates from AWS's documented behaviour (:mod:`runway_ext.local.moto_kvs`). Preview and
live pointers are written with the project's KVS client at the contract's keys (``live``, ``preview/NAME``);
release objects are put by the test in the contract's layout. The local edge is reached on 127.0.0.1 with a
Host header (this Python's resolver does not resolve ``*.localhost``; browsers do: the chromium test uses the
real names).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from runway_ext.blueprints.cdn import RELEASE_COOKIE, RELEASE_HEADER, release_router_function
from runway_ext.local.edge_fleet import EdgeFleet
from runway_ext.local.edge_functions import FunctionRunner
from runway_ext.local.edge_server import host_seen_by_functions
from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_invalidations import install_invalidation_delay
from runway_ext.static_site.kvs import KvsClient, ReleasePointer, preview_key, preview_name_problem
from tests.blueprints.blueprint_support import render

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PREVIEW_DOMAIN = "preview.example.com"
BUCKET, PLAIN_BUCKET = "preview-site", "no-preview-site"
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest": "document"}
SCRIPT = {"Accept": "*/*", "Sec-Fetch-Dest": "script"}
RELEASES = ("r1", "r2", "r3", "r4")
ROOT = {"index.html": b"<h1>root</h1>", "main.js": b"console.log('root');", "404.html": b"<h1>not here</h1>"}


def objects() -> dict[str, tuple[bytes, str]]:
    found = {path: (body, "text/html" if path.endswith(".html") else "text/javascript") for path, body in ROOT.items()}
    for release in RELEASES:
        found[f".runway-ext-releases/{release}/index.html"] = (f"<h1>{release}</h1>".encode(), "text/html")
        found[f".runway-ext-releases/{release}/main.js"] = (f"console.log('{release}');".encode(), "text/javascript")
    return found


class Served:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


def fetch(url: str, host: str | None = None, headers: dict[str, str] | None = None) -> Served:
    """GET ``url`` (on 127.0.0.1) sending ``Host: host`` (``{port}`` in it becomes the edge's port)."""
    sent = dict(headers or {})
    if host is not None:
        sent["Host"] = host.replace("{port}", str(urlsplit(url).port))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=sent), timeout=10) as response:
            return Served(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Served(error.code, error.headers, error.read())


def create_stack(name: str, tmp_path: Path, **variables: Any) -> dict[str, str]:
    template = render("runway_ext.blueprints.cdn.StaticSiteCdn", tmp_path, NotFoundPage="/404.html", **variables)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template)
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def write(store: str, key: str, pointer: ReleasePointer | None, expected: ReleasePointer | None = None) -> None:
    """Set (or, with ``pointer`` None, delete) ``key`` with the project's KVS client, as a deploy would."""
    kvs = KvsClient.from_session(boto3.Session())
    if pointer is None:
        assert expected is not None
        kvs.delete_key_if(store, key, expected.to_value())
    else:
        kvs.put_key_if(store, key, pointer.to_value(), expected.to_value() if expected else None)


def write_raw(store: str, key: str, value: str) -> None:
    """A writer bypassing the name rule and the model (a hand edit)."""
    raw = KvsClient.from_session(boto3.Session()).client
    raw.update_keys(KvsARN=store, IfMatch=raw.describe_key_value_store(KvsARN=store)["ETag"], Puts=[{"Key": key, "Value": value}])


@pytest.fixture
def edge(aws: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A site with PreviewDomain and one without, served by one fleet; live -> r1, pr-1 -> r2, pr-2 -> r3."""
    install()
    install_invalidation_delay(0)
    site = create_stack("previews", tmp_path / "a", BucketName=BUCKET, PreviewDomain=PREVIEW_DOMAIN, AcmCertificateArn=CERTIFICATE)
    plain = create_stack("plain", tmp_path / "b", BucketName=PLAIN_BUCKET)
    s3 = boto3.client("s3")
    for bucket in (BUCKET, PLAIN_BUCKET):
        for key, (body, content_type) in objects().items():
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl="max-age=600")
    store = site["KeyValueStoreArn"]
    write(store, "live", ReleasePointer(v=1, r="r1"))
    write(store, preview_key("", "pr-1"), ReleasePointer(v=1, r="r2"))
    write(store, preview_key("", "pr-2"), ReleasePointer(v=1, r="r3"))
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        urls = fleet.sites()
        yield {"url": urls[site["DistributionId"]], "plain": urls[plain["DistributionId"]], "store": store, "fleet": fleet}
    finally:
        fleet.stop()


# -- the function itself, host by host (node, the local data plane) -------------------------------------------

PREVIEW_CODE = release_router_function("", True, PREVIEW_DOMAIN)
NO_PREVIEW_PAGE = "This address names no preview"
FORTY = "a" * 39 + "z"


@pytest.fixture
def store(aws: Any) -> str:
    arn = str(boto3.client("cloudfront").create_key_value_store(Name="previews")["KeyValueStore"]["ARN"])
    write(arn, "live", ReleasePointer(v=1, r="r1"))
    write(arn, "preview/pr-1", ReleasePointer(v=1, r="r2", s=("assets/",)))
    write(arn, f"preview/{FORTY}", ReleasePointer(v=1, r="r4"))
    write_raw(arn, "preview/r7", '{"v":1,"r":"r3"}')  # names the function must never read, written by hand
    write_raw(arn, "preview/live", '{"v":1,"r":"r3"}')
    write_raw(arn, "preview/broken", '{"v":1,"r":"../r3"}')
    return arn


def run(code: str, store: str, host: str | None, uri: str = "/main.js", cookie: str | None = None) -> dict[str, Any]:
    headers = {"host": {"value": host}} if host is not None else {}
    cookies = {RELEASE_COOKIE: {"value": cookie}} if cookie else {}
    event = {"request": {"method": "GET", "uri": uri, "querystring": {}, "headers": headers, "cookies": cookies}}
    runner = FunctionRunner(kvs_endpoint=boto3.client("s3").meta.endpoint_url)
    try:
        result, _logs = runner.call(code, event, store)
    finally:
        runner.stop()
    return result


def outcome(result: dict[str, Any]) -> str:
    """``uri`` of a request the function passed on, or ``STATUS: first words of the page`` of one it answered."""
    if "statusCode" in result:
        assert result["headers"]["cache-control"]["value"] == "no-store"
        return f"{result['statusCode']}: {result['body'].split('<p>')[1]}"
    return str(result["uri"])


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("pr-1.preview.example.com", "/.runway-ext-releases/r2/main.js"),
        ("PR-1.Preview.Example.COM", "/.runway-ext-releases/r2/main.js"),  # DNS is case-insensitive: the same preview
        ("pr-1.preview.example.com:443", "/.runway-ext-releases/r2/main.js"),  # a port is not part of the name
        ("pr-1.preview.example.com.", "/.runway-ext-releases/r2/main.js"),  # the fully qualified form
        ("pr-1.preview.example.com..", "/.runway-ext-releases/r2/main.js"),
        (f"{FORTY}.preview.example.com", "/.runway-ext-releases/r4/main.js"),  # 40 characters: the longest name
        ("www.example.com", "/.runway-ext-releases/r1/main.js"),  # any other host is the live site
        ("d111111abcdef8.cloudfront.net", "/.runway-ext-releases/r1/main.js"),
        ("pr-1.preview.example.com.evil.test", "/.runway-ext-releases/r1/main.js"),  # not under the preview domain
        ("xpreview.example.com", "/.runway-ext-releases/r1/main.js"),
        (None, "/.runway-ext-releases/r1/main.js"),
        ("pr-9.preview.example.com", "404: There is no preview pr-9.preview.example.com: it was never deployed, or it was deleted."),
        ("preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # the bare preview domain names no preview
        ("a.pr-1.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # two labels: never the live site, never pr-1
        (".preview.example.com", f"404: {NO_PREVIEW_PAGE}"),
        (f"{FORTY}x.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # 41 characters
        ("pr_1.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),
        ("-pr.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),
        ("r7.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # a release id's shape: refused, its key never read
        ("live.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # a reserved word
        ("xn--bcher-kva.preview.example.com", f"404: {NO_PREVIEW_PAGE}"),  # an internationalised label
        ("broken.preview.example.com", "503: The release of preview broken.preview.example.com is not valid; deploy the preview again."),
    ],
)
def test_each_host_has_a_defined_answer(store: str, host: str | None, expected: str) -> None:
    result = run(PREVIEW_CODE, store, host)
    got = outcome(result)
    assert got.startswith(expected), got
    if "statusCode" not in result:
        assert result["headers"][RELEASE_HEADER]["value"] == expected.split("/")[2]


def test_a_preview_page_is_indexed_and_its_shared_prefixes_apply(store: str) -> None:
    assert outcome(run(PREVIEW_CODE, store, "pr-1.preview.example.com", "/docs/")) == "/.runway-ext-releases/r2/docs/index.html"
    assert outcome(run(PREVIEW_CODE, store, "pr-1.preview.example.com", "/assets/a.js")) == "/.runway-ext-releases/shared/assets/a.js"


def test_pins_are_checked_against_the_hosts_own_pointer(store: str) -> None:
    write(store, "preview/pr-1", ReleasePointer(v=1, r="r4", k=("r2",)), ReleasePointer(v=1, r="r2", s=("assets/",)))
    preview = "pr-1.preview.example.com"
    assert outcome(run(PREVIEW_CODE, store, preview, cookie="r2")) == "/.runway-ext-releases/r2/main.js"  # in the preview's k
    assert outcome(run(PREVIEW_CODE, store, preview, cookie="r1")) == "/.runway-ext-releases/r4/main.js"  # live's r: not this pointer's
    assert outcome(run(PREVIEW_CODE, store, "www.example.com", cookie="r2")) == "/.runway-ext-releases/r1/main.js"  # the preview's k


def test_an_unreadable_store_is_a_503_for_a_preview_and_the_root_for_the_live_site(aws: Any) -> None:
    runner = FunctionRunner(kvs_endpoint="http://127.0.0.1:9")  # the data plane does not answer
    event = {"method": "GET", "uri": "/main.js", "querystring": {}, "cookies": {}}
    try:
        arn = "arn:aws:cloudfront::123456789012:key-value-store/unreachable"
        preview, _ = runner.call(PREVIEW_CODE, {"request": {**event, "headers": {"host": {"value": "pr-1.preview.example.com"}}}}, arn)
        live, _ = runner.call(PREVIEW_CODE, {"request": {**event, "headers": {"host": {"value": "www.example.com"}}}}, arn)
    finally:
        runner.stop()
    assert outcome(preview).startswith("503: The release of preview pr-1.preview.example.com cannot be read right now")
    assert outcome(live) == "/main.js"  # the live site's rule: the root (the in-place layout)


def test_without_a_preview_domain_hosts_are_ignored(store: str) -> None:
    for host in ("pr-1.preview.example.com", "a.b.preview.example.com", "preview.example.com"):
        assert outcome(run(release_router_function(), store, host)) == "/.runway-ext-releases/r1/main.js"


def test_function_and_name_rule_agree(store: str) -> None:
    """:func:`preview_name_problem` (the writer's rule) and the function accept exactly the same names."""
    names = ["pr-1", "a", "0", "feature-x", FORTY, FORTY + "x", "-a", "a-", "a_b", "r1", "r0", "r01", "r", "rr1", "live", "shared"]
    names += ["preview", "xn--bcher-kva", "ab--c", "a--b", "abc--", "pr-1.x", ""]
    for name in names:
        result = run(PREVIEW_CODE, store, f"{name}.preview.example.com")
        function_accepts = NO_PREVIEW_PAGE not in str(result.get("body", ""))
        assert function_accepts == (preview_name_problem(name) is None), name


# -- the local edge: what a viewer gets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "preview_domain", "seen"),
    [
        ("pr-1.preview.localhost:8080", PREVIEW_DOMAIN, "pr-1.preview.example.com"),
        ("PR-1.Preview.LocalHost:8080", PREVIEW_DOMAIN, "PR-1.preview.example.com"),
        ("pr-1.preview.localhost.:8080", PREVIEW_DOMAIN, "pr-1.preview.example.com."),
        ("a.b.preview.localhost", PREVIEW_DOMAIN, "a.b.preview.example.com"),
        ("preview.localhost:1", PREVIEW_DOMAIN, "preview.example.com"),
        ("127.0.0.1:8080", PREVIEW_DOMAIN, "127.0.0.1:8080"),
        ("localhost:8080", PREVIEW_DOMAIN, "localhost:8080"),
        ("[::1]:8080", PREVIEW_DOMAIN, "[::1]:8080"),
        ("pr-1.preview.example.com", PREVIEW_DOMAIN, "pr-1.preview.example.com"),
        ("pr-1.preview.localhost:8080", None, None),
        ("xpreview.localhost:8080", None, "xpreview.localhost:8080"),
    ],
)
def test_the_host_functions_see_on_the_local_edge(host: str, preview_domain: str | None, seen: str | None) -> None:
    assert host_seen_by_functions(host, preview_domain) == seen


def test_live_and_previews_side_by_side(edge: dict[str, Any]) -> None:
    url = edge["url"]
    for host, release in (("127.0.0.1:{port}", "r1"), ("pr-1.preview.localhost:{port}", "r2"), ("pr-2.preview.localhost:{port}", "r3")):
        page = fetch(url, host, NAVIGATION)
        assert (page.status, page.body, page.header(RELEASE_HEADER)) == (200, f"<h1>{release}</h1>".encode(), release), host
        assert page.cookies() == [f"{RELEASE_COOKIE}={release}; Path=/; SameSite=Lax"]
    assert fetch(url, "pr-1.preview.example.com", NAVIGATION).body == b"<h1>r2</h1>"  # the real name works too


def test_two_previews_cached_answers_never_cross(edge: dict[str, Any]) -> None:
    url = edge["url"] + "main.js"
    hosts = {"127.0.0.1:{port}": "r1", "pr-1.preview.localhost:{port}": "r2", "pr-2.preview.localhost:{port}": "r3"}
    for round_ in ("Miss from cloudfront", "Hit from cloudfront", "Hit from cloudfront"):
        for host, release in hosts.items():
            script = fetch(url, host, SCRIPT)
            assert (script.body, script.header("X-Cache")) == (f"console.log('{release}');".encode(), round_), host
    write(edge["store"], "preview/pr-1", ReleasePointer(v=1, r="r3"), ReleasePointer(v=1, r="r2"))  # pr-1 now shows pr-2's release
    same = fetch(url, "pr-1.preview.localhost:{port}", SCRIPT)
    assert (same.body, same.header("X-Cache")) == (b"console.log('r3');", "Hit from cloudfront")  # one release, one cache entry
    assert fetch(url, "127.0.0.1:{port}", SCRIPT).body == b"console.log('r1');"


def test_unknown_and_deleted_previews_never_get_the_live_site(edge: dict[str, Any]) -> None:
    url, store = edge["url"], edge["store"]
    for host in (
        "pr-9.preview.localhost:{port}",
        "a.pr-1.preview.localhost:{port}",
        "preview.localhost:{port}",
        "R7.preview.localhost:{port}",
    ):
        missing = fetch(url, host, NAVIGATION)
        assert missing.status == 404 and b"preview" in missing.body and b"r1" not in missing.body, host
        assert (missing.header(RELEASE_HEADER), missing.cookies(), missing.header("Cache-Control")) == (None, [], "no-store")
    opened = fetch(url, "pr-1.preview.localhost:{port}", NAVIGATION)  # a viewer has the preview open ...
    assert opened.body == b"<h1>r2</h1>"
    write(store, "preview/pr-1", None, ReleasePointer(v=1, r="r2"))  # ... and it is deleted
    asset = fetch(url + "main.js", "pr-1.preview.localhost:{port}", {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r2"})
    reload = fetch(url, "pr-1.preview.localhost:{port}", NAVIGATION)
    for answer in (asset, reload):
        assert answer.status == 404 and b"There is no preview pr-1.preview.example.com" in answer.body
    assert fetch(url + "main.js", "127.0.0.1:{port}", SCRIPT).body == b"console.log('r1');"  # the live site is untouched


def test_a_preview_host_on_a_distribution_without_previews_is_refused(edge: dict[str, Any]) -> None:
    refused = fetch(edge["plain"], "pr-1.preview.localhost:{port}", NAVIGATION)
    assert refused.status == 403 and b"has no wildcard alias" in refused.body
    assert fetch(edge["plain"], "127.0.0.1:{port}", NAVIGATION).body == b"<h1>root</h1>"


def test_a_browser_shows_the_live_site_and_a_preview_side_by_side(edge: dict[str, Any], page: Any) -> None:
    """Debian's headless chromium (playwright) resolves ``*.localhost`` itself; one context, two tabs, two hosts."""
    port = urlsplit(edge["url"]).port
    live, preview = page, page.context.new_page()
    live.goto(f"http://localhost:{port}/")
    preview.goto(f"http://pr-1.preview.localhost:{port}/")
    assert (live.inner_text("body"), preview.inner_text("body")) == ("r1", "r2")
    assert (live.evaluate("document.cookie"), preview.evaluate("document.cookie")) == (f"{RELEASE_COOKIE}=r1", f"{RELEASE_COOKIE}=r2")
    script = "fetch('/main.js').then(r => r.text())"
    assert (live.evaluate(script), preview.evaluate(script)) == ("console.log('r1');", "console.log('r2');")
    write(edge["store"], "preview/pr-1", ReleasePointer(v=1, r="r4", k=("r2",)), ReleasePointer(v=1, r="r2"))
    assert preview.evaluate(script) == "console.log('r2');"  # the preview tab keeps its own pin
    preview.reload()
    assert (live.inner_text("body"), preview.inner_text("body")) == ("r1", "r4")
    write(edge["store"], "preview/pr-1", None, ReleasePointer(v=1, r="r4", k=("r2",)))  # deleted while the tab is open
    assert preview.evaluate("fetch('/main.js').then(r => r.status)") == 404
    assert live.evaluate(script) == "console.log('r1');"
    preview.reload()
    assert "There is no preview pr-1.preview.example.com" in preview.inner_text("body")
