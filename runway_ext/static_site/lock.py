"""The site lock: how deploys and rollbacks of one site stay exact under kills and races (the site manifest protocol).

In ten lines:

1. A deploy reads the site manifest (``<prefix>.runway-ext/site-manifest.json``) and its ETag, then lists
   the prefix once. The manifest vouches for an object only while the listing shows its ETag and size
   and it was not modified after the manifest's time (:func:`~.manifest.with_manifest_state`).
2. A ``complete`` manifest whose sources, settings and every object are vouched for by the listing
   proves the bucket holds that build: the build and the sync are skipped. Anything else is compared.
3. Before its first write, a deploy replaces the manifest with a ``syncing`` one that holds a lock
   (owner, host, boot id, pid namespace, pid, run id, ttl) and vouches only for the keys it will not touch — written with
   ``If-Match`` on the ETag it read (``If-None-Match: *`` when there was none). A 412 means another
   deploy got there first: this one stops before writing anything.
4. While it writes, the deploy renews the lock (again ``If-Match``) every ttl/3 and stops writing as soon
   as a renewal fails; it finishes by writing the ``complete`` manifest with ``If-Match`` on its own lock.
5. A deploy that fails releases the lock (``syncing`` without lock); one that is killed leaves the lock,
   which is stale once its ttl ran out without a renewal (S3's clock), or sooner once its process is gone and
   that is provable (same host, boot id and pid namespace), or when broken by hand (``break_lock``). A stale
   ``syncing`` manifest is taken over: the new deploy compares every key it does not vouch for.

:func:`lock_status` is the pure decision; :func:`check_lock` applies it to a site just read; :func:`holding`
takes the lock (a :class:`SiteLease`) for the ``with`` block and releases it when the block fails.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

from runway_ext.core.errors import HookError
from runway_ext.static_site.manifest import SiteLock, SiteManifest, render_manifest
from runway_ext.static_site.s3 import ManifestConflict, S3Site

LockState = Literal["free", "stale", "held"]
StateT = TypeVar("StateT")
ResultT = TypeVar("ResultT")


class LockTaken(ManifestConflict):
    """Taking the lock failed: another run wrote the site manifest since this one read it."""


@dataclass(frozen=True)
class LockStatus:
    """Whether a deploy may start: ``free`` (no deploy running), ``stale`` (one died), ``held`` (one runs)."""

    state: LockState
    reason: str = ""


@dataclass(frozen=True)
class Identity:
    """Where a process runs, as far as a lock can tell: host name, boot id, pid namespace (empty: unknown)."""

    host: str
    boot_id: str = ""
    pid_ns: str = ""

    def sees_pids_of(self, lock: SiteLock) -> bool:
        """Whether a pid in ``lock`` is provably a pid of this process's namespace (same host, boot and pid namespace)."""
        return bool(self.boot_id and self.pid_ns) and (lock.host, lock.boot_id, lock.pid_ns) == (self.host, self.boot_id, self.pid_ns)


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read(64).strip()
    except (OSError, UnicodeDecodeError):
        return ""


