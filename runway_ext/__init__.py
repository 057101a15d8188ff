"""runway_ext: ready-made CFNgin hooks, lookups and blueprints for Runway.

The public kit for writing hooks of your own lives here too::

    from runway_ext import HookArgs, HookContext, hook, run_module

Importing this package is cheap: the kit is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "HookArgs",
    "HookContext",
    "HookError",
    "HookGroup",
    "__version__",
    "hook",
    "register_secret",
    "retry",
    "run_module",
    "wait_until",
]

if TYPE_CHECKING:
    from runway_ext.core.args import HookArgs
    from runway_ext.core.errors import HookError
    from runway_ext.core.hook import HookContext, HookGroup, hook, run_module
    from runway_ext.core.log import register_secret
    from runway_ext.core.waiting import retry, wait_until

_LAZY = {
    "HookArgs": ("runway_ext.core.args", "HookArgs"),
    "HookError": ("runway_ext.core.errors", "HookError"),
    "HookContext": ("runway_ext.core.hook", "HookContext"),
    "HookGroup": ("runway_ext.core.hook", "HookGroup"),
    "hook": ("runway_ext.core.hook", "hook"),
    "register_secret": ("runway_ext.core.log", "register_secret"),
    "retry": ("runway_ext.core.waiting", "retry"),
    "run_module": ("runway_ext.core.hook", "run_module"),
    "wait_until": ("runway_ext.core.waiting", "wait_until"),
}


def __getattr__(name: str) -> Any:
    """Load the public kit lazily so ``import runway_ext`` stays light."""
    if name not in _LAZY:
        raise AttributeError(f"module 'runway_ext' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    return getattr(importlib.import_module(module_name), attribute)
