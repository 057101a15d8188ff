"""``runway-ext new-hook NAME``: write a new hook module and its tests into your repository.

The hook is built with the kit (``from runway_ext import hook, HookArgs, …``): an args model whose
field docstrings are the documentation and the CLI help, one function, the CFNgin entry point
``NAME.cfngin_hook`` and a command line. Its tests use the fixtures of runway_ext's pytest plugin:
one calls the hook directly, one runs it through Runway's own hook runner. Existing files are never
overwritten.
"""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from runway_ext.core.cli import configure_cli_logging
from runway_ext.core.errors import HookError
from runway_ext.core.log import get_logger

LOG = get_logger("runway_ext.scaffold")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

HOOK_TEMPLATE = '''\
"""__NAME__: keep one SSM parameter at a given value (made by `runway-ext new-hook`; make it yours).

The shape to keep: an args model (config.yml keys and CLI flags, each documented by the docstring
under it), one function decorated with ``@hook``, and ``COMMAND`` for the command line.

config.yml (``sys_path: .`` lets CFNgin import this file from the module folder)::

    sys_path: .
    pre_deploy:
      - path: __NAME__.cfngin_hook
        args:
          parameter_name: /${namespace}/greeting
          value: ${envvar GREETING}

The result is in hook_data: ``${hook_data runway_ext.__NAME__.version}``. Command line::

    python __NAME__.py --parameter-name /demo/greeting --value hello
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runway_ext import HookArgs, HookContext, HookError, hook, register_secret, run_module, wait_until


class __CLASS__Args(HookArgs):
    """Arguments of the __NAME__ hook."""

    parameter_name: str = Field(pattern=r"^/[A-Za-z0-9_.\\-/]+$")
    """Name of the SSM parameter, starting with a slash, e.g. /app/greeting."""

    value: str = Field(min_length=1)
    """Value to store (lookups such as ${envvar NAME} are resolved by Runway before the hook runs)."""

    secure: bool = False
    """Store it as a SecureString; the value is then masked in every log line."""

    timeout: float = Field(default=30, gt=0, le=600)
    """Seconds to wait until the new value can be read back."""


def read_parameter(ssm: Any, name: str) -> dict[str, Any] | None:
    """The parameter (decrypted), or None when it does not exist."""
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None


@hook("__NAME__", __CLASS__Args, summary="Keep one SSM parameter at a given value.")
def cfngin_hook(args: __CLASS__Args, ctx: HookContext) -> dict[str, Any]:
    """Write the parameter unless it already holds the value (a second run changes nothing)."""
    if args.secure:
        register_secret(args.value)
    ssm = ctx.client("ssm")
    current = read_parameter(ssm, args.parameter_name)
    if current is not None and current["Value"] == args.value:
        ctx.log.info("%s already holds this value; nothing to do", args.parameter_name)
        return {"parameter_name": args.parameter_name, "changed": False, "version": current["Version"]}
    try:
        ssm.put_parameter(
            Name=args.parameter_name,
            Value=args.value,
            Type="SecureString" if args.secure else "String",
            Overwrite=True,
        )
    except ssm.exceptions.ClientError as error:
        raise HookError(f"parameter_name: cannot write {args.parameter_name}: {error}") from None

    def written() -> dict[str, Any] | None:
        found = read_parameter(ssm, args.parameter_name)
        return found if found is not None and found["Value"] == args.value else None

    parameter = wait_until(written, timeout=args.timeout, what=f"{args.parameter_name} to hold the new value", interval=1)
    ctx.log.info("wrote %s = %s (version %s)", args.parameter_name, args.value, parameter["Version"])
    return {"parameter_name": args.parameter_name, "changed": True, "version": parameter["Version"]}


COMMAND = cfngin_hook

if __name__ == "__main__":
    run_module(COMMAND)
'''

