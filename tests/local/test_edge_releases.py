"""Atomic releases on the local edge: the CDN blueprint's own functions, run in node against the KVS data plane.

The stacks are the real ``StaticSiteCdn`` templates (``AtomicReleases`` on, and off for the in-place
comparison) created by moto's CloudFormation with local mode's models; the edge fleet reads them back and runs
the LIVE function code from the stack (an ES module importing ``cloudfront``, ``cf.kvs()``, an async handler,
and the viewer-response function). The KeyValueStore data plane is local mode's emulation of AWS's documented
behaviour (:mod:`runway_ext.local.moto_kvs`); the pointer is written with the project's KVS client
(:class:`runway_ext.static_site.kvs.KvsClient`), as a deploy does. Release objects are put by the test
(the layout of the atomic-releases contract).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.blueprints.cdn import RELEASE_COOKIE, RELEASE_HEADER, release_router_function
from runway_ext.local.edge_fleet import EdgeFleet
from runway_ext.local.edge_functions import FunctionRunner
from runway_ext.local.edge_server import EdgeSite
from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_invalidations import install_invalidation_delay
from runway_ext.static_site.kvs import KvsClient, ReleasePointer
from tests.blueprints.blueprint_support import render

ATOMIC_BUCKET, IN_PLACE_BUCKET = "atomic-site", "in-place-site"
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest": "document"}
SCRIPT = {"Accept": "*/*", "Sec-Fetch-Dest": "script"}
ROOT = {
    "index.html": (b"<h1>root</h1>", "text/html"),
    "about/index.html": (b"<h1>root about</h1>", "text/html"),
    "main.js": (b"console.log('root');", "text/javascript"),
    "404.html": (b"<h1>not here</h1>", "text/html"),
}
RELEASE_OBJECTS = {
    f".runway-ext-releases/{release}/{path}": (body.replace(b"root", release.encode()), content_type)
    for release in ("r1", "r2")
    for path, (body, content_type) in ROOT.items()
    if path != "404.html"
}
SHARED = {".runway-ext-releases/shared/_next/static/chunk.js": (b"console.log('shared');", "text/javascript")}


class Served:
    """An HTTP answer of the edge (headers looked up in any case)."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


def fetch(url: str, headers: dict[str, str] | None = None) -> Served:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return Served(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Served(error.code, error.headers, error.read())


def put_objects(bucket: str, objects: dict[str, tuple[bytes, str]]) -> None:
    s3 = boto3.client("s3")
    for key, (body, content_type) in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl="max-age=600")


def create_stack(name: str, tmp_path: Path, **variables: Any) -> dict[str, str]:
    template = render("runway_ext.blueprints.cdn.StaticSiteCdn", tmp_path, NotFoundPage="/404.html", **variables)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template)
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


