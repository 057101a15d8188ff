"""Invalidate paths of a CloudFront distribution: normalised, compacted, retried, optionally awaited.

config.yml (after a deploy, fed the paths a site sync changed)::

    post_deploy:
      - path: runway_ext.hooks.cloudfront_invalidation.cfngin_hook
        args:
          distribution_id: ${output ${namespace}-cdn.DistributionId}
          paths_from_hook_data: runway_ext.npm_build.changed_paths
          wait: true

CLI::

    python -m runway_ext.hooks.cloudfront_invalidation E1234567890ABC --paths /index.html '/assets/*' --wait --timeout 600 --verbose

The paths are planned by :mod:`.plan` (leading ``/``, encoding, ``…/index.html`` also as ``…/``,
compaction to ``max_paths``). The ``CallerReference`` is a hash of the distribution, the sorted
paths and a run token, so a retried request never creates a second invalidation.
``TooManyInvalidationsInProgress`` and throttling are retried with backoff, and waiting polls
``GetInvalidation`` (status compared case-insensitively); both end at ``timeout``
(:mod:`.cloudfront`). The result is stored in hook_data as ``runway_ext.cloudfront_invalidation``.

Modules: :mod:`.args` (arguments, result), :mod:`.plan` (pure: paths, reference, status),
:mod:`.cloudfront` (the API calls), :mod:`.hook` (the body).
"""

from runway_ext.hooks.cloudfront_invalidation.args import CloudFrontInvalidationArgs, InvalidationResult
from runway_ext.hooks.cloudfront_invalidation.hook import COMMAND, cfngin_hook

__all__ = ["COMMAND", "CloudFrontInvalidationArgs", "InvalidationResult", "cfngin_hook"]
