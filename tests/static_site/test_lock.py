"""The site lock's pure decision: liveness is the lease; a pid may only shorten the wait where it is provably ours."""

from __future__ import annotations

from runway_ext.static_site.lock import Identity, lock_status, this_identity
from runway_ext.static_site.manifest import SiteLock, SiteManifest

HERE = Identity("runner", "boot-1", "4026531836")


def held_by(boot_id: str, pid_ns: str, *, host: str = "runner", ttl: float = 900) -> SiteManifest:
    lock = SiteLock("ci@runner pid 77", host, 77, "r" * 32, ttl, boot_id, pid_ns)
    return SiteManifest("", "", {}, state="syncing", lock=lock)


def status(manifest: SiteManifest, *, age: float = 5.0, **kwargs: object) -> str:
    return lock_status(manifest, manifest_time=1000.0, server_now=1000.0 + age, this_host=HERE, is_alive=lambda lock: False, **kwargs).state  # type: ignore[arg-type]


def test_a_renewed_lock_is_alive_wherever_its_owner_runs() -> None:
    assert status(held_by("boot-1", "4026532999")) == "held"  # another pid namespace, same host name
    assert status(held_by("boot-2", "4026531836")) == "held"  # another boot
    assert status(held_by("", "")) == "held"  # a lock of an older version: nothing provable
    assert status(held_by("boot-1", "4026531836", host="other")) == "held"


def test_a_dead_pid_shortens_the_wait_only_in_the_same_host_boot_and_namespace() -> None:
    assert status(held_by("boot-1", "4026531836")) == "stale"


def test_the_lease_expires_by_s3s_clock() -> None:
    assert status(held_by("boot-2", "x", ttl=60), age=61) == "stale"
    assert status(held_by("boot-2", "x", ttl=60), age=59) == "held"


def test_break_lock_must_name_the_owner() -> None:
    assert status(held_by("boot-2", "x"), break_lock="someone else") == "held"
    assert status(held_by("boot-2", "x"), break_lock="ci@runner pid 77") == "stale"


def test_this_identity_reads_the_boot_id_and_pid_namespace() -> None:
    here = this_identity()
    assert len(here.boot_id) == 36 and here.pid_ns.isdigit()
