"""The Docker build content hash: .dockerignore semantics, what counts and what does not.

The last test checks the hashed file list against what the real builders send (needs the Docker engine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from docker.utils.build import PatternMatcher
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_ext.core.image_refs import tag_problem
from runway_ext.hooks.docker_build_push.context_hash import (
    BuildInputs,
    content_tag,
    context_paths,
    hash_build,
    ignore_file_for,
    parse_ignore_file,
    secret_fingerprint,
)
from tests.support.docker_engine import DockerEngine, buildx_available


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def make_context(root: Path, dockerignore: str = "") -> Path:
    files = {
        "Dockerfile": "FROM base\nCOPY . /app\n",
        "app.py": "print('hi')\n",
        "src/lib.py": "x = 1\n",
        "node_modules/dep/index.js": "dep\n",
        "src/node_modules/inner/index.js": "inner\n",
        "docs/guide.md": "guide\n",
        "docs/README.md": "docs readme\n",
        "README.md": "top readme\n",
        "build/out/app.bin": "bin\n",
        "build/out/keep.me": "keep\n",
        "notes.tmp": "tmp\n",
        "src/deep/cache.tmp": "deep tmp\n",
    }
    write(root, files)
    if dockerignore:
        (root / ".dockerignore").write_text(dockerignore)
    return root


def digest(root: Path, **overrides: Any) -> str:
    inputs = dataclasses.replace(BuildInputs(context_dir=root, dockerfile=root / "Dockerfile"), **overrides)
    return hash_build(inputs).hexdigest


TRICKY_IGNORE = """\
# comments and blank lines are skipped

