"""CFNgin lookups: ``${dotenv …}`` and ``${ecr_image …}``.

Register them in config.yml::

    lookups:
      dotenv: runway_ext.lookups.DotenvLookup
      ecr_image: runway_ext.lookups.EcrImageLookup

or all at once from Python with :func:`register_all`.
"""

from __future__ import annotations

from runway_ext.lookups.dotenv import DotenvLookup
from runway_ext.lookups.ecr_image import EcrImageLookup

__all__ = ["ALL_LOOKUPS", "DotenvLookup", "EcrImageLookup", "register_all"]

ALL_LOOKUPS = {DotenvLookup.TYPE_NAME: DotenvLookup, EcrImageLookup.TYPE_NAME: EcrImageLookup}


def register_all() -> list[str]:
    """Register every runway_ext lookup with CFNgin (e.g. from a hook or a ``sys_path`` module); return their names."""
    from runway.cfngin.lookups.registry import register_lookup_handler

    for name, handler in ALL_LOOKUPS.items():
        register_lookup_handler(name, handler)
    return sorted(ALL_LOOKUPS)
