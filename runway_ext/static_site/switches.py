"""The switch journal of an atomic site: the pointer values this tool wrote, and when each release went live.

One JSON object at ``{P}.runway-ext/switches.json``, written only under the site lock and conditionally on the
ETag read. Before each pointer write the value about to be written is added to ``written`` (so a run killed
between the two leaves a value that was never live, which is harmless); after the write the switch is appended to
``history``. A pointer holding a value not in ``written`` was changed by someone else: runs refuse to replace it
without ``take_over``. ``history`` gives each release the time it was last live (the prune rule counts from it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runway_ext.core.errors import HookError
from runway_ext.static_site.layout import STATE_FOLDER
from runway_ext.static_site.s3 import S3Site

JOURNAL_NAME = STATE_FOLDER + "switches.json"
MAX_WRITTEN = 50
MAX_HISTORY = 500


class Switch(BaseModel):
    """One pointer write: the release it made live, when (seconds since the epoch), by whom, why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    release: str = Field(pattern=r"^r[1-9][0-9]{0,11}$")
    at: float
    by: str = Field(max_length=200)
    kind: Literal["deploy", "rollback", "take-over", "promote"]


class SwitchJournal(BaseModel):
    """The journal document (format 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    written: tuple[str, ...] = Field(default=(), max_length=MAX_WRITTEN)
    history: tuple[Switch, ...] = Field(default=(), max_length=MAX_HISTORY)

    def intending(self, raw: str) -> SwitchJournal:
        """With ``raw`` among the written values (the oldest dropped beyond :data:`MAX_WRITTEN`)."""
        written = [value for value in self.written if value != raw] + [raw]
        return self.model_copy(update={"written": tuple(written[-MAX_WRITTEN:])})

    def switched(self, switch: Switch) -> SwitchJournal:
        """With ``switch`` appended to the history."""
        return self.model_copy(update={"history": (*self.history, switch)[-MAX_HISTORY:]})

    def last_live(self, now: float) -> dict[str, float]:
        """Per release that was ever live: when it stopped being live (``now`` for the one live last)."""
        result: dict[str, float] = {}
        for position, switch in enumerate(self.history):
            following = self.history[position + 1] if position + 1 < len(self.history) else None
            result[switch.release] = now if following is None else following.at
        return result


def journal_key(prefix: str) -> str:
    """The journal's key."""
    return prefix + JOURNAL_NAME


class JournalFile:
    """The journal of one site, read once and written back conditionally."""

    def __init__(self, site: S3Site) -> None:
        """Read the journal of ``site`` (an empty one when there is none)."""
        self.site = site
        found = site.get(journal_key(site.prefix))
        self.etag: str | None = None
        self.journal = SwitchJournal()
        if found is not None:
            data, self.etag = found
            try:
                self.journal = SwitchJournal.model_validate_json(data)
            except ValidationError:
                raise HookError(
                    f"{site.where}: {JOURNAL_NAME} is not a switch journal this version can read; nothing was changed"
                ) from None

    def save(self, journal: SwitchJournal) -> None:
        """Write ``journal`` if the object is still the one read or last written."""
        body = journal.model_dump_json().encode("utf-8")
        self.etag = self.site.put_document(journal_key(self.site.prefix), body, condition=self.etag or "*")
        self.journal = journal


def last_live_times(journal: SwitchJournal, record_times: Mapping[str, float], now: float) -> dict[str, float]:
    """When each release was last live (from the journal), else its record's time (never live)."""
    times = dict(record_times)
    times.update(journal.last_live(now))
    return times
