"""The output folder: which one is synced (never by modification time), what it may hold, its links, its files' digests."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.npm_build.build_output import (
    check_output_dir,
    expected_output_dir,
    ignored_output_folders,
    resolve_output_dir,
    scan_build,
)
from runway_ext.hooks.npm_build.local_cache import RACY_WINDOW_NS, DigestCache
from runway_ext.static_site.inplace import LocalFile


def digests(content: bytes) -> tuple[str, str]:
    return hashlib.sha256(content).hexdigest(), hashlib.md5(content, usedforsecurity=False).hexdigest()


def write(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# -- which folder ----------------------------------------------------------------------------------
def test_an_explicit_output_dir_must_lie_inside_the_app(tmp_path: Path) -> None:
    (tmp_path / "public-build").mkdir()
    assert resolve_output_dir(tmp_path, Path("public-build"), {}) == tmp_path / "public-build"
    assert resolve_output_dir(tmp_path, tmp_path / "public-build", {}) == tmp_path / "public-build"
    with pytest.raises(HookError, match=r"output_dir: .*/missing does not exist \(did the build write it\?\)"):
        resolve_output_dir(tmp_path, Path("missing"), {})
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(HookError, match=r"output_dir: .*/public-build is outside the app folder .*/elsewhere"):
        resolve_output_dir(tmp_path / "elsewhere", tmp_path / "public-build", {})
    with pytest.raises(HookError, match=r"is outside the app folder"):
        resolve_output_dir(tmp_path / "elsewhere", Path(".."), {})


@pytest.mark.parametrize("private", ["package.json", ".env.local", ".env", ".env.prod", ".git", "node_modules"])
def test_the_app_folder_or_a_folder_with_private_files_is_refused(tmp_path: Path, private: str) -> None:
    write(tmp_path / "index.html")
    with pytest.raises(HookError, match=r"output_dir: .* is the app folder itself"):
        resolve_output_dir(tmp_path, Path("."), {})
    out = tmp_path / "out"
    if private in (".git", "node_modules"):
        (out / private).mkdir(parents=True)
    else:
        write(out / private)
    with pytest.raises(HookError, match=rf"output_dir: .*/out holds {private}: not a build output folder"):
        check_output_dir(tmp_path, out)


def test_a_nextjs_app_syncs_out_or_its_dist_dir(tmp_path: Path) -> None:
    package = {"dependencies": {"next": "14"}}
    (tmp_path / "build").mkdir()
    with pytest.raises(HookError, match="a Next.js app needs output: 'export' in next.config"):
        resolve_output_dir(tmp_path, None, package)
    (tmp_path / "out").mkdir()
    assert resolve_output_dir(tmp_path, None, package) == tmp_path / "out"
    (tmp_path / "next.config.js").write_text("module.exports = { output: 'export', distDir: 'site-export' }\n")
    assert expected_output_dir(tmp_path, package) == "site-export"


@pytest.mark.parametrize(
    ("package", "folder"),
    [
        ({"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5"}}, "dist"),
        ({"scripts": {"build": "react-scripts build"}, "dependencies": {"react-scripts": "5"}}, "build"),
        ({"scripts": {"build": "gatsby build"}}, "public"),
        ({"scripts": {"build": "astro build"}}, "dist"),
        ({"scripts": {"build": "tsc && node scripts/bundle.js"}, "devDependencies": {"vite": "5", "typescript": "5"}}, "dist"),
        ({"scripts": {"build": "node build.mjs"}}, None),
    ],
)
def test_the_build_tools_folder(tmp_path: Path, package: dict[str, object], folder: str | None) -> None:
    assert expected_output_dir(tmp_path, package) == folder


def test_a_webpack_layout_with_build_scripts_is_never_published_by_mtime(tmp_path: Path) -> None:
    """build/ holds the build's scripts, dist/ its output: which one is newest must not decide."""
    package = {"scripts": {"build": "webpack --config build/webpack.config.js"}}
    write(tmp_path / "build" / "webpack.config.js", b"module.exports = {}")
    write(tmp_path / "dist" / "index.html", b"<h1>site</h1>")
    os.utime(tmp_path / "build", (2_000_000_000, 2_000_000_000))  # an editor's save: build/ is the newest
    with pytest.raises(HookError, match=r"output_dir: .* has build and dist and its build script names no known tool; set output_dir"):
        resolve_output_dir(tmp_path, None, package)
    assert resolve_output_dir(tmp_path, Path("dist"), package) == tmp_path / "dist"


