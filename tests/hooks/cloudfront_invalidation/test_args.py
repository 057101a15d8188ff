"""The CloudFront invalidation arguments: defaults and normalised values (one-line errors: test_hook.py)."""

from __future__ import annotations

from runway_ext.hooks.cloudfront_invalidation import CloudFrontInvalidationArgs, cfngin_hook


def test_seed_defaults() -> None:
    args = CloudFrontInvalidationArgs(distribution_id="E1234567890ABC")
    assert (args.paths, args.wait, args.timeout, args.max_paths, args.dry_run) == (["/*"], False, 900, 10, False)
    assert (args.paths_from_hook_data, args.run_token) == (None, None)


def test_values_are_trimmed() -> None:
    args = cfngin_hook.parse({"distribution_id": " E1 ", "paths_from_hook_data": " runway_ext.npm_build.changed_paths "})
    assert (args.distribution_id, args.paths_from_hook_data) == ("E1", "runway_ext.npm_build.changed_paths")


def test_paths_are_kept_as_typed() -> None:
    """Normalising happens in the plan; the arguments keep what the user wrote."""
    assert cfngin_hook.parse({"distribution_id": "E1", "paths": ["about/index.html", "/a b"]}).paths == ["about/index.html", "/a b"]
