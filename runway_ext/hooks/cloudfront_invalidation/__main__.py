"""``python -m runway_ext.hooks.cloudfront_invalidation DISTRIBUTION_ID …``: the hook's command line."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.cloudfront_invalidation import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