def test_a_build_script_of_its_own_must_write_exactly_one_usual_folder(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="output_dir: none of out, build, dist exists in"):
        resolve_output_dir(tmp_path, None, {})
    (tmp_path / "out").mkdir()
    assert resolve_output_dir(tmp_path, None, {}) == tmp_path / "out"


def test_tools_that_disagree_or_a_configured_vite_out_dir_ask_for_output_dir(tmp_path: Path) -> None:
    with pytest.raises(HookError, match=r"uses react-scripts, vite, which write different folders \(build, dist\); set output_dir"):
        expected_output_dir(tmp_path, {"dependencies": {"react-scripts": "5", "vite": "5"}})
    (tmp_path / "vite.config.ts").write_text("export default { build: { outDir: 'public-site' } }\n")
    with pytest.raises(HookError, match="sets outDir; set output_dir"):
        expected_output_dir(tmp_path, {"scripts": {"build": "vite build"}})


def test_the_source_hash_leaves_out_the_output_folder_only() -> None:
    assert ignored_output_folders(None) == []
    assert ignored_output_folders(None, "dist") == ["dist"]
    assert ignored_output_folders(None, None, "out") == ["out"]
    assert ignored_output_folders(Path("public-build")) == ["public-build"]
    assert ignored_output_folders(Path("/abs/out")) == []


# -- its files -------------------------------------------------------------------------------------
def test_scan_build_lists_every_file_by_site_path_with_its_digests(tmp_path: Path) -> None:
    files = {"index.html": b"<h1>home</h1>", "about/index.html": b"<h1>about</h1>", "a/b/c.js": b"", "z.css": b"body{}"}
    for name, content in files.items():
        write(tmp_path / name, content)
    os.symlink(tmp_path / "z.css", tmp_path / "linked.css")
    os.symlink("a", tmp_path / "linked-folder")
    (tmp_path / "empty-folder").mkdir()
    scanned = scan_build(tmp_path)
    files["linked.css"] = files["z.css"]
    files["linked-folder/b/c.js"] = files["a/b/c.js"]
    assert sorted(scanned) == sorted(files)
    for name, content in files.items():
        assert scanned[name] == LocalFile(name, len(content), *digests(content))


def test_a_link_leading_outside_the_output_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    secret = write(tmp_path / "secrets.txt", b"DB_PASSWORD=hunter2")
    out = tmp_path / "out"
    write(out / "index.html")
    os.symlink(secret, out / "data.txt")
    with pytest.raises(
        HookError, match=r"output_dir: .*/out/data.txt links outside the output folder \(to .*/secrets.txt\); .*follow_links: true"
    ):
        scan_build(out)
    assert scan_build(out, follow_links=True)["data.txt"].size == secret.stat().st_size


def test_a_linked_folder_outside_is_refused_never_dropped(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "logo.svg", b"<svg/>")
    out = tmp_path / "out"
    write(out / "index.html")
    os.symlink(tmp_path / "shared", out / "assets")
    with pytest.raises(HookError, match=r"output_dir: .*/out/assets links outside the output folder"):
        scan_build(out)
    assert "assets/logo.svg" in scan_build(out, follow_links=True)


