"""A FAKE release-pointer store for tests: one JSON file standing in for a CloudFront KeyValueStore key.

It is not the product's client (``runway_ext.static_site.kvs`` talks to the real data plane or the local one):
it implements the deploy side's ``PointerStore`` interface with the same compare-and-swap contract (write only
while the key holds the value the caller read), under an exclusive file lock so that separate processes race on
it as they would on the store. Values are parsed as the contract's reader does: anything else is "no pointer".
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runway_ext.static_site.atomic import render_pointer
from runway_ext.static_site.pointer import PointerConflict, PointerValue

RELEASE = re.compile(r"^r[1-9][0-9]*$")


class FakeFilePointerStore:
    """The pointer key of one site prefix, kept in ``path`` (JSON ``{"keys": {key: value}}``)."""

    def __init__(self, path: Path, site_prefix: str = "") -> None:
        self.path = path
        self.key = f"{site_prefix}live"
        self.writes = 0

    @contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, str]]]:
        self.path.touch(exist_ok=True)
        with self.path.open("r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            text = handle.read()
            document = json.loads(text) if text.strip() else {"keys": {}}
            yield document
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(document))

    def raw(self) -> str | None:
        with self._locked() as document:
            return document["keys"].get(self.key)

    def set_raw(self, value: str | None) -> None:
        """Change the key behind the deploy's back."""
        with self._locked() as document:
            if value is None:
                document["keys"].pop(self.key, None)
            else:
                document["keys"][self.key] = value

    def read(self) -> tuple[str | None, PointerValue | None]:
        raw = self.raw()
        return raw, parse(raw)

    def swap(self, value: PointerValue, expected_raw: str | None) -> str:
        raw = render_pointer(value)
        with self._locked() as document:
            current = document["keys"].get(self.key)
            if current != expected_raw:
                raise PointerConflict(f"key {self.key!r} holds {current!r}, not the expected {expected_raw!r}: someone else changed it")
            document["keys"][self.key] = raw
        self.writes += 1
        return raw

    def remove(self, expected_raw: str) -> None:
        with self._locked() as document:
            current = document["keys"].get(self.key)
            if current != expected_raw:
                raise PointerConflict(f"key {self.key!r} holds {current!r}, not the expected {expected_raw!r}: someone else changed it")
            document["keys"].pop(self.key, None)


def parse(raw: str | None) -> PointerValue | None:
    if raw is None:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("v") != 1 or not isinstance(document.get("r"), str) or not RELEASE.match(document["r"]):
        return None
    shared, kept = document.get("s", []), document.get("k", [])
    if not all(isinstance(item, str) for item in shared) or not all(isinstance(item, str) and RELEASE.match(item) for item in kept):
        return None
    return PointerValue(document["r"], tuple(shared), tuple(kept))
