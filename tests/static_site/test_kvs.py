"""The KeyValueStore client against the local data plane, and the pointer model.

The data plane is local mode's emulation of AWS's documented ``cloudfront-keyvaluestore`` behaviour
(:mod:`runway_ext.local.moto_kvs`, served by the moto server); the client is the real boto3 client,
signing SigV4A through the AWS CRT. Races are real: a second client writes between the first one's read
and its write, through botocore's own event hooks.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import ValidationError

from runway_ext.local.moto_kvs import STORE_MAX_BYTES
from runway_ext.static_site.kvs import (
    CAS_ATTEMPTS,
    POINTER_MAX_BYTES,
    KvsClient,
    KvsConflictError,
    KvsError,
    ReleasePointer,
    pointer_key,
    preview_key,
    preview_name_problem,
)

POINTER = '{"v":1,"r":"r2","s":["_next/static/"],"k":["r1"]}'


@pytest.fixture
def store(aws: Any) -> str:
    """A fresh store in the stand-in's control plane; its ARN."""
    return str(boto3.client("cloudfront").create_key_value_store(Name="site-releases")["KeyValueStore"]["ARN"])


def client() -> KvsClient:
    return KvsClient.from_session(boto3.Session())


def raw() -> Any:
    """A second, plain boto3 client (what another writer would use); same loopback routing as the client."""
    return client().client


def before_update(kvs: KvsClient, action: Any) -> list[int]:
    """Run ``action()`` before each UpdateKeys ``kvs`` sends (another writer racing it); return the call counter."""
    calls = [0]

    def hook(**_: Any) -> None:
        calls[0] += 1
        action(calls[0])

    kvs.client.meta.events.register("before-call.cloudfront-keyvaluestore.UpdateKeys", hook)
    return calls


def test_read_write_and_etag_moves_on_every_write(store: str) -> None:
    kvs = client()
    assert kvs.get_key(store, "live") == (None, kvs.describe(store))
    first = kvs.put_key_if(store, "live", POINTER, None)
    value, etag = kvs.get_key(store, "live")
    assert (value, etag) == (POINTER, first)
    second = kvs.put_key_if(store, "live", POINTER.replace("r2", "r3"), POINTER)
    assert second != first and kvs.describe(store) == second
    assert kvs.list_keys(store) == {"live": POINTER.replace("r2", "r3")}
    kvs.delete_key_if(store, "live", POINTER.replace("r2", "r3"))
    assert kvs.get_key(store, "live")[0] is None


def test_requests_are_sigv4a_signed_and_reach_the_configured_loopback_endpoint(store: str, aws: Any) -> None:
    kvs = client()
    sent: list[tuple[str, str]] = []
    kvs.client.meta.events.register(
        "before-send.cloudfront-keyvaluestore", lambda request, **_: sent.append((request.url, request.headers["Authorization"].decode()))
    )
    kvs.describe(store)
    url, authorization = sent[-1]
    assert url.startswith(aws.endpoint + "/key-value-stores/arn%3Aaws%3Acloudfront")
    assert authorization.startswith("AWS4-ECDSA-P256-SHA256 Credential=")
    plain = boto3.client("cloudfront-keyvaluestore", config=Config(signature_version="v4"))
    plain.meta.events.register_first(
        "before-sign.cloudfront-keyvaluestore", lambda request, **_: setattr(request, "url", request.url.replace("123456789012.", ""))
    )
    with pytest.raises(ClientError) as refused:
        plain.describe_key_value_store(KvsARN=store)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"  # SigV4 is not enough, as on AWS


def test_another_key_changing_between_read_and_write_is_retried(store: str) -> None:
    kvs, other = client(), raw()
    kvs.put_key_if(store, "live", POINTER, None)

    def preview_written(call: int) -> None:
        if call == 1:  # another site's pointer moves the store's ETag after we read it
            etag = other.describe_key_value_store(KvsARN=store)["ETag"]
            other.update_keys(KvsARN=store, IfMatch=etag, Puts=[{"Key": "docs/live", "Value": POINTER}])

    calls = before_update(kvs, preview_written)
    kvs.put_key_if(store, "live", POINTER.replace("r2", "r3"), POINTER)
    assert calls[0] == 2
    assert kvs.list_keys(store) == {"live": POINTER.replace("r2", "r3"), "docs/live": POINTER}


