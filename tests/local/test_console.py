"""The local console's server and what it reads, against a real moto server (and Debian's docker-registry when installed).

The page in a browser after a real deploy is tests/local/test_console_browser.py; here: the DNS-rebinding guard,
loopback-only listening, the headers, redaction of what it shows, hostile names, journals and registries that
are broken, bounded or lying, the release records as the static-site hook writes them, and the session's
journal folder taken as input.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest

from runway_ext.core.log import register_secret
from runway_ext.local import console_releases, console_state
from runway_ext.local.console import journal_file_for, journal_folder
from runway_ext.local.console_server import Console
from runway_ext.local.console_state import journal_name, read_journal
from runway_ext.local.moto_server import MotoServer, free_port
from runway_ext.local.serve_session import session_folder
from runway_ext.static_site.objects import ObjectState
from runway_ext.static_site.records import Release, ReleaseSummary
from runway_ext.static_site.s3 import S3Site
from runway_ext.static_site.store import ReleaseStore


def client(moto: MotoServer, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=moto.endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def get(console: Console, path: str = "/", *, host: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", console.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True)
        if host != "":
            connection.putheader("Host", host or f"127.0.0.1:{console.port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        connection.close()


@pytest.fixture
def journals(tmp_path: Path) -> Path:
    folder = tmp_path / "journals"
    folder.mkdir()
    return folder


@pytest.fixture
def make_console(aws: MotoServer, journals: Path) -> Iterator[Any]:
    started: list[Console] = []

    def make(*, registry: str | None = None, sites: dict[str, str] | None = None) -> Console:
        console = Console(
            aws.endpoint, sites=lambda: dict(sites or {}), journals=lambda: sorted(journals.glob("*.jsonl")), registry=registry
        )
        started.append(console.start())
        return console

    yield make
    for console in started:
        console.stop()


def create_stack(moto: MotoServer, name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client(moto, "cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_answers_a_loopback_host_of_its_own_port(make_console: Any, host: str) -> None:
    console = make_console()
    status, headers, body = get(console, host=host.format(port=console.port))
    assert status == 200 and "runway-ext local console" in body
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "script-src 'self'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "evil.example", "127.0.0.1", "127.0.0.1:{other}", "127.0.0.1.nip.io:{port}", "0.0.0.0:{port}", ""]
)
def test_refuses_any_other_host_dns_rebinding(make_console: Any, aws: MotoServer, host: str) -> None:
    create_stack(aws, "secret-stack", {"Plain": "visible-value"})
    console = make_console()
    for path in ("/", "/main", "/console.js"):
        status, _, body = get(console, path, host=host.format(port=console.port, other=console.port + 1))
        assert status == 421, (host, path, status)
        assert "secret-stack" not in body and "visible-value" not in body


def test_listens_on_127_0_0_1_only_and_refuses_writes(make_console: Any) -> None:
    console = make_console()
    assert console._server is not None and console._server.server_address[0] == "127.0.0.1"
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
    for address in addresses:
        with pytest.raises(OSError):
            socket.create_connection((address, console.port), timeout=2).close()
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = get(console, method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert get(console, "/../etc/passwd")[0] == 404


def test_the_page_loads_nothing_from_elsewhere(make_console: Any, aws: MotoServer) -> None:
    create_stack(aws, "app", {"Url": "https://example.com/"})
    console = make_console(sites={"E1": "http://127.0.0.1:1/"})
    _, _, page = get(console)
    sources = re.findall(r'\s(?:src|href)="([^"]*)"', page)
    assert "/console.css" in sources and "/console.js" in sources
    assert all(source.startswith("/") for source in sources), sources  # stack outputs are text, not links
    for asset in ("/console.css", "/console.js"):
        status, headers, body = get(console, asset)
        assert status == 200 and body and "http" not in body.replace("no-store", "")


def test_stack_outputs_go_through_the_logs_redaction(make_console: Any, aws: MotoServer) -> None:
    register_secret("registered-s3cr3t-value")
    create_stack(
        aws,
        "app",
        {
            "DbPassword": "plain-looking-value",
            "DatabaseUrl": "postgres://app:hunter2pass@db.internal:5432/app",
            "Note": "uses registered-s3cr3t-value inside",
            "BucketName": "my-bucket",
        },
    )
    console = make_console()
    _, _, page = get(console)
    for secret in ("plain-looking-value", "hunter2pass", "registered-s3cr3t-value"):
        assert secret not in page
    assert "<code>DbPassword</code> = <code>***</code>" in page and "<code>DatabaseUrl</code> = <code>***</code>" in page
    assert "uses *** inside" in page and "<code>BucketName</code> = <code>my-bucket</code>" in page


def test_hostile_values_are_escaped(make_console: Any, aws: MotoServer, journals: Path) -> None:
    create_stack(aws, "app", {"Html": "<script>alert(1)</script>"})
    (journals / journal_name("deploy")).write_text(
        json.dumps({"hook": "npm_build<img src=x onerror=alert(2)>", "ok": False, "error": '"><script>alert(3)</script>'}) + "\n"
    )
    console = make_console()
    _, _, page = get(console)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_journal_runs_newest_first_with_figures_errors_and_bad_lines(make_console: Any, journals: Path) -> None:
    older = journals / journal_name("deploy", now=time.time() - 60, pid=1)
    older.write_text(json.dumps({"hook": "env_file_generator", "ok": True, "result": {"output_file": ".env", "action": "created"}}) + "\n")
    newer = journals / journal_name("deploy", pid=os.getpid() + 10_000_000)
    newer.write_text(
        json.dumps({"hook": "npm_build", "ok": True, "result": {"uploaded": 7, "deleted": 0, "unchanged": 0, "skipped": False}})
        + "\nnot json at all\n"
        + json.dumps({"hook": "cloudfront_invalidation", "ok": False, "error": "distribution_id: E404 does not exist"})
        + "\n"
    )
    console = make_console()
    _, _, page = get(console, "/main")
    assert page.index(newer.name) < page.index(older.name)
    assert "uploaded=7, deleted=0, unchanged=0, skipped=false" in page
    assert 'class="bad" data-hook="cloudfront_invalidation"' in page and "FAILED: distribution_id: E404 does not exist" in page
    assert f"{newer.name}: line 2 is not a journal entry; skipped" in page
    assert "output_file=.env, action=created" in page


def test_a_run_shows_while_its_journal_grows(make_console: Any, journals: Path) -> None:
    console = make_console()
    assert "No deploy has run" in get(console, "/main")[2]
    journal = journals / journal_name("deploy")
    journal.write_text(json.dumps({"hook": "npm_build", "ok": True, "result": {"uploaded": 1}}) + "\n")
    time.sleep(console_state_min_read())
    first = get(console, "/main")[2]
    assert "uploaded=1" in first and "cloudfront_invalidation" not in first
    with journal.open("a") as handle:
        handle.write(json.dumps({"hook": "cloudfront_invalidation", "ok": True, "result": {"status": "Completed"}}) + "\n")
    time.sleep(console_state_min_read())
    assert "status=Completed" in get(console, "/main")[2]


def console_state_min_read() -> float:
    from runway_ext.local.console_server import MIN_READ_SECONDS

    return MIN_READ_SECONDS + 0.1


def test_a_huge_journal_is_read_from_its_end_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_state, "MAX_JOURNAL_BYTES", 2000)
    journal = tmp_path / journal_name("deploy")
    lines = [json.dumps({"hook": f"hook{number}", "ok": True, "result": {"n": number}}) for number in range(200)]
    journal.write_text("\n".join(lines) + "\n")
    runs, problems = read_journal(journal)
    assert runs and len(runs) < 200 and runs[-1].hook == "hook199"
    assert problems == [f"{journal.name}: larger than 2000 bytes; only its end is shown"]


def test_unreadable_registry_is_a_line_not_a_broken_page(make_console: Any) -> None:
    closed = make_console(registry=f"127.0.0.1:{free_port()}")
    status, _, page = get(closed)
    assert status == 200 and "could not read images: registry 127.0.0.1:" in page and "catalog unreadable" in page
    remote = make_console(registry="registry.example.com:5000")
    assert "registry registry.example.com:5000: not a loopback address; not read" in get(remote)[2]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("Debian's docker-registry is not installed (bash .ci/docker-install.sh)")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: "
        + json.dumps(str(tmp_path / "registry"))
        + "}}\nhttp: {addr: "
        + f"'127.0.0.1:{port}'"
        + "}\n"
    )
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "docker-registry did not start"
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def push_manifest(registry: str, repository: str, tag: str, payload: bytes) -> tuple[str, str]:
    """Push one blob and an OCI manifest naming it with the registry's HTTP API; returns (manifest JSON, digest)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    blob_digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    config = b"{}"
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    for body, digest in ((payload, blob_digest), (config, config_digest)):
        started = opener.open(urllib.request.Request(f"http://{registry}/v2/{repository}/blobs/uploads/", method="POST"), timeout=10)
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        url = location if location.startswith("http") else f"http://{registry}{location}"
        upload = urllib.request.Request(
            f"{url}{separator}digest={digest}", data=body, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        try:
            opener.open(upload, timeout=10).close()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{upload.full_url}: {error.read()!r}") from None
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob_digest, "size": len(payload)}],
        }
    )
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        data=manifest.encode(),
        method="PUT",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    with opener.open(request, timeout=10) as response:
        return manifest, response.headers["Docker-Content-Digest"]


