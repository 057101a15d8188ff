"""The invalidation planner: normalising and compacting paths, hook_data paths, CallerReference, status (pure, no AWS)."""

from __future__ import annotations

import random
import re
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from runway_ext.core.errors import HookError
from runway_ext.hooks.cloudfront_invalidation.plan import (
    DEFAULT_MAX_PATHS,
    MAX_FILE_PATHS,
    MAX_PATH_LENGTH,
    MAX_WILDCARD_PATHS,
    InvalidPath,
    atomic_release,
    caller_reference,
    canonical_status,
    compact_paths,
    covers,
    fits_limits,
    is_wildcard,
    normalize_changed_key,
    normalize_path,
    normalize_paths,
    plan_invalidation,
    plan_request,
    read_hook_data_paths,
)

# what may appear in a normalised path: printable ASCII except RFC 1738's unsafe characters, and %XX escapes
NORMALISED = re.compile(r"^/(?:[!$&-)+-~]|%[0-9A-F]{2})*\*?$")
SAFE_PRINTABLE = re.compile(r"^[\x21-\x7e]*$")


# -- normalising one path ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("about/index.html", "/about/index.html"),
        ("/about/index.html", "/about/index.html"),
        ("/a b/c d.html", "/a%20b/c%20d.html"),
        ("/blog/café/", "/blog/caf%C3%A9/"),
        ("/日本/", "/%E6%97%A5%E6%9C%AC/"),
        ("/~user/[1].html", "/%7Euser/%5B1%5D.html"),
        ('/q"<>{}|\\^`#.txt', "/q%22%3C%3E%7B%7D%7C%5C%5E%60%23.txt"),
        ("/assets/*", "/assets/*"),
        ("*", "/*"),
        ("/images/logo*", "/images/logo*"),
        ("/search?q=1&x=y", "/search?q=1&x=y"),
        ("/already%20encoded%c3%a9", "/already%20encoded%C3%A9"),
        ("/100%", "/100%25"),
        ("/a%zz", "/a%25zz"),
        ("/tab\there", "/tab%09here"),
        ("/Case/Sensitive", "/Case/Sensitive"),
        ("/keep/+$&'()!,;=:@-_.", "/keep/+$&'()!,;=:@-_."),
    ],
)
def test_normalize_path(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty path"),
        ("/a*/b", "only at the end"),
        ("/a**", "only at the end"),
        ("/" + "x" * MAX_PATH_LENGTH, "longer than"),
    ],
)
def test_normalize_path_rejects(raw: str, message: str) -> None:
    with pytest.raises(InvalidPath, match=re.escape(message)):
        normalize_path(raw)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("/about/index.html", "/about/index.html"),
        ("about/index.html", "/about/index.html"),
        ("/blog/café/index.html", "/blog/caf%C3%A9/index.html"),
        ("/a%20b", "/a%2520b"),  # a key is literal: its '%' is a character, not an escape
        ("/what?.html", "/what%3F.html"),  # a '?' in a key is part of the name, not a query string
        ("/files/a*b.txt", "/files/a*"),  # a '*' cuts the path: the wildcard covers the object
        ("/files/star*", "/files/star*"),
    ],
)
def test_normalize_changed_key(key: str, expected: str) -> None:
    assert normalize_changed_key(key) == expected


def test_normalize_changed_key_rejects_empty() -> None:
    with pytest.raises(InvalidPath, match="empty path"):
        normalize_changed_key("")


# -- normalising a list ---------------------------------------------------------------------


def test_index_document_adds_directory_url() -> None:
    assert normalize_paths(["/index.html", "/blog/post/index.html", "/blog/post/data.json"]) == [
        "/",
        "/blog/post/",
        "/blog/post/data.json",
        "/blog/post/index.html",
        "/index.html",
    ]


def test_only_exact_index_document_adds_directory_url() -> None:
    assert normalize_paths(["/notindex.html", "/index.html.bak", "/a/index.htm"]) == [
        "/a/index.htm",
        "/index.html.bak",
        "/notindex.html",
    ]


