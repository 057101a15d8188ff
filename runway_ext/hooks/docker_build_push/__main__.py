"""``python -m runway_ext.hooks.docker_build_push`` (or ``python runway_ext/hooks/docker_build_push``): the hook as a CLI."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.docker_build_push import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
