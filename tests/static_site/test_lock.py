"""The site lock's pure decision: liveness is the lease; a pid may only shorten the wait where it is provably ours."""

from __future__ import annotations

import json

import pytest

from runway_ext.static_site.lock import Identity, lock_status, new_lock, this_identity, waits_for
from runway_ext.static_site.manifest import SiteLock, SiteManifest, parse_manifest, render_manifest

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


@pytest.mark.parametrize(
    ("mine", "theirs", "waits"),
    [
        ("deploy", "preview:pr-7", True),  # a live deploy waits for a preview's run
        ("preview:pr-7", "deploy", True),  # and a preview for the live site's runs
        ("preview:pr-7", "rollback", True),
        ("preview:pr-7", "preview:pr-8", True),  # and for another preview
        ("deploy", "deploy", False),  # one kind races: one of two wins
        ("preview:pr-7", "preview:pr-7", False),
        ("deploy", "rollback", False),
        ("deploy", "", False),  # a lock that does not say what it does (an older version's)
        ("", "preview:pr-7", False),
    ],
)
def test_which_runs_wait_for_which(mine: str, theirs: str, waits: bool) -> None:
    assert waits_for(mine, theirs) is waits


def test_a_locks_purpose_is_written_and_read_back_and_an_older_lock_reads_as_not_saying() -> None:
    lock = new_lock(ttl=60, what="preview pr-7", purpose="preview:pr-7")
    manifest = SiteManifest("s", "t", {}, state="syncing", lock=lock)
    back = parse_manifest(render_manifest(manifest, written_by="test"))
    assert back is not None and back.lock is not None and back.lock.purpose == "preview:pr-7"
    assert back.lock.owner.endswith("(preview pr-7)")
    older = json.loads(render_manifest(manifest, written_by="test"))
    del older["lock"]["purpose"]
    old = parse_manifest(json.dumps(older).encode())
    assert old is not None and old.lock is not None and old.lock.purpose == ""
