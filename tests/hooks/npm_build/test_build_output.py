"""The output folder: which one is synced, which folders the source hash skips, and its files' digests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.npm_build.build_output import ignored_output_folders, resolve_output_dir, scan_build
from runway_ext.hooks.npm_build.plan import LocalFile
from runway_ext.hooks.npm_build.source_hash import OUTPUT_FOLDER_CANDIDATES


def test_an_explicit_output_dir_is_relative_to_the_app_or_absolute(tmp_path: Path) -> None:
    (tmp_path / "public-build").mkdir()
    assert resolve_output_dir(tmp_path, Path("public-build"), {}) == tmp_path / "public-build"
    assert resolve_output_dir(tmp_path / "elsewhere", tmp_path / "public-build", {}) == tmp_path / "public-build"
    with pytest.raises(HookError, match=r"output_dir: .*/missing does not exist \(did the build write it\?\)"):
        resolve_output_dir(tmp_path, Path("missing"), {})


def test_a_nextjs_app_syncs_out(tmp_path: Path) -> None:
    package = {"dependencies": {"next": "14"}}
    (tmp_path / "build").mkdir()
    with pytest.raises(HookError, match="a Next.js app needs output: 'export' in next.config"):
        resolve_output_dir(tmp_path, None, package)
    (tmp_path / "out").mkdir()
    assert resolve_output_dir(tmp_path, None, package) == tmp_path / "out"


def test_otherwise_the_newest_usual_folder_is_synced(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="output_dir: none of out, build, dist exists in"):
        resolve_output_dir(tmp_path, None, {})
    for age, name in enumerate(("dist", "build")):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (1_000_000 + age, 1_000_000 + age))
    assert resolve_output_dir(tmp_path, None, {}) == tmp_path / "build"


def test_the_source_hash_skips_the_output_folder_or_every_usual_one() -> None:
    assert ignored_output_folders(None) == list(OUTPUT_FOLDER_CANDIDATES)
    assert ignored_output_folders(Path("public-build")) == ["public-build"]
    assert ignored_output_folders(Path("/abs/out")) == []


def test_scan_build_lists_every_file_by_site_path_with_its_digests(tmp_path: Path) -> None:
    files = {"index.html": b"<h1>home</h1>", "about/index.html": b"<h1>about</h1>", "a/b/c.js": b"", "z.css": b"body{}"}
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    os.symlink(tmp_path / "z.css", tmp_path / "linked.css")
    (tmp_path / "empty-folder").mkdir()
    scanned = scan_build(tmp_path)
    files["linked.css"] = files["z.css"]
    assert sorted(scanned) == sorted(files)
    for name, content in files.items():
        assert scanned[name] == LocalFile(
            name, len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content, usedforsecurity=False).hexdigest()
        )
