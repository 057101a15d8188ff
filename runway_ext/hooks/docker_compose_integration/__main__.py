"""``python -m runway_ext.hooks.docker_compose_integration start|stop|status …`` (also runs by path)."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.docker_compose_integration import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