def this_identity() -> Identity:
    """This process's :class:`Identity` (boot id from ``/proc/sys/kernel/random/boot_id``, pid namespace from the
    inode of ``/proc/self/ns/pid``; empty where the system does not say)."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    return Identity(socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), namespace)


def lock_status(
    manifest: SiteManifest | None,
    *,
    manifest_time: float | None,
    server_now: float | None,
    this_host: str | Identity,
    is_alive: Callable[[SiteLock], bool],
    break_lock: str | None = None,
) -> LockStatus:
    """Decide whether the run that wrote ``manifest`` still holds the site.

    Liveness is the lease: a lock renewed within its ttl (``manifest_time`` is the manifest object's last
    modification and ``server_now`` the current time, both by S3's clock, so the clocks of the deploying machines
    never matter) is alive wherever its owner runs. ``is_alive`` (is that pid running?) may only shorten the wait,
    and only when the lock's host, boot id and pid namespace are provably this process's: a host name alone is
    shared by containers, ``hostNetwork`` pods and runners on one VM. ``break_lock``: the owner named by the
    person who knows that run is gone (the lock is then stale).
    """
    if manifest is None or manifest.state == "complete":
        return LockStatus("free")
    lock = manifest.lock
    if lock is None:
        return LockStatus("stale", "the last deploy failed before it finished")
    if break_lock is not None and break_lock == lock.owner:
        return LockStatus("stale", f"the lock of {lock.owner} was broken by hand (break_lock)")
    this = this_host if isinstance(this_host, Identity) else Identity(this_host)
    if this.sees_pids_of(lock) and not is_alive(lock):
        return LockStatus("stale", f"the deploy by {lock.owner} is no longer running")
    if manifest_time is not None and server_now is not None and server_now > manifest_time + lock.ttl:
        return LockStatus("stale", f"the lock of {lock.owner} expired {server_now - manifest_time - lock.ttl:.0f}s ago")
    remaining = (
        ""
        if manifest_time is None or server_now is None
        else f"; its lock expires in {max(0.0, manifest_time + lock.ttl - server_now):.0f}s"
    )
    recover = f" unless renewed (if that run is gone: wait, or rerun with break_lock set to {lock.owner!r})"
    return LockStatus("held", f"another deploy ({lock.owner}) is syncing this site{remaining}{recover}")


ACTIVE_RUNS: set[str] = set()
"""Run ids of the deploys and rollbacks running in this process (a lock of this process whose run is not here is dead)."""


def is_alive(lock: SiteLock) -> bool:
    """Whether the process holding a lock taken in this pid namespace still runs (in this process: whether its run does)."""
    if lock.pid == os.getpid():
        return lock.run_id in ACTIVE_RUNS
    try:
        os.kill(lock.pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def check_lock(site: S3Site, manifest: SiteManifest | None, *, dry_run: bool, log: logging.Logger, break_lock: str | None = None) -> None:
    """Refuse (one line naming ``bucket_name``) a site another live run holds; warn about one left half-written.

    A dry run only warns: it writes nothing.
    """
    status = lock_status(
        manifest,
        manifest_time=site.manifest_time,
        server_now=site.server_time,
        this_host=this_identity(),
        is_alive=is_alive,
        break_lock=break_lock,
    )
    if status.state == "held":
        if not dry_run:
            raise HookError(f"bucket_name: {site.where}: {status.reason}; nothing was changed")
        log.warning("%s: %s", site.where, status.reason)
    elif status.state == "stale":
        log.warning("%s was left half-written (%s): comparing every object that run may have touched", site.where, status.reason)


def user_name() -> str:
    """The local user's name (``unknown`` when the system cannot say)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_lock(*, ttl: float, what: str = "", purpose: str = "") -> SiteLock:
    """A lock for a run of this process: ``user@host pid N`` (plus `` (what)``), a fresh run id; ``purpose``: see
    :attr:`~.manifest.SiteLock.purpose` (default: ``what``)."""
    this = this_identity()
    owner = f"{user_name()}@{this.host} pid {os.getpid()}" + (f" ({what})" if what else "")
    return SiteLock(
        owner=owner,
        host=this.host,
        pid=os.getpid(),
        run_id=uuid.uuid4().hex,
        ttl=ttl,
        boot_id=this.boot_id,
        pid_ns=this.pid_ns,
        purpose=purpose or what,
    )


def waits_for(mine: str, theirs: str) -> bool:
    """Whether a run doing ``mine`` waits for a run doing ``theirs`` to finish, rather than refuse the site. Pure.

    Previews and the live site never fail each other: a live deploy waits for a preview's run, a preview for
    the live site's runs and other previews'. Two runs of one kind (two live deploys, two deploys of one preview)
    still race: one wins, the other is refused. A lock that does not say what it does (an older version's) is
    never waited for.
    """
    if not theirs or not mine:
        return False
    if mine == "deploy":
        return theirs.startswith("preview:")
    if mine.startswith("preview:"):
        return theirs != mine
    return False


WAIT_POLL_SECONDS = 2.0
"""How often a waiting run reads the site manifest again."""


def holder_to_wait_for(site: S3Site, purpose: str) -> SiteLock | None:
    """The live lock on the site (read now) of a run a run doing ``purpose`` waits for (:func:`waits_for`), or None."""
    manifest = site.read_manifest()
    status = lock_status(
        manifest, manifest_time=site.manifest_time, server_now=site.server_time, this_host=this_identity(), is_alive=is_alive
    )
    lock = manifest.lock if manifest is not None else None
    return lock if status.state == "held" and lock is not None and waits_for(purpose, lock.purpose) else None