def test_images_in_the_registry_next_to_what_ecr_records_and_the_lookup_value(make_console: Any, aws: MotoServer, registry: str) -> None:
    ecr = client(aws, "ecr")
    ecr.create_repository(repositoryName="team/app")
    manifest, digest = push_manifest(registry, "team/app", "dev", b"layer one")
    ecr.put_image(repositoryName="team/app", imageManifest=manifest, imageTag="dev", imageDigest=digest)
    stale_manifest, stale_digest = push_manifest(registry, "team/app", "stale", b"layer two")
    ecr.put_image(repositoryName="team/app", imageManifest=manifest, imageTag="stale", imageDigest=digest)  # ECR lags behind
    push_manifest(registry, "only-here", "v1", b"layer three")
    console = make_console(registry=registry)
    _, _, page = get(console, "/main")
    row = re.search(r'<tr data-image="team/app:dev">.*?</tr>', page).group(0)  # type: ignore[union-attr]
    assert digest in row and "${ecr_image team/app::tag=dev}" in row
    assert f"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@{digest}" in row and "another digest" not in row
    stale = re.search(r'<tr data-image="team/app:stale">.*?</tr>', page).group(0)  # type: ignore[union-attr]
    assert stale_digest in stale and "ECR records another digest than the registry holds" in stale
    only = re.search(r'<tr data-image="only-here:v1">.*?</tr>', page).group(0)  # type: ignore[union-attr]
    assert "not recorded in ECR: the lookup fails" in only
    assert stale_manifest != manifest


