"""Bounded waits and retries, on a fake clock (no real sleeping)."""

from __future__ import annotations

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.waiting import retry, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_returns_first_truthy_value() -> None:
    clock = FakeClock()
    answers = iter([None, None, "done"])
    assert wait_until(lambda: next(answers), timeout=10, what="x", interval=2, sleep=clock.sleep, clock=clock) == "done"
    assert clock.sleeps == [2, 2]


def test_wait_until_stops_at_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(HookError, match="timed out after 5s waiting for the thing"):
        wait_until(lambda: None, timeout=5, what="the thing", interval=2, sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) == 5


def test_retry_backs_off_then_succeeds() -> None:
    clock = FakeClock()
    attempts = iter([ValueError("busy"), ValueError("busy"), "ok"])

    def action() -> str:
        value = next(attempts)
        if isinstance(value, Exception):
            raise value
        return value

    assert retry(action, should_retry=lambda e: isinstance(e, ValueError), timeout=60, what="x", sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == [1.0, 2.0]


def test_retry_gives_up_at_timeout_and_does_not_retry_other_errors() -> None:
    clock = FakeClock()

    def busy() -> None:
        raise ValueError("busy")

    with pytest.raises(HookError, match="gave up on the call after 10s: busy"):
        retry(busy, should_retry=lambda e: True, timeout=10, what="the call", sleep=clock.sleep, clock=clock)
    with pytest.raises(KeyError):
        retry(lambda: {}["x"], should_retry=lambda e: isinstance(e, ValueError), timeout=10, what="x", sleep=clock.sleep, clock=clock)


def test_deadline_counts_down_and_names_the_step_it_stops() -> None:
    from runway_ext.core.waiting import Deadline

    now = [100.0]
    deadline = Deadline(30, clock=lambda: now[0])
    assert deadline.remaining("the build") == 30
    now[0] += 29.5
    assert deadline.left() == pytest.approx(0.5)
    now[0] += 1
    with pytest.raises(HookError, match=r"^timeout: the 30s budget was spent before the push$"):
        deadline.remaining("the push")