@pytest.fixture
def sites(aws: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The atomic stack and an in-place one with the same root objects, served by one fleet."""
    install()
    install_invalidation_delay(0)
    atomic = create_stack("atomic", tmp_path / "a", BucketName=ATOMIC_BUCKET)
    in_place = create_stack("in-place", tmp_path / "b", BucketName=IN_PLACE_BUCKET, AtomicReleases=False)
    put_objects(ATOMIC_BUCKET, {**ROOT, **RELEASE_OBJECTS, **SHARED})
    put_objects(IN_PLACE_BUCKET, ROOT)
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        urls = fleet.sites()
        yield {
            "fleet": fleet,
            "store": atomic["KeyValueStoreArn"],
            "atomic": urls[atomic["DistributionId"]],
            "in_place": urls[in_place["DistributionId"]],
            "distribution": atomic["DistributionId"],
        }
    finally:
        fleet.stop()


def point(store: str, pointer: ReleasePointer | None, expected: str | None) -> str:
    """Write the live pointer with the project's KVS client (compare-and-swap on the expected old value)."""
    value = pointer.to_value() if pointer else None
    assert value is not None
    KvsClient.from_session(boto3.Session()).put_key_if(store, "live", value, expected)
    return value


def test_the_stack_resolves_its_store_and_the_functions_are_associated(sites: dict[str, Any]) -> None:
    store = sites["store"]
    assert store.startswith("arn:aws:cloudfront::123456789012:key-value-store/")
    site = sites["fleet"]._served[sites["distribution"]].server.site
    assert site.function_store == store and site.response_function_store is None
    assert site.function_code.startswith("import cf from 'cloudfront';") and site.response_function_code


def test_never_switched_serves_the_root_exactly_as_the_in_place_layout(sites: dict[str, Any]) -> None:
    for path, headers in (
        ("", NAVIGATION),
        ("about", NAVIGATION),
        ("about/", NAVIGATION),
        ("main.js", SCRIPT),
        ("nope.html", NAVIGATION),
        (".runway-ext/releases/index.json", SCRIPT),
    ):
        atomic, in_place = fetch(sites["atomic"] + path, headers), fetch(sites["in_place"] + path, headers)
        assert (atomic.status, atomic.body, atomic.header("Content-Type")) == (
            in_place.status,
            in_place.body,
            in_place.header("Content-Type"),
        )
        assert atomic.header(RELEASE_HEADER) is None and atomic.cookies() == [], path
    assert fetch(sites["atomic"], NAVIGATION).body == b"<h1>root</h1>"


def test_switch_pin_skew_window_and_rollback(sites: dict[str, Any]) -> None:
    url, store = sites["atomic"], sites["store"]
    live_r1 = point(store, ReleasePointer(v=1, r="r1"), None)
    page = fetch(url, NAVIGATION)
    assert (page.status, page.body, page.header(RELEASE_HEADER)) == (200, b"<h1>r1</h1>", "r1")
    assert page.cookies() == [f"{RELEASE_COOKIE}=r1; Path=/; SameSite=Lax"]
    assert fetch(url + "main.js", SCRIPT).body == b"console.log('r1');"

    live_r2 = point(store, ReleasePointer(v=1, r="r2", k=("r1",)), live_r1)  # the switch: no invalidation
    pinned = {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r1"}
    script = fetch(url + "main.js", pinned)  # a tab opened on r1 keeps getting r1's assets (skew window)
    assert (script.body, script.header(RELEASE_HEADER), script.cookies()) == (b"console.log('r1');", "r1", [])
    unpinned = fetch(url + "main.js", SCRIPT)
    assert (unpinned.body, unpinned.header(RELEASE_HEADER)) == (b"console.log('r2');", "r2")
    navigation = fetch(url + "about", {**NAVIGATION, "Cookie": f"{RELEASE_COOKIE}=r1"})  # navigations ignore the pin and move it
    assert (navigation.body, navigation.header(RELEASE_HEADER)) == (b"<h1>r2 about</h1>", "r2")
    assert navigation.cookies() == [f"{RELEASE_COOKIE}=r2; Path=/; SameSite=Lax"]
    stale = fetch(url + "main.js", {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r7"})  # a pin outside k: the live release
    assert (stale.body, stale.header(RELEASE_HEADER)) == (b"console.log('r2');", "r2")

    point(store, ReleasePointer(v=1, r="r1", k=("r2",)), live_r2)  # rollback, again without an invalidation
    assert fetch(url + "main.js", SCRIPT).body == b"console.log('r1');"
    assert fetch(url + "main.js", {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r2"}).body == b"console.log('r2');"
    assert fetch(url + "main.js", SCRIPT).header("X-Cache") == "Hit from cloudfront"  # cached by the rewritten URI


def test_shared_prefixes_map_to_the_shared_folder(sites: dict[str, Any]) -> None:
    point(sites["store"], ReleasePointer(v=1, r="r2", s=("_next/static/",)), None)
    chunk = fetch(sites["atomic"] + "_next/static/chunk.js", SCRIPT)
    assert (chunk.status, chunk.body, chunk.header(RELEASE_HEADER)) == (200, b"console.log('shared');", "r2")
    assert "cookie" not in (chunk.header("Vary") or "").lower()  # shared bytes are the same for every release
    own = fetch(sites["atomic"] + "main.js", {**SCRIPT, "Accept-Encoding": "gzip"})
    assert own.body == b"console.log('r2');" and own.header("Vary") == "Cookie"  # same URL, other bytes per release
    big = "x" * 2000
    boto3.client("s3").put_object(
        Bucket=ATOMIC_BUCKET, Key=".runway-ext-releases/r2/big.js", Body=big.encode(), ContentType="text/javascript"
    )
    compressed = fetch(sites["atomic"] + "big.js", {**SCRIPT, "Accept-Encoding": "gzip"})
    assert compressed.header("Content-Encoding") == "gzip" and compressed.header("Vary") == "Accept-Encoding, Cookie"


def test_error_pages_are_fetched_without_the_viewer_request_function(sites: dict[str, Any]) -> None:
    point(sites["store"], ReleasePointer(v=1, r="r2"), None)
    missing = fetch(sites["atomic"] + "nope.html", NAVIGATION)
    # r2 has no nope.html: the NotFoundPage is read at its plain key (the root's 404.html), and no
    # viewer-response function runs on an origin error, so neither header nor cookie is set
    assert (missing.status, missing.body, missing.header(RELEASE_HEADER), missing.cookies()) == (404, b"<h1>not here</h1>", None, [])


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"v":2,"r":"r2"}',
        '{"v":1,"r":"../r2"}',
        '{"v":1,"r":"r2","k":"r1"}',
        '{"v":1,"r":"r2","s":["/abs/"]}',
        "[]",
    ],
)
def test_a_bad_pointer_value_serves_the_root_never_html_for_javascript(sites: dict[str, Any], value: str) -> None:
    store = sites["store"]
    raw = KvsClient.from_session(boto3.Session()).client  # a writer bypassing the model, as a hand edit would
    raw.update_keys(KvsARN=store, IfMatch=raw.describe_key_value_store(KvsARN=store)["ETag"], Puts=[{"Key": "live", "Value": value}])
    script = fetch(sites["atomic"] + "main.js", {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r1"})
    assert (script.status, script.body, script.header("Content-Type")) == (200, b"console.log('root');", "text/javascript")
    assert script.header(RELEASE_HEADER) is None
    assert fetch(sites["atomic"], NAVIGATION).body == b"<h1>root</h1>"


def test_a_store_that_cannot_be_read_serves_the_root(sites: dict[str, Any]) -> None:
    url, store = sites["atomic"], sites["store"]
    point(store, ReleasePointer(v=1, r="r2"), None)
    assert fetch(url + "main.js", SCRIPT).body == b"console.log('r2');"
    live = sites["fleet"]._served[sites["distribution"]].server.site
    unreachable = FunctionRunner(kvs_endpoint="http://127.0.0.1:9")  # the data plane does not answer
    try:
        cut_off = EdgeSite(live.config, live.origin, unreachable, live.function_code, live.function_store, live.response_function_code)
        answer = cut_off.answer("GET", "/main.js", list(SCRIPT.items()))
        assert (answer.status, answer.body, answer.header("Content-Type")) == (200, b"console.log('root');", "text/javascript")
        assert answer.header(RELEASE_HEADER) is None
    finally:
        unreachable.stop()
    cloudfront = boto3.client("cloudfront")
    (summary,) = cloudfront.list_key_value_stores()["KeyValueStoreList"]["Items"]
    cloudfront.delete_key_value_store(Name=summary["Name"], IfMatch="any")  # the store deleted behind the edge's back
    script = fetch(url + "main.js", {**SCRIPT, "Cookie": f"{RELEASE_COOKIE}=r2"})
    assert (script.status, script.body, script.header(RELEASE_HEADER)) == (200, b"console.log('root');", None)


def test_a_release_header_sent_by_the_viewer_is_not_trusted(sites: dict[str, Any]) -> None:
    spoofed = fetch(sites["atomic"] + "main.js", {**NAVIGATION, "X-Runway-Ext-Release": "r1"})
    assert spoofed.header(RELEASE_HEADER) is None and spoofed.cookies() == []  # fallback: the header was dropped
    point(sites["store"], ReleasePointer(v=1, r="r2"), None)
    spoofed = fetch(sites["atomic"] + "main.js", {**SCRIPT, "X-Runway-Ext-Release": "r1"})
    assert (spoofed.body, spoofed.header(RELEASE_HEADER)) == (b"console.log('r2');", "r2")


def test_function_and_model_agree_on_what_a_pointer_is(aws: Any) -> None:
    """The function's parser and :class:`ReleasePointer` accept and refuse the same values (run in node).

    One difference is by design: unknown fields are ignored by the function and refused by the model (never written).
    """
    from pydantic import ValidationError

    store = str(boto3.client("cloudfront").create_key_value_store(Name="parity")["KeyValueStore"]["ARN"])
    raw = KvsClient.from_session(boto3.Session()).client
    runner = FunctionRunner(kvs_endpoint=aws.endpoint)
    code = release_router_function()
    values = [
        '{"v":1,"r":"r2"}',
        '{"v":1,"r":"r2","s":[],"k":[]}',
        '{"v":1,"r":"r12","s":["_next/static/","assets/"],"k":["r11","r3"]}',
        '{"v":1,"r":"r2","s":["a/b/"]}',
        '{"v":1,"r":"r0"}',
        '{"v":1,"r":"r02"}',
        '{"v":"1","r":"r2"}',
        '{"v":true,"r":"r2"}',
        '{"v":1,"r":"R2"}',
        '{"v":1,"r":"r2","k":["x"]}',
        '{"v":1,"r":"r2","s":"assets/"}',
        '{"v":1,"r":"r2","s":["assets"]}',
        '{"v":1,"r":"r2","s":["a//b/"]}',
        '{"v":1,"r":"r2","s":["./"]}',
        '{"v":1,"r":"r2","s":["a/../"]}',
        '{"v":1,"r":"r2","s":["a b/"]}',
        '{"v":1,"r":"r2","s":["a\\\\b/"]}',
        '{"v":1}',
        "null",
        "7",
    ]
    try:
        for value in values:
            raw.update_keys(
                KvsARN=store, IfMatch=raw.describe_key_value_store(KvsARN=store)["ETag"], Puts=[{"Key": "live", "Value": value}]
            )
            event = {"request": {"method": "GET", "uri": "/main.js", "querystring": {}, "headers": {}, "cookies": {}}}
            result, _logs = runner.call(code, event, store)
            served_release = result["uri"].startswith("/.runway-ext-releases/")
            try:
                ReleasePointer.from_value(value)
                model_accepts = True
            except (ValidationError, ValueError):
                model_accepts = False
            assert served_release == model_accepts, value
    finally:
        runner.stop()
    assert json.loads(values[2])["r"] == "r12"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import fs from 'fs';\nfunction handler(event) { return event.request; }", "module 'fs' is not available"),
        ("import cf from 'cloudfront';\nfunction other(event) { return event.request; }", "defines no handler"),
        (
            "import cf from 'cloudfront';\nasync function handler(event) { await cf.kvs().get('live'); return event.request; }",
            "no key value store is associated",
        ),
        (
            "import cf from 'cloudfront';\nfunction handler(event) { cf.updateRequestOrigin({}); return event.request; }",
            "not emulated",
        ),
        ("import cf from 'cloudfront';\nfunction handler(event) { while (true) {} }", "timed out"),
    ],
)
def test_module_functions_fail_like_cloudfront_functions(code: str, expected: str) -> None:
    from runway_ext.local.edge_functions import FunctionError

    runner = FunctionRunner()
    try:
        with pytest.raises(FunctionError, match=expected):
            runner.call(code, {"request": {"method": "GET", "uri": "/", "headers": {}, "cookies": {}, "querystring": {}}})
        ok, _logs = runner.call("function handler(event) { return event.request; }", {"request": {"uri": "/after"}})
        assert ok == {"uri": "/after"}  # the runner keeps working after a failed call
    finally:
        runner.stop()


def test_kvs_helpers_read_the_local_data_plane(aws: Any) -> None:
    store = str(boto3.client("cloudfront").create_key_value_store(Name="helpers")["KeyValueStore"]["ARN"])
    KvsClient.from_session(boto3.Session()).put_key_if(store, "ü/live", '{"a":[1,2]}', None)
    code = """import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
    const text = await kvs.get('ü/live');
    const parsed = await kvs.get('ü/live', { format: 'json' });
    const bytes = await kvs.get('ü/live', { format: 'bytes' });
    const meta = await kvs.meta();
    let missing = 'resolved';
    try { await kvs.get('nope'); } catch (e) { missing = 'rejected'; }
    event.request.headers['x-result'] = { value: JSON.stringify([text, parsed.a, bytes.length, await kvs.exists('ü/live'),
        await kvs.exists('nope'), missing, meta.keyCount, typeof meta.creationDateTime]) };
    return event.request;
}
"""
    runner = FunctionRunner(kvs_endpoint=aws.endpoint)
    try:
        result, _logs = runner.call(
            code, {"request": {"method": "GET", "uri": "/", "headers": {}, "cookies": {}, "querystring": {}}}, store
        )
    finally:
        runner.stop()
    assert json.loads(result["headers"]["x-result"]["value"]) == ['{"a":[1,2]}', [1, 2], 11, True, False, "rejected", 1, "string"]


def test_a_browser_tab_keeps_its_release_across_a_switch(sites: dict[str, Any], page: Any) -> None:
    """Debian's headless chromium (playwright): its own Sec-Fetch-Dest/Accept headers and cookie jar drive the choice."""
    url, store = sites["atomic"], sites["store"]
    live_r1 = point(store, ReleasePointer(v=1, r="r1"), None)
    page.goto(url)
    assert page.inner_text("body") == "r1"
    assert page.evaluate("document.cookie") == f"{RELEASE_COOKIE}=r1"
    point(store, ReleasePointer(v=1, r="r2", k=("r1",)), live_r1)  # the switch, while the tab is open
    # the tab's assets stay r1 (the browser's own cache holds r1's main.js too: Vary: Cookie keeps it from
    # answering for r2 once the pin moves)
    assert page.evaluate("fetch('/main.js').then(r => r.text())") == "console.log('r1');"
    assert page.evaluate("fetch('/main.js').then(r => r.headers.get('x-runway-ext-release'))") == "r1"
    page.reload()  # a reload is a navigation: the live release, and the pin moves
    assert page.inner_text("body") == "r2"
    assert page.evaluate("document.cookie") == f"{RELEASE_COOKIE}=r2"
    assert page.evaluate("fetch('/main.js').then(r => r.text())") == "console.log('r2');"


def write_build(folder: Path, version: str) -> Path:
    """A build whose stable-named page and entry script load a chunk named by its content, as bundlers write."""
    chunk = f"chunk-{version}.js"
    files = {
        "index.html": f'<h1 id="v">{version}</h1><script type="module" src="/main.js"></script>',
        "main.js": f"import {{ mark }} from '/assets/{chunk}'; mark();",
        f"assets/{chunk}": f"export function mark() {{ document.body.dataset.chunk = '{version}'; }}",
        "404.html": "<h1>not here</h1>",
    }
    for name, text in files.items():
        path = folder / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_a_tab_open_across_a_real_deploy_and_rollback(aws: Any, tmp_path: Path, page: Any) -> None:
    """Real Chromium on the local edge; the npm_build hook deploys, `runway-ext site rollback` rolls back (no
    invalidation either way): the open tab's old chunk still loads, a reload shows the new release, and the first
    reload after the rollback shows the old one again."""
    from runway_ext.cli import main
    from runway_ext.hooks.npm_build import build_and_sync_app

    install()
    install_invalidation_delay(0)
    outputs = create_stack("deployed", tmp_path / "stack", BucketName="deployed-site")
    store = outputs["KeyValueStoreArn"]

    def deploy(version: str) -> Any:
        app = write_build(tmp_path / version, version)
        return build_and_sync_app(
            None, None, bucket_name="deployed-site", app_path=str(app), build=False, output_dir="out", key_value_store_arn=store
        )

    assert deploy("v1")["release"] == "r1"
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        url = fleet.sites()[outputs["DistributionId"]]
        page.goto(url)
        page.wait_for_function("document.body.dataset.chunk === 'v1'")
        assert page.inner_text("#v") == "v1"
        second = deploy("v2")
        assert (second["release"], second["changed_paths"] != []) == ("r2", True)
        # the open tab (pinned to r1) still loads r1's chunk after the switch: the skew window
        loaded = page.evaluate("import('/assets/chunk-v1.js').then(() => 'loaded', e => String(e))")
        assert loaded == "loaded"
        page.reload()
        page.wait_for_function("document.body.dataset.chunk === 'v2'")
        assert page.inner_text("#v") == "v2"
        assert main(["site", "rollback", "--bucket-name", "deployed-site", "--key-value-store-arn", store, "--to", "r1"]) == 0
        page.reload()  # the first reload after the rollback: nothing to invalidate, nothing to wait for
        page.wait_for_function("document.body.dataset.chunk === 'v1'", timeout=2000)
        assert page.inner_text("#v") == "v1"
        distribution = outputs["DistributionId"]
        assert boto3.client("cloudfront").list_invalidations(DistributionId=distribution)["InvalidationList"]["Quantity"] == 0
    finally:
        fleet.stop()


def test_a_rollback_given_a_distribution_whose_router_reads_another_store_is_refused(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stacks' real functions and associations (the blueprint on the stand-in); nothing is written on a refusal."""
    from runway_ext.cli import main
    from runway_ext.hooks.npm_build import build_and_sync_app

    install()
    ours = create_stack("ours", tmp_path / "ours", BucketName="ours-site")
    other = create_stack("other", tmp_path / "other", BucketName="other-site")
    in_place = create_stack("plain", tmp_path / "plain", BucketName="plain-site", AtomicReleases=False)
    for version in ("v1", "v2"):
        app = write_build(tmp_path / version, version)
        build_and_sync_app(
            None,
            None,
            bucket_name="ours-site",
            app_path=str(app),
            build=False,
            output_dir="out",
            key_value_store_arn=ours["KeyValueStoreArn"],
        )
    client = KvsClient.from_session(boto3.Session())
    before = client.get_key(ours["KeyValueStoreArn"], "live")[0]
    capsys.readouterr()  # what the deploys logged
    argv = ["site", "rollback", "--bucket-name", "ours-site", "--key-value-store-arn", ours["KeyValueStoreArn"], "--to", "r1"]
    for distribution, expected in (
        (other["DistributionId"], f"reads key value store {other['KeyValueStoreArn']}, not {ours['KeyValueStoreArn']}"),
        (in_place["DistributionId"], "is associated with no key value store"),
    ):
        assert main([*argv, "--distribution-id", distribution]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: key_value_store_arn: ") and expected in err[0] and "nothing was changed" in err[0], err
        assert client.get_key(ours["KeyValueStoreArn"], "live")[0] == before
    assert main([*argv, "--distribution-id", ours["DistributionId"]]) == 0
    assert json.loads(client.get_key(ours["KeyValueStoreArn"], "live")[0] or "")["r"] == "r1"