@pytest.mark.parametrize("kind", ["broken", "loop", "env"])
def test_broken_links_loops_and_env_files_are_named(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    write(out / "sub" / "index.html")
    if kind == "broken":
        os.symlink(out / "gone.js", out / "sub" / "app.js")
        message = r"output_dir: .*/out/sub/app.js is a broken link"
    elif kind == "loop":
        os.symlink(out, out / "sub" / "again")
        message = r"output_dir: .*/out/sub/again links to a folder that contains it \(a loop\)"
    else:
        write(out / "sub" / ".env.production", b"TOKEN=x")
        message = r"output_dir: .*/out/sub/.env.production is an env file"
    with pytest.raises(HookError, match=message):
        scan_build(out)


# -- the digest cache ------------------------------------------------------------------------------
def later_cache(path: Path, out: Path) -> DigestCache:
    """A cache whose scan pretends to run well after the files were last changed."""
    cache = DigestCache(path, output_dir=out)
    cache.started_ns = time.time_ns() + 2 * RACY_WINDOW_NS
    return cache


def test_the_digest_cache_serves_unchanged_files_and_never_a_changed_one(tmp_path: Path) -> None:
    out = tmp_path / "app" / "out"
    page = write(out / "index.html", b"<h1>one</h1>")
    same_size = write(out / "a.js", b"aaaa")
    cache_file = tmp_path / "cache.json"
    first = later_cache(cache_file, out)
    scan_build(out, cache=first)
    first.save("out")
    second = later_cache(cache_file, out)
    assert scan_build(out, cache=second)["a.js"] == LocalFile("a.js", 4, *digests(b"aaaa"))
    assert second.hits == 2

    # same size, modification time put back: the change time and inode still show the rewrite
    stat = same_size.stat()
    same_size.write_bytes(b"bbbb")
    os.utime(same_size, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    page.unlink()
    write(page, b"<h1>two</h1>")
    third = DigestCache(cache_file, output_dir=out)
    scanned = scan_build(out, cache=third)
    assert scanned["a.js"].sha256 == digests(b"bbbb")[0]
    assert scanned["index.html"].sha256 == digests(b"<h1>two</h1>")[0]
    assert third.hits == 0


def test_files_changed_just_before_the_scan_are_not_cached(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out / "index.html")
    cache = DigestCache(tmp_path / "cache.json", output_dir=out)
    scan_build(out, cache=cache)
    cache.save("out")
    assert json.loads((tmp_path / "cache.json").read_text())["files"] == {}


def test_an_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out / "index.html", b"x")
    (tmp_path / "cache.json").write_text("{not json")
    cache = DigestCache(tmp_path / "cache.json", output_dir=out)
    assert scan_build(out, cache=cache)["index.html"].sha256 == digests(b"x")[0]


def test_a_rescan_that_changes_nothing_leaves_the_cache_file_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out / "index.html", b"<h1>one</h1>")
    write(out / "a.js", b"a")
    cache_file = tmp_path / "cache.json"
    first = later_cache(cache_file, out)
    scan_build(out, cache=first)
    first.save("out")
    written = cache_file.stat()
    second = later_cache(cache_file, out)
    scan_build(out, cache=second)
    second.save("out")
    assert second.hits == 2 and (cache_file.stat().st_ino, cache_file.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)

    (out / "a.js").unlink()  # a file gone: its entry is dropped
    third = later_cache(cache_file, out)
    scan_build(out, cache=third)
    third.save("out")
    assert sorted(json.loads(cache_file.read_text())["files"]) == ["index.html"]
    fourth = later_cache(cache_file, out)
    scan_build(out, cache=fourth)
    fourth.save("elsewhere")  # another output folder remembered: written
    assert json.loads(cache_file.read_text())["output_dir"] == "elsewhere"


def test_large_files_are_hashed_side_by_side_with_the_same_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runway_ext.hooks.npm_build.build_output as build_output

    out = tmp_path / "out"
    contents = {f"media/clip-{number}.bin": os.urandom(3000 + number) for number in range(6)}
    contents["media/huge.bin"] = b"h" * (build_output.MD5_LIMIT + 1)  # multipart-sized: sha256 only
    contents["index.html"] = b"<h1>x</h1>"
    for name, content in contents.items():
        write(out / name, content)
    sequential = scan_build(out)
    monkeypatch.setattr(build_output, "PARALLEL_HASH_MIN", 2000)
    cache = later_cache(tmp_path / "cache.json", out)
    parallel = scan_build(out, cache=cache)
    assert parallel == sequential
    assert parallel["media/clip-3.bin"] == LocalFile("media/clip-3.bin", 3003, *digests(contents["media/clip-3.bin"]))
    assert (
        parallel["media/huge.bin"].md5 == "" and parallel["media/huge.bin"].sha256 == hashlib.sha256(contents["media/huge.bin"]).hexdigest()
    )
    cache.save("out")
    again = later_cache(tmp_path / "cache.json", out)
    assert scan_build(out, cache=again) == sequential and again.hits == len(contents)