def test_this_key_changing_between_read_and_write_fails_in_one_line(store: str) -> None:
    kvs, other = client(), raw()
    kvs.put_key_if(store, "live", POINTER, None)

    def rolled_back_meanwhile(call: int) -> None:
        if call == 1:
            etag = other.describe_key_value_store(KvsARN=store)["ETag"]
            other.update_keys(KvsARN=store, IfMatch=etag, Puts=[{"Key": "live", "Value": POINTER.replace("r2", "r9")}])

    before_update(kvs, rolled_back_meanwhile)
    with pytest.raises(KvsConflictError) as failed:
        kvs.put_key_if(store, "live", POINTER.replace("r2", "r3"), POINTER)
    assert "key 'live' holds" in str(failed.value) and "r9" in str(failed.value) and "\n" not in str(failed.value)
    assert kvs.get_key(store, "live")[0] == POINTER.replace("r2", "r9")  # the other writer's value stands


def test_a_write_naming_the_etag_read_succeeds_and_one_after_any_other_change_writes_nothing(store: str) -> None:
    kvs, other = client(), raw()
    kvs.put_key_if(store, "preview/pr-1", POINTER, None)
    guard, etag = kvs.get_key(store, "preview/pr-1")  # the ETag read with another key guards this write
    assert guard == POINTER
    written = kvs.put_key_if_match(store, "live", POINTER, etag)
    assert written is not None and written == kvs.describe(store) and kvs.get_key(store, "live")[0] == POINTER
    other.update_keys(KvsARN=store, IfMatch=written, Puts=[{"Key": "docs/live", "Value": POINTER}])
    assert kvs.put_key_if_match(store, "live", POINTER.replace("r2", "r3"), written) is None  # not retried: the caller reads again
    assert kvs.get_key(store, "live")[0] == POINTER
    with pytest.raises(KvsError, match="values are at most 1024"):
        kvs.put_key_if_match(store, "live", "x" * 1025, kvs.describe(store))


def test_a_store_that_never_stops_changing_is_given_up_on(store: str) -> None:
    kvs, other = client(), raw()

    def churn(call: int) -> None:
        etag = other.describe_key_value_store(KvsARN=store)["ETag"]
        other.update_keys(KvsARN=store, IfMatch=etag, Puts=[{"Key": f"preview/p{call}", "Value": "x"}])

    calls = before_update(kvs, churn)
    with pytest.raises(KvsError, match=f"not written after {CAS_ATTEMPTS} attempts"):
        kvs.put_key_if(store, "live", POINTER, None)
    assert calls[0] == CAS_ATTEMPTS and kvs.get_key(store, "live")[0] is None


def test_missing_store_and_other_account_are_one_line(store: str) -> None:
    kvs = client()
    boto3.client("cloudfront").delete_key_value_store(Name="site-releases", IfMatch="any")
    with pytest.raises(KvsError, match="does not exist"):
        kvs.get_key(store, "live")
    other_account = store.replace("123456789012", "210987654321")
    sent: list[str] = []
    kvs.client.meta.events.register("before-send.cloudfront-keyvaluestore", lambda request, **_: sent.append(request.url))
    with pytest.raises(KvsError, match="belongs to account 210987654321, but the credentials are for account 123456789012"):
        kvs.describe(other_account)
    assert sent == []  # refused before any call
    with pytest.raises(KvsError, match="is not a key value store ARN"):
        kvs.describe("arn:aws:s3:::bucket")


def test_limits_in_the_client_and_in_the_data_plane(store: str) -> None:
    kvs, other = client(), raw()
    with pytest.raises(KvsError, match="is 1025 characters; values are at most 1024"):
        kvs.put_key_if(store, "live", "x" * 1025, None)
    with pytest.raises(KvsError, match="is 513 characters; keys are 1 to 512"):
        kvs.put_key_if(store, "k" * 513, "x", None)
    etag = kvs.describe(store)
    for puts, code in (
        ([{"Key": "k" * 513, "Value": "x"}], "ValidationException"),
        ([{"Key": "big", "Value": "x" * 1025}], "ValidationException"),
        ([{"Key": f"k{n}", "Value": "x"} for n in range(51)], "ValidationException"),
        ([{"Key": "live", "Value": "x"}, {"Key": "live", "Value": "y"}], "ValidationException"),
    ):
        with pytest.raises(ClientError) as refused:
            other.update_keys(KvsARN=store, IfMatch=etag, Puts=puts)
        assert refused.value.response["Error"]["Code"] == code
    assert kvs.describe(store) == etag  # nothing half-written
    with pytest.raises(ClientError) as stale:
        other.update_keys(KvsARN=store, IfMatch="KVSTALE", Puts=[{"Key": "live", "Value": "x"}])
    assert stale.value.response["Error"]["Code"] == "ConflictException"


