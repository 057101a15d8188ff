"""The local summary's hook lines (pure: journal entries in, text out)."""

from __future__ import annotations

from runway_ext.local.summary import hook_lines


def test_an_atomic_site_names_the_release_its_deploy_made_live() -> None:
    result = {"uploaded": 1, "deleted": 0, "unchanged": 5, "skipped": False, "copied": 3, "layout": "atomic", "release": "r2", "ok": True}
    (line,) = hook_lines([{"hook": "npm_build", "ok": True, "result": result}])
    assert line == "  npm_build: uploaded=1, deleted=0, unchanged=5, skipped=false, copied=3, layout=atomic, release=r2"


def test_a_failed_hook_is_its_error() -> None:
    assert hook_lines([{"hook": "npm_build", "ok": False, "error": "bucket_name: no such bucket"}]) == [
        "  npm_build: FAILED: bucket_name: no such bucket"
    ]
