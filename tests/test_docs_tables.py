"""The docs' argument tables are generated from the args models, and a stale one fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from runway_ext.core.args import HookArgs
from runway_ext.core.hook import hook
from runway_ext.docs_tables import (
    DocsTableError,
    discover_documented,
    discover_hooks,
    discover_lookups,
    documented_paths,
    fill_regions,
    main,
    render_lookup_table,
    render_table,
    stale_pages,
    type_text,
)
from runway_ext.lookups import ALL_LOOKUPS
from runway_ext.lookups.args import LookupArgs

DOCS = Path(__file__).resolve().parents[1] / "docs"


class SampleArgs(HookArgs):
    """A model with one field of each kind the CLI knows."""

    target: str
    """Where to go. Uses <placeholders> and a | pipe, but `a|b` in code stays."""

    paths: list[str] = ["/*"]
    """Paths, '*' only at the end."""

    labels: dict[str, str] = {}
    """Labels as pairs."""

    mode: Literal["fast", "safe"] = "safe"
    """How."""

    limit: int = Field(default=10, ge=1, le=3000)
    """At most this many."""

    folder: Path | None = None
    """Optional folder."""

    rules: list[dict[str, int]] = Field(default_factory=list, json_schema_extra={"cli_aliases": ["rule"]})
    """Richer values take JSON."""


@hook("sample", SampleArgs, positional=("target",))
def sample_hook(args: SampleArgs, ctx):  # type: ignore[no-untyped-def]
    """Do nothing."""


SAMPLE_PATH = f"{__name__}.sample_hook"


def test_every_page_table_matches_its_args_model() -> None:
    stale = stale_pages(DOCS)
    assert not stale, f"stale argument tables in {sorted(str(page) for page in stale)}; run: python -m runway_ext.docs_tables docs"


def test_own_pages_have_tables() -> None:
    documented = documented_paths(DOCS)
    assert "runway_ext.hooks.env_file_generator.cfngin_hook" in documented
    assert set(discover_lookups()) <= documented


def test_every_lookup_is_found_by_its_lookups_class_path() -> None:
    assert set(discover_lookups()) == {"runway_ext.lookups.DotenvLookup", "runway_ext.lookups.EcrImageLookup"}
    assert sorted(handler.TYPE_NAME for handler in discover_lookups().values()) == sorted(ALL_LOOKUPS)


class SampleLookupArgs(LookupArgs):
    """A lookup model with one argument of its own."""

    QUERY_NAME = "NAME"
    QUERY_DOC = "What to find | where."

    depth: int = Field(default=2, ge=1)
    """How deep to look."""


class SampleLookup:
    """Stands in for a LookupHandler: the table needs only its ``ARGS_MODEL``."""

    ARGS_MODEL = SampleLookupArgs


def test_lookup_table_has_the_query_then_own_then_common_arguments_and_no_cli_column() -> None:
    table = render_lookup_table(SampleLookup).splitlines()
    assert table[0] == "| Argument | Type | Default | Description |"
    assert table[2] == "| `NAME` (before `::`) | str | *required* | What to find \\| where. |"
    assert table[3] == "| `depth` | int (≥ 1) | `2` | How deep to look. |"
    assert [row.split(" | ")[0] for row in table[4:]] == ["| `default`", "| `get`", "| `load`", "| `transform`", "| `indent`"]
    filled = fill_regions("<!-- args:x.SampleLookup -->\n<!-- /args -->\n", {"x.SampleLookup": SampleLookup})
    assert render_lookup_table(SampleLookup) in filled


def test_generator_finds_hooks_and_members_of_hook_groups() -> None:
    hooks = discover_hooks()
    assert hooks["runway_ext.hooks.env_file_generator.cfngin_hook"].name == "env_file_generator"
    assert hooks["runway_ext.hooks.cloudfront_invalidation.cfngin_hook"].name == "cloudfront_invalidation"
    assert hooks["runway_ext.hooks.sam_deploy.cfngin_delete_hook"].name == "sam_delete"  # a HookGroup member
    assert all(path.startswith("runway_ext.hooks.") for path in hooks)


def test_table_rows_come_from_types_defaults_flags_and_docstrings() -> None:
    table = render_table(sample_hook).splitlines()
    assert table[0] == "| Argument | Type | Default | CLI | Description |"
    assert table[2:] == [
        "| `target` | str | *required* | `TARGET` (positional) | Where to go. Uses &lt;placeholders> and a \\| pipe, but `a|b` in code stays. |",
        "| `paths` | list[str] | `[\"/*\"]` | `--paths V1 V2 …` | Paths, '\\*' only at the end. |",
        "| `labels` | dict[str, str] | `{}` | `--labels K=V …`, `--json-labels '{…}'` | Labels as pairs. |",
        '| `mode` | "fast" or "safe" | `safe` | `--mode` | How. |',
        "| `limit` | int (≥ 1, ≤ 3000) | `10` | `--limit` | At most this many. |",
        "| `folder` | path or null | `null` | `--folder` | Optional folder. |",
        "| `rules` | list[dict[str, int]] | `[]` | `--rules JSON`, `--rule` | Richer values take JSON. |",
        "| `verbose` | bool | `false` | `--verbose` / `--no-verbose` | Log every step in detail (secret values are still redacted). |",
    ]


def test_type_text_reads_like_prose() -> None:
    assert type_text(dict[str, str | int | None]) == "dict[str, str or int or null]"
    assert type_text(Literal["a", "b", "c"]) == '"a", "b" or "c"'
    assert type_text(tuple[int, ...]) == "tuple[int, ...]"


def test_regions_are_filled_and_the_rest_of_the_page_kept() -> None:
    page = f"# Title\n\n<!-- args:{SAMPLE_PATH} -->\nold table\n<!-- /args -->\n\nText after.\n"
    filled = fill_regions(page, {SAMPLE_PATH: sample_hook})
    assert filled == f"# Title\n\n<!-- args:{SAMPLE_PATH} -->\n\n{render_table(sample_hook)}\n<!-- /args -->\n\nText after.\n"
    assert fill_regions(filled, {SAMPLE_PATH: sample_hook}) == filled


def test_a_region_naming_an_unknown_hook_is_an_error() -> None:
    with pytest.raises(DocsTableError, match="page.md: no hook or lookup 'runway_ext.hooks.nope.cfngin_hook'"):
        fill_regions("<!-- args:runway_ext.hooks.nope.cfngin_hook -->\n<!-- /args -->\n", {}, page="page.md")


def test_check_reports_a_stale_page_and_the_generator_fixes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "hooks" / "env_file_generator.md"
    page.parent.mkdir()
    page.write_text("# Env\n\n<!-- args:runway_ext.hooks.env_file_generator.cfngin_hook -->\n| stale |\n<!-- /args -->\n")
    (tmp_path / "other.md").write_text("# No regions here\n")
    assert main(["--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"stale: {page}\n"
    assert "| stale |" in page.read_text()
    assert main([str(tmp_path)]) == 0
    assert "| `output_file` | path | *required* |" in page.read_text()
    assert main(["--check", str(tmp_path)]) == 0
    assert (tmp_path / "other.md").read_text() == "# No regions here\n"


def test_list_shows_which_hooks_have_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "env.md").write_text("<!-- args:runway_ext.hooks.env_file_generator.cfngin_hook -->\n<!-- /args -->\n")
    assert main(["--list", str(tmp_path)]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["table", "runway_ext.hooks.env_file_generator.cfngin_hook"] in lines
    assert ["no", "table", "runway_ext.hooks.sam_deploy.cfngin_delete_hook"] in lines
    assert ["no", "table", "runway_ext.lookups.DotenvLookup"] in lines
    assert len(lines) == len(discover_documented())
    assert main(["--list", str(tmp_path / "missing")]) == 1
