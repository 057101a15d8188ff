"""CloudFront invalidations that take time in the stand-in, as they do on AWS.

moto marks an invalidation ``COMPLETED`` the moment it is created, so nothing could be seen while one is in
flight. After :func:`install_invalidation_delay`, a new invalidation is ``InProgress`` for the given seconds and
``Completed`` (AWS's spelling) after; the local edge clears its cache when it sees ``Completed``, so an edit
goes live exactly when the invalidation completes.
"""

from __future__ import annotations

import time
from typing import Any

DEFAULT_INVALIDATION_SECONDS = 2.0
"""How long a local invalidation stays InProgress unless told otherwise (AWS: usually tens of seconds)."""

_delay = {"seconds": DEFAULT_INVALIDATION_SECONDS}


def install_invalidation_delay(seconds: float = DEFAULT_INVALIDATION_SECONDS) -> None:
    """Make invalidations created from now on in this process's moto complete after ``seconds``."""
    from moto.cloudfront import models

    if seconds < 0:
        raise ValueError("invalidation seconds must be 0 or more")
    _delay["seconds"] = seconds
    if getattr(models.Invalidation, "_runway_ext_timed", False):
        return

    class TimedInvalidation(models.Invalidation):
        """An invalidation that is InProgress until its completion time."""

        _runway_ext_timed = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.completes_at = time.time() + _delay["seconds"]
            super().__init__(*args, **kwargs)

        @property
        def status(self) -> str:
            return "Completed" if time.time() >= self.completes_at else "InProgress"

        @status.setter
        def status(self, _value: str) -> None:
            """moto's constructor sets ``COMPLETED``; the time decides instead."""

    models.Invalidation = TimedInvalidation  # type: ignore[misc]
