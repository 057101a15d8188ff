"""What the package's loggers said during one test, read through pytest's ``caplog`` (no handler of our own)."""

from __future__ import annotations

import logging

import pytest


class LoggedLines:
    """The records of the ``runway_ext`` (and optionally ``runway``) loggers at or above a level."""

    def __init__(self, caplog: pytest.LogCaptureFixture, *, level: int = logging.DEBUG, loggers: tuple[str, ...] = ("runway_ext",)) -> None:
        self._caplog = caplog
        self._level = level
        self._loggers = loggers
        for name in loggers:
            caplog.set_level(logging.DEBUG, logger=name)

    @property
    def records(self) -> list[logging.LogRecord]:
        """The records of the watched loggers at or above the level, in order."""
        return [
            record for record in self._caplog.records if record.levelno >= self._level and record.name.split(".", 1)[0] in self._loggers
        ]

    @property
    def lines(self) -> list[str]:
        """Each record's message, as a handler would print it (tracebacks included)."""
        formatter = logging.Formatter("%(message)s")
        return [formatter.format(record) for record in self.records]