def test_duplicates_in_both_forms_collapse() -> None:
    assert normalize_paths(["about/x.js", "/about/x.js"], changed_keys=["about/x.js", "/about/x.js"]) == ["/about/x.js"]


def test_paths_covered_by_a_wildcard_are_dropped() -> None:
    result = normalize_paths(["/assets/*", "/assets/app.js", "/assets/sub/x.css", "/assetsX", "/img/a*", "/img/ab.png"])
    assert result == ["/assets/*", "/assetsX", "/img/a*"]


def test_root_wildcard_absorbs_everything() -> None:
    assert normalize_paths(["/a", "/*", "/b/*"], changed_keys=["/c/index.html"]) == ["/*"]


def test_result_is_sorted_and_unique() -> None:
    result = normalize_paths(["/b", "/a", "/b", "/c/index.html", "/c/"])
    assert result == sorted(set(result))


# -- coverage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/a/*", "/a/", True),
        ("/a/*", "/a/b/c.html", True),
        ("/a/*", "/a", False),
        ("/a/*", "/ab/c", False),
        ("/a*", "/ab/c", True),
        ("/a/*", "/a/b*", True),
        ("/a/b*", "/a/*", False),
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/b/", False),
        ("/*", "/anything/at/all", True),
    ],
)
def test_covers(pattern: str, path: str, expected: bool) -> None:
    assert covers(pattern, path) is expected


# -- compacting -----------------------------------------------------------------------------


def test_a_list_that_fits_is_left_alone() -> None:
    paths = normalize_paths([f"/p/{n}.html" for n in range(5)])
    assert compact_paths(paths, max_paths=5) == paths


def test_deepest_folders_collapse_first() -> None:
    paths = normalize_paths([f"/docs/api/{n}.html" for n in range(20)] + ["/docs/intro.html", "/index.html"])
    assert compact_paths(paths, max_paths=4) == ["/", "/docs/api/*", "/docs/intro.html", "/index.html"]


def test_walks_up_when_the_deeper_level_is_not_enough() -> None:
    paths = normalize_paths([f"/blog/{n}/index.html" for n in range(50)] + ["/index.html"])
    assert compact_paths(paths, max_paths=3) == ["/", "/blog/*", "/index.html"]


def test_falls_back_to_root_wildcard() -> None:
    paths = normalize_paths([f"/file-{n}.txt" for n in range(20)])
    assert compact_paths(paths, max_paths=10) == ["/*"]


def test_unneeded_collapses_are_undone() -> None:
    # walking up collapses /a/b/c/ before it reaches /x/; once /x/* fits, /a/b/c/* is expanded again
    paths = normalize_paths(["/a/b/c/1", "/a/b/c/2"] + [f"/x/{n}" for n in range(100)])
    assert compact_paths(paths, max_paths=15) == ["/a/b/c/1", "/a/b/c/2", "/x/*"]


def test_max_paths_one() -> None:
    assert compact_paths(normalize_paths(["/a/1", "/a/2", "/a/b/3"]), max_paths=1) == ["/a/*"]
    assert compact_paths(normalize_paths(["/a/1", "/b/2"]), max_paths=1) == ["/*"]


def test_wildcard_limit_is_respected_even_with_a_large_budget() -> None:
    paths = normalize_paths([f"/section-{n}/*" for n in range(20)] + ["/index.html"])
    result = compact_paths(paths, max_paths=3000)
    assert sum(map(is_wildcard, result)) <= MAX_WILDCARD_PATHS
    assert result == ["/*"]  # the 20 wildcards sit at the top level: only /* can replace them


def test_wildcard_limit_collapses_nested_wildcards() -> None:
    paths = normalize_paths([f"/assets/v{n}/*" for n in range(20)] + ["/index.html"])
    assert compact_paths(paths, max_paths=3000) == ["/", "/assets/*", "/index.html"]


