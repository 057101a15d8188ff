"""Content-Type by extension and Cache-Control by glob rules."""

from __future__ import annotations

import pytest

from runway_ext.static_site.headers import (
    DEFAULT_CONTENT_TYPE,
    IMMUTABLE,
    NO_CACHE,
    REVALIDATE,
    CacheRule,
    CacheRuleError,
    compile_glob,
    content_type_for,
    glob_matches,
    headers_for,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("a/B.HTM", "text/html; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("module.mjs", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("f.woff", "font/woff"),
        ("f.woff2", "font/woff2"),
        ("f.ttf", "font/ttf"),
        ("f.otf", "font/otf"),
        ("m.wasm", "application/wasm"),
        ("app.js.map", "application/json; charset=utf-8"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("favicon.ico", "image/x-icon"),
        ("p.png", "image/png"),
        ("p.jpg", "image/jpeg"),
        ("p.jpeg", "image/jpeg"),
        ("p.webp", "image/webp"),
        ("p.avif", "image/avif"),
        ("site.webmanifest", "application/manifest+json; charset=utf-8"),
        ("README", DEFAULT_CONTENT_TYPE),
        (".htaccess", DEFAULT_CONTENT_TYPE),
        ("blob.unknownext", DEFAULT_CONTENT_TYPE),
    ],
)
def test_content_types(path: str, expected: str) -> None:
    assert content_type_for(path) == expected


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("index.html", NO_CACHE),
        ("blog/post/index.html", NO_CACHE),
        ("report.0123abcd.html", NO_CACHE),
        ("_next/static/chunks/pages/about-9a8b7c6d5e4f3a2b.js", IMMUTABLE),
        ("_next/static/media/font.woff2", IMMUTABLE),
        ("_next/static/abc123/_buildManifest.js", IMMUTABLE),
        ("static/js/main.8f3a2b1c.chunk.js", IMMUTABLE),
        ("static/css/main.8f3a2b1c.css", IMMUTABLE),
        ("assets/index-BwL0ZkL_.js", IMMUTABLE),
        ("static/media/logo.6ce24c58.svg", IMMUTABLE),
        ("api/pages.json", NO_CACHE),
        ("js/jquery.validate.js", REVALIDATE),
        ("my-component-name.js", REVALIDATE),
        ("use-AuthUser.js", REVALIDATE),
        ("x.deadbeef.js", REVALIDATE),
        ("favicon.ico", REVALIDATE),
        ("robots.txt", REVALIDATE),
    ],
)
def test_default_cache_rules(path: str, cache_control: str) -> None:
    assert headers_for(path).cache_control == cache_control


def test_user_rules_come_first_and_defaults_still_apply() -> None:
    rules = [CacheRule("images/**", "public, max-age=600"), CacheRule("*.html", "public, max-age=30", "text/html")]
    assert headers_for("images/a/logo.svg", rules).cache_control == "public, max-age=600"
    html = headers_for("index.html", rules)
    assert (html.cache_control, html.content_type) == ("public, max-age=30", "text/html")
    assert headers_for("_next/static/x.js", rules).cache_control == IMMUTABLE


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.html", "index.html", True),
        ("*.html", "a/b/index.html", True),
        ("*.html", "a/b/index.htm", False),
        ("_next/static/**", "_next/static/a/b.js", True),
        ("_next/static/**", "x/_next/static/a.js", False),
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),
        ("docs/**/*.md", "docs/a.md", True),
        ("docs/**/*.md", "docs/sub/deep/a.md", True),
        ("*.{js,css}", "a/b.css", True),
        ("*.{js,css}", "a/b.map", False),
        ("img?.png", "img1.png", True),
        ("img?.png", "img10.png", False),
        ("[ab].txt", "a.txt", True),
        ("[!ab].txt", "a.txt", False),
        ("a+b (1).txt", "a+b (1).txt", True),
        ("**", "anything/at/all", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


@pytest.mark.parametrize("bad", ["", "/abs/*.html", "*.{js", "[abc.txt"])
def test_invalid_patterns_are_refused(bad: str) -> None:
    with pytest.raises(CacheRuleError):
        compile_glob(bad)
