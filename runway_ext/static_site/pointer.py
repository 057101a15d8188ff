"""The release pointer of an atomic site: which release its viewers get, read and switched by one compare-and-swap.

The pointer of site prefix P is the key ``{P}live`` of a CloudFront KeyValueStore; its value (schema 1) names the
live release ``r``, the shared prefixes ``s`` and the releases ``k`` a pinned tab may still reach. The model of
that value, the key's name and the data-plane client are the edge's (``runway_ext.static_site.kvs``: the CDN
function reads the same model); this module is what the deploy side needs of them, behind one small interface
(:class:`PointerStore`), so the decisions about a switch never depend on how the store is reached.

:meth:`PointerStore.swap` is the only write: it succeeds only while the key still holds exactly the raw value the
caller read (``None``: no key yet); otherwise :class:`PointerConflict`, one line naming what the key holds now.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from runway_ext.core.args import refused_by
from runway_ext.core.errors import HookError

if TYPE_CHECKING:
    import boto3


_STORE_ARN = re.compile(r"^arn:aws[a-z-]*:cloudfront::\d{12}:key-value-store/[A-Za-z0-9-]{1,64}$")


def store_arn_problem(value: str) -> str | None:
    """Why ``value`` is no KeyValueStore ARN (None: it is one)."""
    if _STORE_ARN.match(value):
        return None
    return f"{value[:120]!r} is not a key value store ARN (arn:aws:cloudfront::ACCOUNT:key-value-store/ID)"


KeyValueStoreArn = Annotated[str, refused_by(store_arn_problem)]
"""A CloudFront KeyValueStore ARN, checked before anything is sent."""


class PointerConflict(HookError):
    """The pointer did not hold the value this run read: someone else switched the site meanwhile."""


@dataclass(frozen=True)
class PointerValue:
    """A parsed pointer: the live release, its shared prefixes, the releases pinned tabs may still reach."""

    release: str
    shared: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


class PointerStore(Protocol):
    """Reads and compare-and-swap writes of one site's live pointer."""

    key: str
    """The store key (``live``, ``docs/live``)."""

    def read(self) -> tuple[str | None, PointerValue | None]:
        """The raw value (None: no key) and its parse (None: none, or a value the edge would ignore)."""
        ...

    def swap(self, value: PointerValue, expected_raw: str | None) -> str:
        """Write ``value`` if the key still holds ``expected_raw``; returns the raw value written."""
        ...

    def remove(self, expected_raw: str) -> None:
        """Delete the key if it still holds ``expected_raw`` (the edge then serves the in-place root)."""
        ...


@dataclass(frozen=True)
class SwitchTiming:
    """How long a pointer write took and what reading the key back showed."""

    seconds: float
    read_back: PointerValue | None


def timed_swap(store: PointerStore, value: PointerValue, expected_raw: str | None) -> SwitchTiming:
    """Swap, then read the pointer back; the time covers the write and the read-back (the switch as S3 callers see it)."""
    started = time.monotonic()
    store.swap(value, expected_raw)
    _, back = store.read()
    return SwitchTiming(time.monotonic() - started, back)


class KvsPointerStore:
    """The live pointer in a CloudFront KeyValueStore, through the edge's KVS client and value model."""

    def __init__(self, session: boto3.Session, arn: str, site_prefix: str) -> None:
        """The pointer of ``site_prefix`` in the store ``arn``, reached with ``session``'s credentials."""
        kvs: Any = importlib.import_module("runway_ext.static_site.kvs")  # the edge's module (client and value model)

        self._kvs = kvs
        self.client = kvs.KvsClient.from_session(session)
        self.arn = arn
        self.key = kvs.pointer_key(site_prefix)

    def read(self) -> tuple[str | None, PointerValue | None]:
        """The raw value and its parse (a value the edge's model refuses parses to None)."""
        raw, _etag = self.client.get_key(self.arn, self.key)
        return raw, self._parse(raw)

    def _parse(self, raw: str | None) -> PointerValue | None:
        if raw is None:
            return None
        try:
            found: Any = self._kvs.ReleasePointer.from_value(raw)
        except ValueError:  # pydantic's ValidationError is a ValueError
            return None
        return PointerValue(str(found.r), tuple(found.s), tuple(found.k))

    def swap(self, value: PointerValue, expected_raw: str | None) -> str:
        """One per-key compare-and-swap (the client retries while only other keys of the store change)."""
        raw = self._kvs.ReleasePointer(v=1, r=value.release, s=value.shared, k=value.kept).to_value()
        try:
            self.client.put_key_if(self.arn, self.key, raw, expected_raw)
        except self._kvs.KvsConflictError as error:
            raise PointerConflict(str(error)) from None
        return str(raw)

    def remove(self, expected_raw: str) -> None:
        """Delete the pointer key if it still holds ``expected_raw``."""
        try:
            self.client.delete_key_if(self.arn, self.key, expected_raw)
        except self._kvs.KvsConflictError as error:
            raise PointerConflict(str(error)) from None


def describe(raw: str | None) -> str:
    """A pointer value for a one-line message (cut when long)."""
    if raw is None:
        return "no pointer"
    return json.dumps(raw if len(raw) <= 120 else raw[:117] + "...")