def test_file_limit_is_respected() -> None:
    paths = normalize_paths([f"/a/{n}.js" for n in range(2000)] + [f"/b/{n}.js" for n in range(2000)])
    result = compact_paths(paths, max_paths=MAX_FILE_PATHS)
    assert len(result) - sum(map(is_wildcard, result)) <= MAX_FILE_PATHS
    assert result.count("/a/*") + result.count("/b/*") == 1  # one folder collapsed is enough


def test_input_order_does_not_matter() -> None:
    paths = [f"/s{n % 7}/p{n % 13}/{n}.html" for n in range(300)]
    shuffled = paths[:]
    random.Random(1).shuffle(shuffled)
    assert compact_paths(normalize_paths(paths), max_paths=12) == compact_paths(normalize_paths(shuffled), max_paths=12)


@pytest.mark.parametrize(("max_paths", "max_wildcards"), [(0, 15), (10, 0)])
def test_budget_must_be_positive(max_paths: int, max_wildcards: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        compact_paths(["/a"], max_paths=max_paths, max_wildcards=max_wildcards)


def test_empty_input() -> None:
    assert compact_paths([], max_paths=5) == []
    plan = plan_invalidation([], changed_keys=[])
    assert plan.paths == () and plan.requested == 0 and not plan.compacted


def test_plan_reports_counts() -> None:
    plan = plan_invalidation(
        ["/robots.txt"],
        changed_keys=[f"/blog/{n}/index.html" for n in range(30)],
        max_paths=DEFAULT_MAX_PATHS,
    )
    assert plan.requested == 31
    assert plan.normalized == 61  # 30 pages + their 30 directory URLs + robots.txt
    assert plan.compacted
    assert plan.paths == ("/blog/*", "/robots.txt")
    assert (plan.file_count, plan.wildcard_count) == (1, 1)


# -- what the hook's arguments ask for -----------------------------------------------------


def test_request_of_typed_paths() -> None:
    plan = plan_request(paths=["about/index.html"], hook_data_key=None, hook_data=None, max_paths=10)
    assert plan is not None and plan.paths == ("/about/", "/about/index.html")


def test_request_of_changed_paths_from_hook_data() -> None:
    data = {"runway_ext": {"npm_build": {"changed_paths": ["/a b.html", "/files/x*y"]}}}
    plan = plan_request(paths=["/*"], hook_data_key="runway_ext.npm_build.changed_paths", hook_data=data, max_paths=10)
    assert plan is not None and plan.paths == ("/a%20b.html", "/files/x*")
    assert plan_request(paths=["/*"], hook_data_key="site.changed", hook_data={"site": {"changed": []}}, max_paths=10) is None


def test_request_of_hook_data_outside_runway_is_refused() -> None:
    with pytest.raises(HookError, match="^paths_from_hook_data: only available inside a Runway deploy"):
        plan_request(paths=["/*"], hook_data_key="site.changed", hook_data=None, max_paths=10)


def test_read_hook_data_paths() -> None:
    data = {"runway_ext": {"npm_build": {"changed_paths": ["/a", "/b"], "count": 2, "bad": ["/a", ""]}}}
    assert read_hook_data_paths(data, "runway_ext.npm_build.changed_paths") == ["/a", "/b"]
    with pytest.raises(HookError, match=r"no 'npm_bild' in runway_ext \(it has: npm_build\)"):
        read_hook_data_paths(data, "runway_ext.npm_bild.changed_paths")
    with pytest.raises(HookError, match="is a int, not a list of paths"):
        read_hook_data_paths(data, "runway_ext.npm_build.count")
    with pytest.raises(HookError, match="holds '', not a path"):
        read_hook_data_paths(data, "runway_ext.npm_build.bad")


def test_read_hook_data_paths_through_a_result_model() -> None:
    class Synced(BaseModel):
        changed_paths: list[str]

    assert read_hook_data_paths({"site": Synced(changed_paths=["/x"])}, "site.changed_paths") == ["/x"]


def test_atomic_release_is_read_from_the_dict_holding_the_paths() -> None:
    class Built(BaseModel):
        layout: str
        release: str | None
        changed_paths: list[str]

    atomic = {"runway_ext": {"npm_build": {"layout": "atomic", "release": "r7", "changed_paths": ["/a"]}}}
    assert atomic_release(atomic, "runway_ext.npm_build.changed_paths") == "r7"
    assert atomic_release({"site": Built(layout="atomic", release="r2", changed_paths=[])}, "site.changed_paths") == "r2"
    assert atomic_release({"site": Built(layout="in-place", release="r2", changed_paths=[])}, "site.changed_paths") is None
    assert atomic_release({"site": {"changed_paths": ["/a"]}}, "site.changed_paths") is None
    assert atomic_release({"layout": "atomic", "site": {"changed_paths": ["/a"]}}, "site.changed_paths") is None  # not its dict
    assert atomic_release({"site": "atomic"}, "site.changed_paths") is None
    assert atomic_release(atomic, None) is None and atomic_release(None, "runway_ext.npm_build.changed_paths") is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [("COMPLETED", "Completed"), ("Completed", "Completed"), ("inprogress", "InProgress"), ("IN_PROGRESS", "InProgress"), ("Odd", "Odd")],
)
def test_canonical_status(status: str, expected: str) -> None:
    assert canonical_status(status) == expected


