"""Static-site releases and instant rollback, on top of the npm_build sync's manifest protocol.

Every sync that writes records a release (:mod:`runway_ext.static_site.record`, called by the npm_build hook
under its lock); ``runway-ext site releases|diff|rollback|forget`` (and ``path: runway_ext.hooks.site.rollback_hook`` or
``forget_hook``) list, compare and restore them — from S3 object versions in a versioned bucket, else from
retained copies — and purge paths published by mistake. Modules: ``plan`` (the rollback's pure decisions),
``rollback`` (the rollback), ``forget`` (forgetting paths), ``args``, ``hook`` (the commands). The records, the release store and the S3 wrapper are :mod:`runway_ext.static_site`.
"""

from runway_ext.hooks.site.hook import (
    COMMAND,
    diff_hook,
    forget_hook,
    preview_delete_hook,
    previews_hook,
    promote_hook,
    releases_hook,
    rollback_hook,
)

__all__ = ["COMMAND", "diff_hook", "forget_hook", "preview_delete_hook", "previews_hook", "promote_hook", "releases_hook", "rollback_hook"]
