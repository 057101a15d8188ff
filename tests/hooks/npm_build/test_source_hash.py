"""The app source hash: content only, ignored folders, env file and lockfile included."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_ext.hooks.npm_build.source_hash import OUTPUT_FOLDER_CANDIDATES, combine, hash_app_sources, is_ignored


def make_app(root: Path) -> Path:
    files = {
        "package.json": '{"name": "app"}',
        "package-lock.json": '{"lockfileVersion": 3}',
        ".env.local": "API=https://dev",
        "src/index.js": "console.log('hi')",
        "src/pages/about.html": "<h1>about</h1>",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def digest(app: Path) -> str:
    return hash_app_sources(app, OUTPUT_FOLDER_CANDIDATES)[0]


def test_same_content_same_hash_whatever_the_mtime(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    before, count = hash_app_sources(app, OUTPUT_FOLDER_CANDIDATES)
    assert count == 5
    later = time.time() + 1000
    for path in app.rglob("*"):
        os.utime(path, (later, later))
    (app / "src/index.js").write_text("console.log('hi')")
    assert digest(app) == before


@pytest.mark.parametrize("name", ["src/index.js", ".env.local", "package-lock.json", "package.json"])
def test_a_changed_source_env_file_or_lockfile_changes_the_hash(tmp_path: Path, name: str) -> None:
    app = make_app(tmp_path)
    before = digest(app)
    (app / name).write_text((app / name).read_text() + " ")
    assert digest(app) != before


def test_renaming_or_adding_a_file_changes_the_hash(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    before = digest(app)
    (app / "src/index.js").rename(app / "src/main.js")
    renamed = digest(app)
    assert renamed != before
    (app / "src/empty.txt").write_text("")
    assert digest(app) != renamed


@pytest.mark.parametrize(
    "ignored",
    ["node_modules/pkg/index.js", ".git/HEAD", ".next/cache/x", "out/index.html", "build/a.js", "dist/b.js", "src/node_modules/x.js"],
)
def test_dependencies_caches_and_output_do_not_count(tmp_path: Path, ignored: str) -> None:
    app = make_app(tmp_path)
    before = digest(app)
    (app / ignored).parent.mkdir(parents=True, exist_ok=True)
    (app / ignored).write_text("anything")
    assert digest(app) == before


def test_an_explicit_output_folder_is_the_only_one_ignored(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    before = hash_app_sources(app, ["public-build"])[0]
    (app / "public-build").mkdir()
    (app / "public-build/x.html").write_text("x")
    assert hash_app_sources(app, ["public-build"])[0] == before
    (app / "build").mkdir()
    (app / "build/script.js").write_text("x")
    assert hash_app_sources(app, ["public-build"])[0] != before


def test_symlinks_count_by_their_target_and_are_not_followed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.txt").write_text("outside")
    os.symlink(outside, app / "linked")
    before = digest(app)
    (outside / "big.txt").write_text("changed outside")
    assert digest(app) == before
    os.remove(app / "linked")
    os.symlink(tmp_path, app / "linked")
    assert digest(app) != before


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("src/a.js", False),
        ("node_modules", True),
        ("a/node_modules/b", True),
        ("out/x", True),
        ("src/out/x", False),
        ("outline.md", False),
        (".git/config", True),
        (".gitignore", False),
    ],
)
def test_is_ignored(path: str, ignored: bool) -> None:
    assert is_ignored(path, OUTPUT_FOLDER_CANDIDATES) is ignored


ENTRIES = st.lists(
    st.tuples(st.text(min_size=1, max_size=8), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
    min_size=1,
    max_size=10,
    unique_by=lambda entry: entry[0],
)


@given(entries=ENTRIES, data=st.data())
def test_combine_ignores_order_and_sees_every_change(entries: list[tuple[str, str]], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(entries))
    assert combine(shuffled) == combine(entries)
    index = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    path, content = entries[index]
    flipped = ("0" if content[0] != "0" else "1") + content[1:]
    changed = [*entries[:index], (path, flipped), *entries[index + 1 :]]
    assert combine(changed) != combine(entries)
