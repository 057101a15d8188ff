"""``python -m runway_ext.hooks.docker_promote``: the hook as a CLI."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.docker_promote import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
