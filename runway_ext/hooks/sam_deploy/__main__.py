"""``python -m runway_ext.hooks.sam_deploy deploy|delete …``: the hooks' command line."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.sam_deploy import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
