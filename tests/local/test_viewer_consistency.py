"""A viewer polling the site through the local edge during a deploy, a rollback and a prune never sees a broken view.

A *view* is what a browser tab loads: ``/`` (a navigation), then every file the page references, recursively
(``index.html`` -> ``/style.css`` -> a hashed image; ``/main.js``, a stable name with other bytes per build ->
``import`` of a hashed chunk under ``assets/`` -> another hashed chunk). Every file of a build names that build
(``build bN``). On the atomic layout a view is **broken** when any answer is not 200 or names another build than
its page. On the in-place layout the live keys are overwritten one by one, so a view may mix two builds (an old
page, then the new ``/main.js``): counted, not a break; a view is broken there when any answer is not 200 (a
missing file) or names no single build.

The site is the real ``StaticSiteCdn`` stack created by moto's CloudFormation (local mode's models), served by
local mode's edge fleet, which runs the stack's own CloudFront Function code in node; the release pointer lives
in local mode's emulation of the KeyValueStore data plane (:mod:`runway_ext.local.moto_kvs`, AWS's documented
behaviour). Deploys are the npm_build hook itself (``key_value_store_arn``: release, one compare-and-swap of the
pointer, prune), the rollback is ``site rollback`` itself. The viewer is a thread with a cookie jar, as a browser
has (the ``rwx-release`` pin), talking to the edge on 127.0.0.1 only; it stops after a bounded number of views
or seconds. The pointer writes are timed by wrapping the project's KVS client (the call itself is unchanged), so
the test can also count views that were in flight at the instant of a switch.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.blueprints.cdn import RELEASE_COOKIE
from runway_ext.hooks.npm_build import build_and_sync_app
from runway_ext.hooks.site import rollback_hook
from runway_ext.local.edge_fleet import EdgeFleet
from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_invalidations import install_invalidation_delay
from runway_ext.static_site import kvs as kvs_module
from runway_ext.static_site.layout import RELEASE_OBJECTS_FOLDER
from runway_ext.static_site.s3 import S3Site
from tests.blueprints.blueprint_support import render

ATOMIC_BUCKET, IN_PLACE_BUCKET = "viewer-atomic", "viewer-in-place"
PADDING = 60
"""Other files of each build (pages and plain files), so a deploy takes long enough for views to run inside it."""
MIN_VIEWS = 15
"""Views each phase must have completed: the check cannot pass without looking."""
MAX_VIEWS, MAX_SECONDS = 20_000, 240.0
MARKER = re.compile(rb"build (b[0-9]+)")
HTML_REFS = re.compile(r"""(?:src|href)="([^"]+)\"""")
JS_REFS = re.compile(r"""(?:\bfrom\s*|\bimport\s*)['"]([^'"]+)['"]""")
CSS_REFS = re.compile(r"""url\(([^)]+)\)""")
DESTINATIONS = {".js": "script", ".css": "style", ".svg": "image"}
SLOW_UPLOAD_SECONDS = 1.0
"""How much longer an upload of a hashed file (under ``assets/``) takes in the in-place test: a large chunk on a slow link."""


def hashed(folder: str, stem: str, suffix: str, content: bytes) -> str:
    return f"{folder}{stem}-{hashlib.sha256(content).hexdigest()[:10]}{suffix}"


def build_files(label: str) -> dict[str, bytes]:
    """Build ``label``'s files: every one names the build; hashed names change with their content."""
    leaf = f"export const leaf = 'build {label}';\n".encode()
    leaf_name = hashed("assets/", "chunk", ".js", leaf)
    chunk = f"import {{ leaf }} from './{leaf_name.removeprefix('assets/')}';\nexport const name = 'build {label}' + leaf;\n".encode()
    chunk_name = hashed("assets/", "chunk", ".js", chunk)
    main = f"import {{ name }} from './{chunk_name}';\ndocument.title = name; // build {label}\n".encode()
    image = f'<svg xmlns="http://www.w3.org/2000/svg"><!-- build {label} --></svg>'.encode()
    image_name = hashed("assets/", "bg", ".svg", image)
    style = f"/* build {label} */ body {{ background: url(/{image_name}); }}\n".encode()
    page = (
        f'<!doctype html><html><head><link rel="stylesheet" href="/style.css">'
        f'<script type="module" src="/main.js"></script></head><body>build {label}</body></html>'
    ).encode()
    padding = {f"pages/p{i}/index.html": f"<p>page {i} build {label}</p>".encode() for i in range(PADDING // 2)}
    padding.update({f"data/d{i}.txt": f"data {i} build {label}".encode() for i in range(PADDING - PADDING // 2)})
    return {
        "index.html": page,
        "404.html": b"<h1>not found</h1>",
        "main.js": main,
        "style.css": style,
        leaf_name: leaf,
        chunk_name: chunk,
        image_name: image,
        **padding,
    }


def write_build(app: Path, label: str) -> Path:
    output = app / "out"
    if output.exists():
        shutil.rmtree(output)
    for name, content in build_files(label).items():
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return app


@dataclass
class View:
    phase: str
    started: float
    ended: float = 0.0
    build: str | None = None
    files: int = 0
    problem: str | None = None
    mixed: bool = False


@dataclass
class Viewer:
    """One browser tab: a cookie jar, a loop of views until told to stop (or its bounds are reached).

    ``one_build``: a view whose files name another build than its page is broken (else it is only ``mixed``).
    """

    url: str
    one_build: bool = True
    phase: str = "before"
    views: list[View] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar))
        host = urllib.parse.urlsplit(self.url).hostname
        assert host == "127.0.0.1", host  # loopback only
        self.thread = threading.Thread(target=self._run, name="viewer", daemon=True)

    def start(self) -> Viewer:
        self.thread.start()
        return self

    def finish(self) -> list[View]:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the viewer did not stop"
        return self.views

    def count(self, phase: str) -> int:
        return sum(1 for view in list(self.views) if view.phase == phase)

    def wait_for(self, phase: str, views: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count(phase) < views and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.02)

    def wait_for_build(self, phase: str, build: str, timeout: float = 30) -> None:
        """Until a view of ``phase`` shows ``build`` (an edge cache may serve the page before it for a while)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.thread.is_alive():
            if any(view.phase == phase and view.build == build for view in list(self.views)):
                return
            time.sleep(0.02)

    def _run(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set() and len(self.views) < MAX_VIEWS and time.monotonic() - started < MAX_SECONDS:
            view = View(self.phase, time.monotonic())
            try:
                self._view(view)
            except Exception as error:
                view.problem = f"{type(error).__name__}: {error}"
            view.ended = time.monotonic()
            self.views.append(view)

    def _get(self, url: str, destination: str) -> tuple[int, bytes]:
        headers = {"Sec-Fetch-Dest": destination, "Accept": "text/html,*/*;q=0.8" if destination == "document" else "*/*"}
        try:
            with self.opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _view(self, view: View) -> None:
        status, page = self._get(self.url, "document")
        found = MARKER.findall(page)
        if status != 200 or len(set(found)) != 1:
            view.problem = f"/ answered {status} naming {found}"
            return
        view.build = found[0].decode()
        queue, seen = [(self.url, page, "document")], {self.url}
        while queue:
            base, body, kind = queue.pop()
            text = body.decode()
            pattern = {"document": HTML_REFS, "script": JS_REFS, "style": CSS_REFS}.get(kind)
            for reference in pattern.findall(text) if pattern else []:
                url = urllib.parse.urljoin(base, reference.strip("'\""))
                if url in seen:
                    continue
                seen.add(url)
                destination = DESTINATIONS[Path(urllib.parse.urlsplit(url).path).suffix]
                status, content = self._get(url, destination)
                named = {marker.decode() for marker in MARKER.findall(content)}
                view.files += 1
                if status != 200 or len(named) != 1 or (self.one_build and named != {view.build}):
                    view.problem = f"{urllib.parse.urlsplit(url).path} answered {status} naming {sorted(named)} in a view of {view.build}"
                    return
                view.mixed = view.mixed or named != {view.build}
                queue.append((url, content, destination))


@dataclass
class Switches:
    """When the project's KVS client wrote a pointer (start and end of each compare-and-swap)."""

    intervals: list[tuple[float, float]] = field(default_factory=list)

    def in_flight(self, views: list[View]) -> int:
        return sum(1 for view in views if any(view.started < end and view.ended > start for start, end in self.intervals))


@pytest.fixture(autouse=True)
def digest_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_EXT_CACHE_DIR", str(tmp_path_factory.mktemp("runway-ext-cache")))


@pytest.fixture
def switches(monkeypatch: pytest.MonkeyPatch) -> Switches:
    recorded = Switches()
    original = kvs_module.KvsClient._swap

    def timed_swap(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return original(self, *args, **kwargs)
        finally:
            recorded.intervals.append((started, time.monotonic()))

    monkeypatch.setattr(kvs_module.KvsClient, "_swap", timed_swap)
    return recorded


def create_stack(name: str, tmp_path: Path, **variables: Any) -> dict[str, str]:
    template = render("runway_ext.blueprints.cdn.StaticSiteCdn", tmp_path, NotFoundPage="/404.html", **variables)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template)
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


@pytest.fixture
def edge(aws: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An atomic stack and an in-place one, served by one local edge fleet."""
    install()
    install_invalidation_delay(0)
    atomic = create_stack("viewer-atomic", tmp_path / "a", BucketName=ATOMIC_BUCKET)
    in_place = create_stack("viewer-in-place", tmp_path / "b", BucketName=IN_PLACE_BUCKET, AtomicReleases=False)
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        urls = fleet.sites()
        yield {
            "store": atomic["KeyValueStoreArn"],
            "atomic": urls[atomic["DistributionId"]],
            "in_place": urls[in_place["DistributionId"]],
            "in_place_distribution": in_place["DistributionId"],
        }
    finally:
        fleet.stop()


def deploy(app: Path, label: str, store: str | None, bucket: str = ATOMIC_BUCKET, *, delete: bool = True) -> Any:
    atomic = {"key_value_store_arn": store, "shared_prefixes": ["assets/"], "keep_days": 0} if store else {}
    result = build_and_sync_app(
        None,
        None,
        bucket_name=bucket,
        app_path=str(write_build(app, label)),
        build=False,
        output_dir="out",
        delete=delete,
        max_delete_fraction=1,
        keep_releases=2,
        **atomic,
    )
    assert result, f"the deploy of {label} failed"
    return result


def release_keys(release: str) -> list[str]:
    s3 = boto3.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=ATOMIC_BUCKET, Prefix=f"{RELEASE_OBJECTS_FOLDER}{release}/")
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def broken(views: list[View]) -> list[str]:
    return [f"{view.phase}: {view.problem}" for view in views if view.problem]


def test_a_viewer_never_sees_a_missing_file_or_two_releases_in_one_view(edge: dict[str, Any], switches: Switches, tmp_path: Path) -> None:
    app, store = tmp_path / "app", edge["store"]
    first = deploy(app, "b1", store)
    assert (first["layout"], first["release"]) == ("atomic", "r1")
    viewer = Viewer(edge["atomic"]).start()
    viewer.wait_for("before", MIN_VIEWS)
    assert any(cookie.name == RELEASE_COOKIE and cookie.value == "r1" for cookie in viewer.jar)  # the tab is pinned

    phases: dict[str, tuple[str, str]] = {}  # phase -> (build live before, build live after)
    ran: list[tuple[str, float, float]] = []

    def run(phase: str, before: str, after: str, action: Any) -> Any:
        viewer.phase = phase
        started = time.monotonic()
        result = action()
        ran.append((phase, started, time.monotonic()))
        viewer.wait_for(phase, MIN_VIEWS)  # the phase ends once enough views of the new state were seen too
        phases[phase] = (before, after)
        return result

    second = run("deploy r2", "b1", "b2", lambda: deploy(app, "b2", store))
    assert second["release"] == "r2" and second["copied"] > 0  # a real release: unchanged files copied server side
    back = run(
        "rollback to r1", "b2", "b1", lambda: rollback_hook(None, None, bucket_name=ATOMIC_BUCKET, key_value_store_arn=store, to="r1")
    )
    assert (back["layout"], back["target"], back["verified"]) == ("atomic", "r1", len(build_files("b1")))
    pruned: list[str] = []
    live = "b1"
    for n in range(3, 7):
        label = f"b{n}"
        result = run(f"deploy r{n}", live, label, lambda label=label: deploy(app, label, store))
        assert result["release"] == f"r{n}"
        pruned += result["pruned"]
        live = label
    views = viewer.finish()

    assert broken(views) == []
    assert {"r1", "r2"} <= set(pruned)  # prune ran during the viewing, and removed the releases' own objects
    assert release_keys("r1") == [] and release_keys("r2") == []
    assert len(views) < MAX_VIEWS, "the viewer stopped at its bound before the end"
    for phase, (before, after) in phases.items():
        seen = {view.build for view in views if view.phase == phase}
        assert viewer.count(phase) >= MIN_VIEWS, phase
        assert {before, after} <= seen, (phase, seen)  # the switch happened while this phase was being viewed
    during = {phase: [view for view in views if view.started < end and view.ended > start] for phase, start, end in ran}
    in_flight = switches.in_flight(views)
    counts = {phase: viewer.count(phase) for phase in ["before", *phases]}
    print(
        f"views per phase {counts}; during each operation { {phase: len(v) for phase, v in during.items()} };"
        f" in flight at a pointer write {in_flight} of {len(switches.intervals)} writes"
    )
    assert all(len(overlapping) >= 1 for overlapping in during.values()), during.keys()
    assert in_flight >= 1  # some views were mid-way when the pointer moved: the pin carried them


@pytest.fixture
def slow_hashed_uploads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float, float]]:
    """Every upload of the sync, as (key, start, end); those of hashed files start :data:`SLOW_UPLOAD_SECONDS` late.

    The project's upload itself is unchanged (it is wrapped): the delay stands for a large chunk on a slow
    link, so that a write order that puts a stable name's new bytes live before the new chunk they import
    leaves that chunk missing for long enough that a view lands in the gap.
    """
    uploads: list[tuple[str, float, float]] = []
    original = S3Site._upload

    def slow(self: S3Site, upload: Any, *args: Any) -> str:
        started = time.monotonic()
        if upload.key.startswith("assets/"):
            time.sleep(SLOW_UPLOAD_SECONDS)
        try:
            return original(self, upload, *args)
        finally:
            uploads.append((upload.key, started, time.monotonic()))

    monkeypatch.setattr(S3Site, "_upload", slow)
    return uploads


def test_a_viewer_of_the_in_place_layout_never_misses_a_file_during_a_deploy(
    edge: dict[str, Any], tmp_path: Path, slow_hashed_uploads: list[tuple[str, float, float]]
) -> None:
    """The same viewer on the in-place stack, during five deploys that overwrite the live keys: never a missing file.

    Each deploy overwrites ``/main.js`` with bytes importing a new hashed chunk (which imports another),
    ``/style.css`` with bytes naming a new hashed image, the data files and every page. The writes go new keys
    first, then the overwritten files, then the pages (:mod:`runway_ext.static_site.inplace`), each wave complete
    before the next, so whatever file of either build a view gets, everything it references is there. The deploys
    keep the files a build dropped (``delete: false``, the default): a view begun before a delete may still load
    what it removes, which is a question of when to delete, not of the order. Views do mix two builds here (an old
    page, an edge-cached file): only the atomic layout prevents that.
    """
    app = tmp_path / "app"
    deploy(app, "b1", None, IN_PLACE_BUCKET, delete=False)
    viewer = Viewer(edge["in_place"], one_build=False).start()
    viewer.wait_for("before", MIN_VIEWS)
    writing: dict[str, tuple[float, float]] = {}
    for n in range(2, 7):
        phase = viewer.phase = f"deploy b{n}"
        started = time.monotonic()
        result = deploy(app, f"b{n}", None, IN_PLACE_BUCKET, delete=False)
        assert (result["layout"], result["deleted"]) == ("in-place", 0)
        times = [(start, end) for _, start, end in slow_hashed_uploads if start >= started]
        writing[phase] = (min(start for start, _ in times), max(end for _, end in times))
        viewer.wait_for(phase, MIN_VIEWS)
        viewer.wait_for_build(phase, f"b{n}")
    views = viewer.finish()

    assert len(views) < MAX_VIEWS, "the viewer stopped at its bound before the end"
    assert broken([view for view in views if view.phase == "before"]) == []  # the viewer itself is sound
    during = {phase: [view for view in views if view.started < end and view.ended > start] for phase, (start, end) in writing.items()}
    mixed = sum(1 for view in views if view.mixed)
    print(
        f"in place: {len(views)} views, {mixed} mixing two builds; during each deploy's writes "
        f"{ {phase: len(overlapping) for phase, overlapping in during.items()} }"
    )
    assert broken(views) == []
    assert all(len(overlapping) >= 1 for overlapping in during.values()), during.keys()  # the check looked mid-deploy
    for phase in writing:
        assert phase.removeprefix("deploy ") in {view.build for view in views if view.phase == phase}, phase  # the deploy went live
