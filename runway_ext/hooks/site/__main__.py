"""``python -m runway_ext.hooks.site releases|diff|rollback …``: the site commands' command line."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.site import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