**/node_modules
*.tmp
docs
!docs/README.md
build
!build/out/keep.me
readme.md
"""


def test_patterns_filter_like_docker(tmp_path: Path) -> None:
    root = make_context(tmp_path, TRICKY_IGNORE)
    files = [path for path in context_paths(root, parse_ignore_file(TRICKY_IGNORE)) if (root / path).is_file()]
    # The expected set is what `COPY . /ctx` received from the real builders (buildx 0.13 and
    # DOCKER_BUILDKIT=1 docker build 20.10) for this context;
    # test_context_hash_covers_exactly_what_the_builder_sends checks it against the running engine.
    assert files == [
        ".dockerignore",
        "Dockerfile",
        "README.md",  # `readme.md` does not match: Docker matches case-sensitively
        "app.py",
        "build/out/keep.me",  # an exception reaches inside an excluded folder
        "docs/README.md",
        "src/deep/cache.tmp",  # `*.tmp` is anchored at the context root
        "src/lib.py",
    ]


def test_sdk_matcher_alone_would_drop_a_file_the_builder_sends(tmp_path: Path) -> None:
    # Why the SDK's matcher is wrapped: it lower-cases, so `readme.md` would hide README.md from the
    # hash while the builder still copies it, and an edit there would never trigger a rebuild.
    root = make_context(tmp_path, TRICKY_IGNORE)
    sdk_files = set(PatternMatcher(parse_ignore_file(TRICKY_IGNORE)).walk(str(root)))
    assert "README.md" not in sdk_files
    assert "README.md" in context_paths(root, parse_ignore_file(TRICKY_IGNORE))


def test_same_content_same_hash_whatever_the_mtime_or_permissions(tmp_path: Path) -> None:
    root = make_context(tmp_path, TRICKY_IGNORE)
    before = digest(root)
    later = time.time() + 5000
    for path in root.rglob("*"):
        os.utime(path, (later, later))
    (root / "app.py").chmod(0o600)  # not executable either way: only the x bit counts
    assert digest(root) == before


def test_a_changed_included_file_changes_the_hash(tmp_path: Path) -> None:
    root = make_context(tmp_path, TRICKY_IGNORE)
    before = digest(root)
    (root / "src" / "lib.py").write_text("x = 2\n")
    assert digest(root) != before


@pytest.mark.parametrize(
    "ignored", ["notes.tmp", "docs/guide.md", "node_modules/dep/index.js", "src/node_modules/inner/index.js", "build/out/app.bin"]
)
def test_a_changed_ignored_file_leaves_the_hash(tmp_path: Path, ignored: str) -> None:
    root = make_context(tmp_path, TRICKY_IGNORE)
    before = digest(root)
    (root / ignored).write_text("changed\n")
    assert digest(root) == before


@pytest.mark.parametrize("reincluded", ["docs/README.md", "build/out/keep.me", "README.md"])
def test_a_changed_reincluded_file_changes_the_hash(tmp_path: Path, reincluded: str) -> None:
    root = make_context(tmp_path, TRICKY_IGNORE)
    before = digest(root)
    (root / reincluded).write_text("changed\n")
    assert digest(root) != before


def test_new_file_new_folder_and_executable_bit_count(tmp_path: Path) -> None:
    root = make_context(tmp_path)
    seen = {digest(root)}
    (root / "empty").mkdir()
    seen.add(digest(root))
    (root / "app.py").chmod(0o755)
    seen.add(digest(root))
    (root / "src" / "new.py").write_text("")
    seen.add(digest(root))
    assert len(seen) == 4


def test_symlinks_count_by_target(tmp_path: Path) -> None:
    root = make_context(tmp_path)
    (root / "link").symlink_to("app.py")
    first = digest(root)
    (root / "link").unlink()
    (root / "link").symlink_to("src/lib.py")
    assert digest(root) != first


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    root = make_context(tmp_path, "docs\n")
    dockerfile = root / "Dockerfile"
    assert ignore_file_for(root, dockerfile) == root / ".dockerignore"
    (root / "Dockerfile.dockerignore").write_text("src\n")
    assert ignore_file_for(root, dockerfile) == root / "Dockerfile.dockerignore"
    before = digest(root)
    (root / "src" / "lib.py").write_text("ignored now\n")
    assert digest(root) == before
    (root / "docs" / "guide.md").write_text("counted now\n")
    assert digest(root) != before


def test_dockerfile_outside_the_context_counts_by_content(tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx")
    dockerfile = write(tmp_path, {"docker/Dockerfile": "FROM a\n"}) / "docker" / "Dockerfile"
    inputs = BuildInputs(context_dir=context, dockerfile=dockerfile)
    first = hash_build(inputs).hexdigest
    dockerfile.write_text("FROM b\n")
    assert hash_build(inputs).hexdigest != first


def test_build_args_target_and_platform_count_but_not_their_order(tmp_path: Path) -> None:
    root = make_context(tmp_path)
    base = digest(root, build_args={"A": "1", "B": "2"})
    assert digest(root, build_args={"B": "2", "A": "1"}) == base
    variants = {
        digest(root, build_args={"A": "1", "B": "3"}),
        digest(root, build_args={"A": "1", "B": "2"}, target="runtime"),
        digest(root, build_args={"A": "1", "B": "2"}, platform="linux/arm64"),
        base,
    }
    assert len(variants) == 4


def test_secret_ids_count_and_values_only_through_a_salted_fingerprint(tmp_path: Path) -> None:
    root = make_context(tmp_path)
    plain = digest(root)
    with_id = digest(root, secrets={"api_token": ""})
    assert with_id != plain  # adding (or removing) a secret changes what the build is given
    assert digest(root, secrets={"api_token": "", "other": ""}) != with_id
    first = secret_fingerprint("api_token", b"token-one")
    second = secret_fingerprint("api_token", b"token-two")
    assert first != second and first == secret_fingerprint("api_token", b"token-one")
    assert secret_fingerprint("other_id", b"token-one") != first  # salted by the id: equal values do not show
    assert "token-one" not in first and hashlib.sha256(b"token-one").hexdigest() not in first
    assert digest(root, secrets={"api_token": first}) != digest(root, secrets={"api_token": second})


def test_content_tag_is_a_valid_short_tag(tmp_path: Path) -> None:
    result = hash_build(BuildInputs(context_dir=make_context(tmp_path), dockerfile=tmp_path / "Dockerfile"))
    assert result.tag == content_tag(result.hexdigest) == "content-" + result.hexdigest[:32]
    assert tag_problem(result.tag) is None
    assert result.entries == len(context_paths(tmp_path, []))


def test_parse_ignore_file_trims_and_skips_comments() -> None:
    assert parse_ignore_file("# c\n\n  a/b  \n!c\n\t#not-a-comment-after-trim\n**/x\n") == ["a/b", "!c", "**/x"]


NAMES = st.sampled_from(["a.txt", "b.tmp", "src/c.py", "src/d.tmp", "docs/e.md", "docs/keep.md", "x/y/z.bin"])


@settings(max_examples=40, deadline=None)
@given(files=st.dictionaries(NAMES, st.text(max_size=20), min_size=1), target=NAMES, new_text=st.text(max_size=20))
def test_hash_changes_exactly_when_an_included_file_changes(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, str], target: str, new_text: str
) -> None:
    root = write(tmp_path_factory.mktemp("ctx"), {"Dockerfile": "FROM a\n", ".dockerignore": "*.tmp\ndocs\n!docs/keep.md\n", **files})
    before = digest(root)
    old = (root / target).read_text() if (root / target).exists() else None
    write(root, {target: new_text})
    sent = set(context_paths(root, parse_ignore_file((root / ".dockerignore").read_text())))
    if target not in sent or old == new_text:
        assert digest(root) == before
    else:
        assert digest(root) != before


@pytest.mark.docker
@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_context_hash_covers_exactly_what_the_builder_sends(docker_env: DockerEngine, tmp_path: Path, builder: str) -> None:
    if builder == "buildx" and not buildx_available():
        pytest.fail("docker buildx plugin missing (bash .ci/docker-install.sh)")
    context = tmp_path / "ctx"
    files = [
        "app.py",
        "src/lib.py",
        "src/a/node_modules/x/i.js",
        "node_modules/y/z.js",
        "docs/guide.md",
        "docs/README.md",
        "README.md",
        "Sub/File.TXT",
        "build/out/app.bin",
        "build/out/keep.me",
        "notes.tmp",
        "src/t.tmp",
        ".env",
        "deep/a/b/c.pyc",
        "deep/a/keep.pyc",
    ]
    for name in files:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(name)
    (context / "link").symlink_to("app.py")
    ignore = "# c\n**/node_modules\n*.tmp\ndocs\n!docs/README.md\nbuild\n!build/out/keep.me\n/.env\nsub/file.txt\nreadme.md\n**/*.pyc\n!deep/a/keep.pyc\n"
    (context / ".dockerignore").write_text(ignore)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {docker_env.base_image}\nCOPY . /ctx\n")
    tag = f"rwx-ctx-{builder}:{uuid.uuid4().hex[:6]}"
    build = ["buildx", "build", "--load"] if builder == "buildx" else ["build"]
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    subprocess.run(
        ["docker", *build, "--pull=false", "-q", "-f", str(dockerfile), "-t", tag, str(context)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    listing = docker_env.run_docker("run", "--rm", tag, "find", "/ctx", "-type", "f", "-o", "-type", "l").stdout
    sent = sorted(line.removeprefix("/ctx/") for line in listing.split())
    hashed = [
        path for path in context_paths(context, parse_ignore_file(ignore)) if not (context / path).is_dir() or (context / path).is_symlink()
    ]
    assert hashed == sent
    assert "README.md" in sent and "Sub/File.TXT" in sent and "deep/a/keep.pyc" in sent and "deep/a/b/c.pyc" not in sent
    docker_env.run_docker("rmi", tag)
