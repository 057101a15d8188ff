"""The args model: the same validation for config.yml and CLI flags (one ``field: problem`` line each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.names import bucket_name_problem
from runway_ext.hooks.npm_build import COMMAND, CacheRuleArg, NpmBuildArgs
from runway_ext.static_site.headers import CacheRule


def parse(**args: Any) -> NpmBuildArgs:
    return COMMAND.parse({"bucket_name": "site-bucket", **args})


def test_defaults() -> None:
    args = parse()
    assert (args.app_path, args.environment, args.output_dir, args.prefix, args.region) == (Path("app"), "dev", None, "", None)
    assert (args.build, args.force, args.delete, args.dry_run, args.require_env_file) == (True, False, True, False, False)
    assert (args.max_delete, args.build_timeout, args.workers) == (256, 900, 16)
    assert args.rules() == []


@pytest.mark.parametrize("name", ["Bad_Bucket", "ab", "a..b", "192.168.1.1", "xn--site", "site-s3alias", "-site"])
def test_bucket_names_follow_the_one_bucket_name_rule(name: str) -> None:
    with pytest.raises(HookError) as raised:
        parse(bucket_name=name)
    assert str(raised.value) == f"bucket_name: {bucket_name_problem(name)}"


@pytest.mark.parametrize(("given", "expected"), [("", ""), ("/site/", "site/"), ("a/b", "a/b/")])
def test_prefix_is_normalised(given: str, expected: str) -> None:
    assert parse(prefix=given).prefix == expected


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ({"prefix": "a/../b"}, "prefix: invalid prefix 'a/../b': no empty, '.' or '..' segments"),
        ({"region": "Mars"}, "region: invalid region 'Mars' (expected a name like us-east-1)"),
        ({"environment": "../etc"}, "environment: '../etc' is not a valid environment name (letters, digits, '_', '.', '-'; no slashes)"),
        ({"max_delete": -1}, "max_delete: Input should be greater than or equal to 0"),
        ({"workers": 0}, "workers: Input should be greater than or equal to 1"),
        ({"build_timeout": 0}, "build_timeout: Input should be greater than 0"),
        ({"cache_rules": [{"pattern": "*.{js", "cache_control": "x"}]}, "cache_rules.0.pattern: invalid pattern '*.{js': unclosed '{'"),
        (
            {"cache_rules": [{"pattern": "*.js", "cache_control": ""}]},
            "cache_rules.0.cache_control: String should have at least 1 character",
        ),
        ({"cache_rules": [{"pattern": "*.js", "cache_control": "x", "typo": 1}]}, "cache_rules.0.typo: unknown argument"),
        ({"unknown": 1}, "unknown: unknown argument"),
    ],
)
def test_bad_values_are_one_line_naming_the_field(args: dict[str, Any], line: str) -> None:
    with pytest.raises(HookError) as raised:
        parse(**args)
    assert str(raised.value) == line


def test_region_accepts_aws_region_names_and_is_none_by_default() -> None:
    assert parse(region="eu-west-1").region == "eu-west-1"
    assert parse(region="us-gov-west-1").region == "us-gov-west-1"
    assert parse().region is None


def test_cache_rules_become_planner_rules_in_order() -> None:
    args = parse(
        cache_rules=[
            {"pattern": "images/**", "cache_control": "max-age=60"},
            {"pattern": "about", "cache_control": "no-cache", "content_type": "text/html"},
        ]
    )
    assert args.rules() == [CacheRule("images/**", "max-age=60"), CacheRule("about", "no-cache", "text/html")]
    assert CacheRuleArg(pattern="*.[hash].js", cache_control="immutable").to_rule() == CacheRule("*.[hash].js", "immutable")
