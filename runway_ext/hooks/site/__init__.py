"""Static-site releases and instant rollback, on top of the npm_build sync's manifest protocol.

Every sync that writes records a release (:mod:`.record`, called by the npm_build hook under its lock);
``runway-ext site releases|diff|rollback`` (and ``path: runway_ext.hooks.site.rollback_hook``) list, compare and
restore them — from S3 object versions in a versioned bucket, else from retained copies. Modules: ``records``
(the release records, pure), ``plan`` (pure decisions), ``store`` (S3 I/O), ``record`` (recording a release),
``rollback`` (the rollback), ``args``, ``hook`` (the commands).
"""

from .hook import COMMAND, diff_hook, releases_hook, rollback_hook

__all__ = ["COMMAND", "diff_hook", "releases_hook", "rollback_hook"]
