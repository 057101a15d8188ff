"""The npm_build hook as a command: ``python -m runway_ext.hooks.npm_build --help``.

Imports are absolute, so running the folder or this file by path works too.
"""

from runway_ext.core.hook import run_module
from runway_ext.hooks.npm_build import COMMAND

if __name__ == "__main__":
    run_module(COMMAND)