TEST_TEMPLATE = '''\
"""Tests of the __NAME__ hook, with the fixtures of runway_ext's pytest plugin (a moto server on 127.0.0.1).

``cfngin_context`` is a real Runway CfnginContext pointed at moto; ``run_hook`` runs the hook through
Runway's own hook runner (lookups in args, ``required``, ``data_key``) and returns the hook_data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

from runway_ext.testing.cfngin import HookRunFailed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the hook's folder, as CFNgin's `sys_path: .`
import __NAME__  # noqa: E402


def test_writes_the_parameter_once(cfngin_context) -> None:  # type: ignore[no-untyped-def]
    first = __NAME__.cfngin_hook(context=cfngin_context, provider=None, parameter_name="/demo/greeting", value="hello")
    again = __NAME__.cfngin_hook(context=cfngin_context, provider=None, parameter_name="/demo/greeting", value="hello")
    assert first["changed"] is True
    assert again["changed"] is False
    assert boto3.client("ssm").get_parameter(Name="/demo/greeting")["Parameter"]["Value"] == "hello"


def test_bad_args_are_one_line_naming_the_field(cfngin_context, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    assert __NAME__.cfngin_hook(context=cfngin_context, provider=None, parameter_name="no-slash", value="x") is False
    assert "parameter_name: String should match pattern" in caplog.text


def test_runs_as_runway_runs_it(run_hook, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GREETING", "hello from the environment")
    args = {"parameter_name": "/demo/greeting", "value": "${envvar GREETING}"}
    hook_data = run_hook("__NAME__.cfngin_hook", args, data_key="greeting")
    assert hook_data["runway_ext"]["__NAME__"]["changed"] is True
    assert hook_data["greeting"]["version"] == 1
    stored = boto3.client("ssm").get_parameter(Name="/demo/greeting")["Parameter"]["Value"]
    assert stored == "hello from the environment"
    with pytest.raises(HookRunFailed):
        run_hook("__NAME__.cfngin_hook", {"parameter_name": "/demo/greeting"})
'''


@dataclass(frozen=True)
class ScaffoldFiles:
    """The two files a new hook consists of."""

    hook: Path
    test: Path


def class_prefix(name: str) -> str:
    """``my_hook`` -> ``MyHook`` (the args model is ``MyHookArgs``)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Hook"


def validate_name(name: str) -> str:
    """Return ``name`` if it can be a hook module; otherwise fail with one line saying why."""
    if not name.isidentifier() or not _NAME.match(name):
        raise HookError(f"name: {name!r} is not a valid module name (lower case letters, digits and _, not starting with a digit)")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise HookError(f"name: {name!r} is a Python keyword")
    if name.startswith("test_"):
        raise HookError(f"name: {name!r} would be collected as a test module; pick a name not starting with test_")
    try:
        taken = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        taken = True
    if taken:
        raise HookError(f"name: {name!r} is already an importable module (it would shadow or be shadowed by it); pick another name")
    return name


def render(name: str) -> tuple[str, str]:
    """The hook module and its test module, for hook ``name``."""
    prefix = class_prefix(name)

    def fill(template: str) -> str:
        return template.replace("__CLASS__", prefix).replace("__NAME__", name)

    return fill(HOOK_TEMPLATE), fill(TEST_TEMPLATE)


def scaffold(name: str, folder: Path) -> ScaffoldFiles:
    """Write ``folder/NAME.py`` and ``folder/tests/test_NAME.py``; refuse if either exists (nothing written)."""
    validate_name(name)
    files = ScaffoldFiles(hook=folder / f"{name}.py", test=folder / "tests" / f"test_{name}.py")
    existing = [path for path in (files.hook, files.test) if path.exists()]
    if existing:
        verb = "exists" if len(existing) == 1 else "exist"
        raise HookError(f"name: {' and '.join(str(path) for path in existing)} already {verb}; nothing written")
    if folder.exists() and not folder.is_dir():
        raise HookError(f"dir: {folder} is not a folder")
    hook_text, test_text = render(name)
    files.test.parent.mkdir(parents=True, exist_ok=True)
    with files.hook.open("x", encoding="utf-8") as handle:
        handle.write(hook_text)
    try:
        with files.test.open("x", encoding="utf-8") as handle:
            handle.write(test_text)
    except OSError:
        files.hook.unlink()
        raise
    return files


class NewHookCommand:
    """The ``new-hook`` command of ``runway-ext``."""

    name = "new_hook"
    summary = "Write a new hook module built with the kit, and its tests, into your repository."

    def configure_parser(self, parser: argparse.ArgumentParser) -> None:
        """``NAME`` and ``--dir``."""
        parser.description = self.summary
        parser.add_argument("hook_name", metavar="NAME", help="module name of the hook (a Python identifier, e.g. seed_parameters)")
        parser.add_argument("--dir", default=".", help="folder to write NAME.py and tests/test_NAME.py into (default: .)")
        parser.set_defaults(_command=self)

    def run_cli(self, namespace: argparse.Namespace) -> int:
        """Write the files; print what was written and what to do next."""
        configure_cli_logging(verbose=False)
        folder = Path(namespace.dir)
        try:
            files = scaffold(namespace.hook_name, folder)
        except HookError as error:
            LOG.error("%s", error)
            return 1
        except OSError as error:
            LOG.error("dir: cannot write into %s: %s", folder, error)
            return 1
        name = namespace.hook_name
        print(f"wrote {files.hook}")
        print(f"wrote {files.test}")
        print("next:")
        print(f"  python -m pytest {files.test}")
        print(f"  config.yml: sys_path: .   and   pre_deploy: [{{path: {name}.cfngin_hook, args: {{...}}}}]")
        return 0


COMMAND = NewHookCommand()