def test_a_big_registry_is_read_up_to_a_bound(make_console: Any, registry: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(3):
        push_manifest(registry, "many", f"v{number}", f"layer {number}".encode())
    monkeypatch.setattr(console_state, "MAX_REGISTRY_IMAGES", 2)
    _, _, page = get(make_console(registry=registry), "/main")
    assert page.count('<tr data-image="many:') == 2
    assert f"registry {registry}: read stopped at 2 image(s) (at most 2 or 5 s a read)" in page


def release(seq: int, objects: dict[str, ObjectState], *, kind: str = "deploy") -> Release:
    summary = ReleaseSummary(
        id=f"r{seq}",
        seq=seq,
        time=f"2026-01-0{seq}T00:00:00Z",
        source_hash="a" * 64,
        settings_hash="b" * 64,
        deployed_by="ci@builder",
        kind=kind,  # type: ignore[arg-type]
        retention="copies",
        files=len(objects),
        changed=None,
    )
    return Release(summary, objects)


def state(text: str, content_type: str = "text/html") -> ObjectState:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return ObjectState(digest, len(text), f'"{digest[:32]}"', content_type, "no-cache")


def test_releases_through_the_hooks_own_records_live_marked_with_a_diff_each(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from runway_ext.local.console_page import render_main

    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="site-bucket")
    store = ReleaseStore(S3Site.with_client(s3, "site-bucket", "site/", log=logging.getLogger("test")))
    first = {"site/index.html": state("one"), "site/about/index.html": state("about")}
    second = {"site/index.html": state("two"), "site/docs/index.html": state("docs")}
    third = {**second, "site/docs/index.html": state("docs", "text/plain")}
    for number, objects in enumerate((first, second, third), start=1):
        store.append(release(number, objects), keep=10, guard=lambda: None)
    views = console_state.site_releases(s3, "site-bucket", "site/", log=logging.getLogger("test"))
    assert [(view.id, view.live) for view in views] == [("r3", True), ("r2", False), ("r1", False)]
    assert views[0].diff == (("headers", "site/docs/index.html"),)
    assert views[1].diff == (("removed", "site/about/index.html"), ("added", "site/docs/index.html"), ("changed", "site/index.html"))
    assert views[2].diff_total is None
    with monkeypatch.context() as patched:
        patched.setattr(console_releases, "MAX_RELEASES", 1)
        (newest,) = console_state.site_releases(s3, "site-bucket", "site/", log=logging.getLogger("test"))
        assert newest.id == "r3" and newest.diff == (("headers", "site/docs/index.html"),)  # the previous record still read
    s3.put_object(Bucket="site-bucket", Key="site/.runway-ext/releases/r2.json", Body=b"{broken")
    distribution_id = create_distribution(aws, "site-bucket", "/site")
    (site,) = console_state.read_sites(client(aws, "cloudfront"), s3, {distribution_id: "http://127.0.0.1:1/"})
    assert site.bucket == "site-bucket" and site.prefix == "site/" and site.url == "http://127.0.0.1:1/"
    assert [view.id for view in site.releases] == ["r3", "r2", "r1"]
    assert site.releases[0].diff_total is None and any("r2" in problem for problem in site.problems)
    rendered = render_main(console_state.ConsoleState(endpoint=aws.endpoint, registry=None, taken_at=0, sites=(site,)))
    assert 'data-release="r3"><td><code>r3</code> <span class="live">live</span>' in rendered


def create_distribution(moto: MotoServer, bucket: str, origin_path: str) -> str:
    config = {
        "CallerReference": "console-test",
        "Comment": "site",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "s3",
                    "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                    "OriginPath": origin_path,
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0},
    }
    return str(client(moto, "cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def test_the_journal_folder_a_session_names_is_taken_only_when_it_is_ours(tmp_path: Path) -> None:
    with ExitStack() as stack:
        folder = journal_folder(stack)
        assert folder.parent == session_folder() and (folder.stat().st_mode & 0o777) == 0o700
        found = journal_file_for({"journal_folder": str(folder)}, "deploy")
        assert found is not None and found.parent == folder and found.name.endswith(f"-deploy-{os.getpid()}.jsonl")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        link = session_folder() / f"journal-link-{os.getpid()}"
        link.symlink_to(elsewhere)
        stack.callback(link.unlink)
        for named in (str(elsewhere), str(link), str(session_folder() / "missing"), 42, None):
            assert journal_file_for({"journal_folder": named}, "deploy") is None, named
        assert journal_file_for(None, "deploy") is None
    assert not folder.exists()


def test_a_killed_serves_journal_folder_is_removed_by_the_next_serve() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    session_folder().mkdir(mode=0o700, exist_ok=True)
    left = session_folder() / f"journal-{dead.pid}-abc"
    left.mkdir()
    (left / "20260101T000000Z-deploy-1.jsonl").write_text("{}\n")
    alive = session_folder() / f"journal-{os.getpid()}-other"
    alive.mkdir()
    try:
        with ExitStack() as stack:
            journal_folder(stack)
            assert not left.exists() and alive.exists()
    finally:
        shutil.rmtree(alive, ignore_errors=True)
        shutil.rmtree(left, ignore_errors=True)


def test_with_the_sites_store_the_live_mark_is_the_pointers_and_previews_are_named(aws: MotoServer) -> None:
    """The pointer says what the edge serves, even where the switch journal says otherwise (a run stopped after its write)."""
    import logging

    from runway_ext.local.console_page import render_main

    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="site-bucket")
    store = ReleaseStore(S3Site.with_client(s3, "site-bucket", "", log=logging.getLogger("test")))
    for number in (1, 2, 3):
        store.append(release(number, {"index.html": state(f"v{number}")}), keep=10, guard=lambda: None)
    keys = {"live": '{"v":1,"r":"r2"}', "preview/pr-7": '{"v":1,"r":"r1"}', "preview/pr-8": '{"v":1,"r":"r1"}', "preview/BAD": '{"v":1,"r":"r3"}'}
    views = console_state.site_releases(s3, "site-bucket", "", log=logging.getLogger("test"), store_keys=keys)
    assert [(view.id, view.live, view.previews) for view in views] == [("r3", False, ()), ("r2", True, ()), ("r1", False, ("pr-7", "pr-8"))]
    without = console_state.site_releases(s3, "site-bucket", "", log=logging.getLogger("test"))
    assert [view.id for view in without if view.live] == ["r3"]  # no store: the newest record
    site = console_state.SiteView("E1", "site", None, "site-bucket", "", releases=tuple(views))
    rendered = render_main(console_state.ConsoleState(endpoint=aws.endpoint, registry=None, taken_at=0, sites=(site,)))
    assert '<span class="preview" data-preview="pr-7">preview pr-7</span>' in rendered
