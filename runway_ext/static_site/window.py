"""The skew window: how long what left a site stays reachable, one rule for both layouts. Pure.

Something that left the site (an atomic release no longer live, an in-place file no longer in the build) is
removed only once it has been out for **both** more than ``keep_releases`` releases **and** more than
``keep_days`` days: a tab opened on an old page keeps finding what that page loads until then. The atomic
prune (:func:`~.atomic.plan_retention`) and the in-place removal of files that left the build
(:mod:`.inplace`, :mod:`.published`) both decide by :func:`past_skew_window`.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

RECORD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How release records write their time (UTC, whole seconds)."""


def past_skew_window(*, releases_out: int, days_out: float, keep_releases: int, keep_days: float) -> bool:
    """Whether something out of the site for ``releases_out`` releases and ``days_out`` days may go."""
    return releases_out > keep_releases and days_out > keep_days


def record_time(text: str, *, default: float | None = None) -> float:
    """Seconds since the epoch of a record's time; an unreadable one counts as ``default`` (now: the window starts again)."""
    try:
        return datetime.strptime(text, RECORD_TIME_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return time.time() if default is None else default
