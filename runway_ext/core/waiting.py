"""Bounded waits and retries: every wait a hook does ends by a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from runway_ext.core.errors import HookError

T = TypeVar("T")


class Deadline:
    """A hook's overall time budget, started when it is made; every bounded step asks it what is left."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Start a budget of ``seconds`` now."""
        self.seconds = seconds
        self._clock = clock
        self.end = clock() + seconds

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.end - self._clock()

    def remaining(self, what: str) -> float:
        """Seconds left; past the deadline a :class:`HookError` naming ``what`` (the step that could not start)."""
        left = self.left()
        if left <= 0:
            raise HookError(f"timeout: the {self.seconds:g}s budget was spent before {what}")
        return left


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``check`` until it returns something truthy, or fail with ``HookError`` after ``timeout`` seconds.

    ``what`` names the awaited condition in the error, e.g. ``"invalidation I1 to complete"``.
    """
    deadline = clock() + timeout
    while True:
        result = check()
        if result:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise HookError(f"timed out after {timeout:g}s waiting for {what}")
        sleep(min(interval, remaining))


def retry(
    action: Callable[[], T],
    *,
    should_retry: Callable[[Exception], bool],
    timeout: float,
    what: str,
    first_delay: float = 1.0,
    max_delay: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``action``, retrying errors that ``should_retry`` accepts with exponential backoff until ``timeout``."""
    deadline = clock() + timeout
    delay = first_delay
    while True:
        try:
            return action()
        except Exception as error:
            if not should_retry(error):
                raise
            remaining = deadline - clock()
            if remaining <= 0:
                raise HookError(f"gave up on {what} after {timeout:g}s: {error}") from error
            sleep(min(delay, remaining))
            delay = min(delay * 2, max_delay)