def test_store_size_quota_and_list_pages(store: str) -> None:
    other = raw()
    value = "v" * 1024
    written = 0
    etag = other.describe_key_value_store(KvsARN=store)["ETag"]
    with pytest.raises(ClientError) as full:
        while True:
            puts = [{"Key": f"key-{written + n:05d}", "Value": value} for n in range(50)]
            etag = other.update_keys(KvsARN=store, IfMatch=etag, Puts=puts)["ETag"]
            written += 50
    assert full.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    described = other.describe_key_value_store(KvsARN=store)
    assert described["ItemCount"] == written and STORE_MAX_BYTES - 50 * 1034 < described["TotalSizeInBytes"] <= STORE_MAX_BYTES
    first = other.list_keys(KvsARN=store)
    assert len(first["Items"]) == 10 and first["NextToken"]
    assert len(client().list_keys(store)) == written


def test_pointer_model() -> None:
    pointer = ReleasePointer.from_value(POINTER)
    assert (pointer.r, pointer.s, pointer.k) == ("r2", ("_next/static/",), ("r1",))
    assert pointer.to_value() == POINTER and json.loads(pointer.to_value()) == json.loads(POINTER)
    assert pointer_key("") == "live" and pointer_key("docs/") == "docs/live"
    for bad in (
        '{"v":2,"r":"r2"}',
        '{"v":1,"r":"r0"}',
        '{"v":1,"r":"2"}',
        '{"v":1,"r":"r2","k":["../x"]}',
        '{"v":1,"r":"r2","s":["/abs/"]}',
        '{"v":1,"r":"r2","s":["no-slash"]}',
        '{"v":1,"r":"r2","s":["a/../b/"]}',
        '{"v":1,"r":"r2","extra":1}',
        "not json",
    ):
        with pytest.raises((ValidationError, ValueError)):
            ReleasePointer.from_value(bad)
    crowded = ReleasePointer(v=1, r="r900", k=tuple(f"r{n}" for n in range(899, 700, -1)))
    with pytest.raises(KvsError, match=f"more than {POINTER_MAX_BYTES}"):
        crowded.to_value()


def test_without_the_crt_the_client_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.compat

    monkeypatch.setattr(botocore.compat, "HAS_CRT", False)
    with pytest.raises(KvsError, match=r"pip install 'botocore\[crt\]'"):
        KvsClient.from_session(boto3.Session())


def test_two_writers_at_once_exactly_one_wins(store: str) -> None:
    import threading

    client().put_key_if(store, "live", POINTER, None)
    writers = [client() for _ in range(4)]
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def write(index: int) -> None:
        barrier.wait()
        try:
            writers[index].put_key_if(store, "live", POINTER.replace("r2", f"r{10 + index}"), POINTER)
            outcomes.append(f"won r{10 + index}")
        except KvsConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(index,)) for index in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [outcome for outcome in outcomes if outcome.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == len(writers) - 1
    assert client().get_key(store, "live")[0] == POINTER.replace("r2", winners[0].split()[1])


def test_preview_key_refuses_what_the_function_refuses() -> None:
    assert preview_key("", "pr-12") == "preview/pr-12" and preview_key("docs/", "pr-12") == "docs/preview/pr-12"
    for name, problem in (
        ("PR-1", "not a DNS label"),
        ("r7", "shape of a release id"),
        ("live", "reserved"),
        ("xn--x", "internationalised"),
        ("a" * 41, "1 to 40 characters"),
    ):
        with pytest.raises(ValueError, match=problem):
            preview_key("", name)


def test_preview_name_rule() -> None:
    for name in ("pr-1", "a", "0", "feature-x", "a" * 40, "r", "rr1", "ab-c", "a--b"):
        assert preview_name_problem(name) is None, name
    for name in ("", "-a", "a-", "a_b", "a.b", "A", "r1", "r0", "r01", "shared", "preview", "ab--c", "a" * 41):
        assert preview_name_problem(name), name
    with pytest.raises(ValueError, match="must be empty or end with '/'"):
        preview_key("docs", "pr-1")
