"""The site manifest protocol: how deploys to one bucket prefix stay exact under kills and races. Pure.

In ten lines:

1. A deploy reads the site manifest (``<prefix>.runway-ext/site-manifest.json``) and its ETag, then lists
   the prefix once. The manifest vouches for an object only while the listing shows its ETag and size
   and it was not modified after the manifest's time (:func:`~.plan.with_manifest_state`).
2. A ``complete`` manifest whose sources, settings and every object are vouched for by the listing
   proves the bucket holds that build: the build and the sync are skipped. Anything else is compared.
3. Before its first write, a deploy replaces the manifest with a ``syncing`` one that holds a lock
   (owner, host, pid, run id, ttl) and vouches only for the keys it will not touch — written with
   ``If-Match`` on the ETag it read (``If-None-Match: *`` when there was none). A 412 means another
   deploy got there first: this one stops before writing anything.
4. While it writes, the deploy renews the lock (again ``If-Match``) every ttl/3 and stops writing as soon
   as a renewal fails; it finishes by writing the ``complete`` manifest with ``If-Match`` on its own lock.
5. A deploy that fails releases the lock (``syncing`` without lock); one that is killed leaves the lock,
   which is stale once its process is gone (same host) or its ttl ran out (S3's clock). A stale
   ``syncing`` manifest is taken over: the new deploy compares every key it does not vouch for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .plan import SiteLock, SiteManifest

LockState = Literal["free", "stale", "held"]


@dataclass(frozen=True)
class LockStatus:
    """Whether a deploy may start: ``free`` (no deploy running), ``stale`` (one died), ``held`` (one runs)."""

    state: LockState
    reason: str = ""


def lock_status(
    manifest: SiteManifest | None,
    *,
    manifest_time: float | None,
    server_now: float | None,
    this_host: str,
    is_alive: Callable[[SiteLock], bool],
) -> LockStatus:
    """Decide whether the deploy that wrote ``manifest`` still holds the site.

    ``manifest_time`` is the manifest object's last modification and ``server_now`` the current time,
    both by S3's clock (so clocks of the deploying machines never matter). ``is_alive`` tells whether a
    lock owner on this host is still running.
    """
    if manifest is None or manifest.state == "complete":
        return LockStatus("free")
    lock = manifest.lock
    if lock is None:
        return LockStatus("stale", "the last deploy failed before it finished")
    if lock.host == this_host and not is_alive(lock):
        return LockStatus("stale", f"the deploy by {lock.owner} is no longer running")
    if manifest_time is not None and server_now is not None and server_now > manifest_time + lock.ttl:
        return LockStatus("stale", f"the lock of {lock.owner} expired {server_now - manifest_time - lock.ttl:.0f}s ago")
    remaining = "" if manifest_time is None or server_now is None else f"; its lock expires in {manifest_time + lock.ttl - server_now:.0f}s"
    return LockStatus("held", f"another deploy ({lock.owner}) is syncing this site{remaining}")