def wait_for_other_runs(
    site: S3Site,
    *,
    purpose: str,
    timeout: float,
    log: logging.Logger,
    poll_seconds: float = WAIT_POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait (at most ``timeout`` seconds) while the site is held by a run :func:`waits_for` says to wait for.

    Returns once the site is free, stale, held by a run not to wait for, or the time is up; the caller then reads
    the site and checks its lock as usual (:func:`check_lock` refuses what is still held).
    """
    started = clock()
    said = ""
    while True:
        lock = holder_to_wait_for(site, purpose)
        if lock is None or clock() - started >= timeout:
            return
        if said != lock.run_id:
            said = lock.run_id
            log.info("%s: waiting for the %s run of %s to finish (at most %gs)", site.where, lock.purpose, lock.owner, timeout)
        sleep(poll_seconds)


def run_waiting_for_others(
    site: S3Site,
    *,
    purpose: str,
    timeout: float,
    log: logging.Logger,
    read: Callable[[], StateT],
    attempt: Callable[[StateT], ResultT],
    state: StateT | None = None,
) -> ResultT:
    """``attempt(read())``, waiting first for a run of another kind (:func:`waits_for`) that holds the site.

    When the attempt's lock is taken by such a run between the read and the lock (:class:`LockTaken`), this run
    waits for it, reads the site again (new release ids, index and pointer) and attempts again, all within
    ``timeout`` seconds; a lock taken by a run of its own kind fails as before. ``state``: a read already made.
    """
    deadline = time.monotonic() + timeout
    while True:
        if state is None:
            wait_for_other_runs(site, purpose=purpose, timeout=max(0.0, deadline - time.monotonic()), log=log)
            state = read()
        try:
            return attempt(state)
        except LockTaken:
            if time.monotonic() >= deadline or holder_to_wait_for(site, purpose) is None:
                raise
            state = None


class SiteLease:
    """A deploy's lock on the site: the ``syncing`` manifest, renewed every ttl/3 while the deploy writes.

    :meth:`check` (run before every write) raises once a renewal failed or the lock may have expired;
    :meth:`finish` writes the ``complete`` manifest in its place; :meth:`release` marks the site as
    left half-written (``syncing`` without a lock) so the next deploy compares instead of waiting.
    """

    def __init__(self, site: S3Site, marker: SiteManifest, *, written_by: str, ttl: float) -> None:
        """Take the lock: write ``marker`` conditionally (:class:`ManifestConflict` when another deploy wrote first)."""
        self.site = site
        self.marker = marker
        self.written_by = written_by
        self.ttl = ttl
        self._body = render_manifest(marker, written_by=written_by)
        try:
            site.put_manifest(self._body)
        except ManifestConflict as error:
            raise LockTaken(str(error)) from None
        self._renewed = time.monotonic()
        self._lost: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, name="runway-ext-lease", daemon=True)
        self._thread.start()

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                with self._lock:
                    self.site.put_manifest(self._body)
                    self._renewed = time.monotonic()
            except HookError as error:
                self._lost = str(error)
                return

    def check(self) -> None:
        """Raise when this deploy may no longer hold the lock (it must stop writing)."""
        if self._lost is not None:
            raise HookError(f"lost the lock on {self.site.where}: {self._lost}")
        if time.monotonic() - self._renewed > self.ttl * 0.9:
            raise HookError(f"could not renew the lock on {self.site.where} in time; stopped writing")

    def _stop_renewing(self) -> None:
        self._stop.set()
        self._thread.join()

    def finish(self, manifest: SiteManifest) -> None:
        """Replace the lock with the complete manifest (only if the lock is still ours)."""
        self._stop_renewing()
        self.check()
        with self._lock:
            self.site.put_manifest(render_manifest(manifest, written_by=self.written_by))

    def release(self) -> None:
        """After a failure: keep the site marked half-written but free for the next deploy (best effort)."""
        self._stop_renewing()
        if self._lost is not None:
            return
        released = SiteManifest(
            self.marker.source_hash,
            self.marker.settings_hash,
            self.marker.objects,
            state="syncing",
            lock=None,
            vouched_at=self.marker.vouched_at,
            pending=self.marker.pending,  # what it may have written stays the site's
        )
        try:
            self.site.put_manifest(render_manifest(released, written_by=self.written_by))
        except HookError as error:
            self.site.log.warning("could not release the lock on %s: %s", self.site.where, error)


@contextmanager
def holding(site: S3Site, marker: SiteManifest, *, written_by: str, ttl: float) -> Iterator[SiteLease]:
    """Hold the site's lock (``marker``: a ``syncing`` manifest naming its lock) for the block.

    The block ends by :meth:`SiteLease.finish`; a block that raises releases the lock (the site stays marked
    half-written, free for the next run). :class:`~.s3.ManifestConflict` when another run wrote first.
    """
    assert marker.lock is not None
    run_id = marker.lock.run_id
    ACTIVE_RUNS.add(run_id)
    try:
        lease = SiteLease(site, marker, written_by=written_by, ttl=ttl)
        try:
            yield lease
        except BaseException:
            lease.release()
            raise
    finally:
        ACTIVE_RUNS.discard(run_id)
