"""Points where a driver process (``tests/**/*_process.py``) SIGKILLs itself or pauses (test support, runs in the driver).

A driver wraps one real method or function of the code under test and then runs the real CLI in its own process:

* :func:`die_after_calls` — SIGKILL once ``count`` calls have returned (no cleanup, no ``finally`` runs);
* :func:`die_after_call` — SIGKILL right after a call returns (optionally only when ``when(*args)`` holds);
* :func:`pause_before` / :func:`pause_after` — around each call, until the test creates ``FLAG``: the driver
  creates ``FLAG.ready`` first, so the test knows where the process stands (:func:`pause_until`).

:func:`parse_driver_args` splits a driver's own options from the CLI arguments after ``--``. The test side that
starts drivers and waits for their pauses is :mod:`tests.support.cli_process`.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAUSE_SECONDS = 120


def parse_driver_args(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str]]:
    """The driver's options and the CLI arguments (what follows ``--``, the ``--`` itself dropped)."""
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return options, rest


def die() -> None:
    """SIGKILL this process: nothing after this point runs, as when a machine loses power."""
    os.kill(os.getpid(), signal.SIGKILL)


def pause_until(flag: Path) -> None:
    """Create ``FLAG.ready``, then wait until ``flag`` exists (a SystemExit naming it after two minutes)."""
    Path(str(flag) + ".ready").touch()
    deadline = time.monotonic() + PAUSE_SECONDS
    while not flag.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{flag} never appeared")
        time.sleep(0.02)


def _wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    setattr(owner, name, functools.wraps(original)(make(original)))


def die_after_calls(owner: Any, name: str, count: int) -> None:
    """SIGKILL once ``owner.name`` has returned ``count`` times (calls from several threads counted once each)."""
    returned = 0
    lock = threading.Lock()

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal returned
            result = original(*args, **kwargs)
            with lock:
                returned += 1
                if returned >= count:
                    die()
            return result

        return counting

    _wrap(owner, name, make)


def die_after_call(owner: Any, name: str, when: Callable[..., bool] | None = None) -> None:
    """SIGKILL right after ``owner.name`` returns, on the first call for which ``when(*args, **kwargs)`` holds (any call without ``when``)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def dying(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if when is None or when(*args, **kwargs):
                die()
            return result

        return dying

    _wrap(owner, name, make)


def pause_before(owner: Any, name: str, flag: Path) -> None:
    """Each call of ``owner.name`` made before ``flag`` exists first pauses until it does (:func:`pause_until`)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def pausing(*args: Any, **kwargs: Any) -> Any:
            if not flag.exists():
                pause_until(flag)
            return original(*args, **kwargs)

        return pausing

    _wrap(owner, name, make)


def pause_after(owner: Any, name: str, flag: Path) -> None:
    """Each call of ``owner.name`` that returns before ``flag`` exists then pauses until it does."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def pausing(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if not flag.exists():
                pause_until(flag)
            return result

        return pausing

    _wrap(owner, name, make)