def test_caller_reference_is_deterministic() -> None:
    first = caller_reference("E1", ["/b", "/a"], "run-1")
    assert first == caller_reference("E1", ["/a", "/b"], "run-1")  # order of paths does not matter
    assert first != caller_reference("E1", ["/a", "/b"], "run-2")
    assert first != caller_reference("E2", ["/a", "/b"], "run-1")
    assert first != caller_reference("E1", ["/a"], "run-1")
    assert len(first) <= 128


# -- properties -----------------------------------------------------------------------------

SEGMENTS = st.sampled_from(["a", "b", "blog", "_next", "static", "x y", "é", "index.html", "p1", "p2", "img.png"])
RAW_PATHS = st.lists(SEGMENTS, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))
USER_PATHS = st.one_of(RAW_PATHS, RAW_PATHS.map(lambda path: path.rsplit("/", 1)[0] + "/*"))
BUDGETS = st.one_of(st.integers(min_value=1, max_value=40), st.sampled_from([100, 3000]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=st.lists(USER_PATHS, max_size=30), keys=st.lists(RAW_PATHS, max_size=200), max_paths=BUDGETS)
@example(user=[], keys=[f"/f{n}" for n in range(3001)], max_paths=3000)
def test_compaction_never_exceeds_limits_and_covers_every_path(user: list[str], keys: list[str], max_paths: int) -> None:
    normalised = normalize_paths(user, changed_keys=keys)
    result = compact_paths(normalised, max_paths=max_paths)
    wildcards = sum(map(is_wildcard, result))
    assert len(result) <= max_paths
    assert wildcards <= min(max_paths, MAX_WILDCARD_PATHS)
    assert len(result) - wildcards <= MAX_FILE_PATHS
    assert fits_limits(result, max_paths=max_paths)
    for path in normalised:
        assert any(covers(pattern, path) for pattern in result), path
    for path in result:
        assert NORMALISED.match(path), path
        assert len(path) <= MAX_PATH_LENGTH
    assert result == sorted(set(result))
    assert compact_paths(result, max_paths=max_paths) == result  # idempotent


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=60).filter(lambda text: "*" not in text))
def test_changed_keys_encode_losslessly(key: str) -> None:
    path = normalize_changed_key(key)
    assert SAFE_PRINTABLE.match(path)
    expected = key if key.startswith("/") else "/" + key
    assert unquote(path, errors="surrogatepass") == expected


@settings(max_examples=300, deadline=None)
@given(raw=st.text(min_size=1, max_size=60))
def test_user_paths_are_either_normalised_or_rejected_with_a_reason(raw: str) -> None:
    try:
        path = normalize_path(raw)
    except InvalidPath as error:
        assert "*" in raw and str(error)
        return
    assert path.startswith("/")
    assert "*" not in path[:-1]
    assert SAFE_PRINTABLE.match(path)
