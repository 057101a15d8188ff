"""The guide's Python examples compile, and the ~15-line hook of "Writing your own hook" works as the page says."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from runway.context import CfnginContext

from runway_ext.core.args import describe_validation_error

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDE_PAGES = ("writing_hooks.md", "testing_hooks.md")
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks(page: str) -> list[str]:
    """The ```python blocks of a docs page, in order."""
    return _PYTHON_BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def python_block(page: str, containing: str) -> str:
    """The first ```python block of a page that contains ``containing``."""
    return next(block for block in python_blocks(page) if containing in block)


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_python_examples_compile(page: str) -> None:
    blocks = python_blocks(page)
    assert blocks
    for number, block in enumerate(blocks, start=1):
        compile(block, f"{page} example {number}", "exec")


def import_example(block: str, module_name: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Save an example as ``folder/module_name.py`` (as a reader would) and import it."""
    (folder / f"{module_name}.py").write_text(block, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, module_name, raising=False)
    return importlib.import_module(module_name)


def test_the_short_hook_has_both_faces(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    greet = import_example(python_block("writing_hooks.md", "class GreetArgs"), "greet_example", tmp_path, monkeypatch).cfngin_hook
    context = CfnginContext(config_path=tmp_path / "config.yml")
    result = greet(context=context, provider=None, name="Ann", times=2)
    assert result == {"greeting": "hello Ann hello Ann", "ok": True}
    assert context.hook_data["runway_ext"]["greet"] == result
    assert greet(context=context, provider=None, nme="Ann") is False
    assert greet.main(["--name", "Bob", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"greeting": "hello Bob", "ok": True}


def test_the_validation_example_says_what_the_page_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pydantic

    monkeypatch.chdir(tmp_path)
    deploy_args = import_example(python_block("writing_hooks.md", "class DeployArgs"), "deploy_example", tmp_path, monkeypatch).DeployArgs
    with pytest.raises(pydantic.ValidationError) as raised:
        deploy_args.model_validate({"colour": "red"})
    assert describe_validation_error(raised.value) == [
        "bucket_name: field required",
        "source: dist is not a folder",
        "colour: unknown argument",
    ]
