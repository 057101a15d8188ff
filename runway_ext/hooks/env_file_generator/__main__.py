"""``python -m runway_ext.hooks.env_file_generator --output-file … --variables K=V …`` (also runs by path)."""

from runway_ext.core.hook import run_module
from runway_ext.hooks.env_file_generator import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
