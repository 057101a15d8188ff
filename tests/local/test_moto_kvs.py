"""The local KeyValueStore data plane on the moto server, through boto3's own ``cloudfront-keyvaluestore`` client.

The data plane is local mode's emulation of AWS's documented behaviour (:mod:`runway_ext.local.moto_kvs`); the
control plane (the stores themselves) is moto's, created here by the API and by CloudFormation with local
mode's model.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runway_ext.local.moto_cloudformation import install
from runway_ext.static_site.kvs import KvsClient


def data_plane() -> Any:
    return KvsClient.from_session(boto3.Session()).client


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_put_and_delete_key_need_the_current_etag(aws: Any) -> None:
    store = boto3.client("cloudfront").create_key_value_store(Name="kv")["KeyValueStore"]["ARN"]
    kvs = data_plane()
    etag = kvs.describe_key_value_store(KvsARN=store)["ETag"]
    put = kvs.put_key(KvsARN=store, Key="docs/live", Value="v1", IfMatch=etag)
    assert put["ItemCount"] == 1 and put["TotalSizeInBytes"] == len("docs/live") + 2 and put["ETag"] != etag
    assert kvs.get_key(KvsARN=store, Key="docs/live")["Value"] == "v1"  # a key with "/" in it survives the path
    with pytest.raises(ClientError) as stale:
        kvs.put_key(KvsARN=store, Key="docs/live", Value="v2", IfMatch=etag)
    assert code_of(stale) == "ConflictException"
    with pytest.raises(ClientError) as missing:
        kvs.delete_key(KvsARN=store, Key="nope", IfMatch=put["ETag"])
    assert code_of(missing) == "ResourceNotFoundException"
    deleted = kvs.delete_key(KvsARN=store, Key="docs/live", IfMatch=put["ETag"])
    assert deleted["ItemCount"] == 0
    with pytest.raises(ClientError) as gone:
        kvs.get_key(KvsARN=store, Key="docs/live")
    assert code_of(gone) == "ResourceNotFoundException"


def test_unknown_store_and_reset(aws: Any) -> None:
    store = boto3.client("cloudfront").create_key_value_store(Name="kv")["KeyValueStore"]["ARN"]
    kvs = data_plane()
    kvs.put_key(KvsARN=store, Key="live", Value="v", IfMatch=kvs.describe_key_value_store(KvsARN=store)["ETag"])
    with pytest.raises(ClientError) as unknown:
        kvs.describe_key_value_store(KvsARN=store[:-4] + "0000")
    assert code_of(unknown) == "ResourceNotFoundException"
    aws.reset()
    again = boto3.client("cloudfront").create_key_value_store(Name="kv")["KeyValueStore"]["ARN"]
    assert kvs.list_keys(KvsARN=again)["Items"] == []  # nothing survives a reset, even under the same name


def test_cloudformation_creates_updates_and_deletes_the_store(aws: Any) -> None:
    install()
    template: dict[str, Any] = {
        "Resources": {"Store": {"Type": "AWS::CloudFront::KeyValueStore", "Properties": {"Name": "stack-store", "Comment": "one"}}},
        "Outputs": {
            "Arn": {"Value": {"Fn::GetAtt": ["Store", "Arn"]}},
            "Name": {"Value": {"Ref": "Store"}},
            "Id": {"Value": {"Fn::GetAtt": ["Store", "Id"]}},
        },
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="kv", TemplateBody=json.dumps(template))
    outputs = {item["OutputKey"]: item["OutputValue"] for item in cloudformation.describe_stacks(StackName="kv")["Stacks"][0]["Outputs"]}
    assert outputs["Name"] == "stack-store" and outputs["Arn"].endswith(f":key-value-store/{outputs['Id']}")
    described = boto3.client("cloudfront").describe_key_value_store(Name="stack-store")["KeyValueStore"]
    assert described["ARN"] == outputs["Arn"] and described["Comment"] == "one"
    template["Resources"]["Store"]["Properties"]["Comment"] = "two"
    cloudformation.update_stack(StackName="kv", TemplateBody=json.dumps(template))
    assert boto3.client("cloudfront").describe_key_value_store(Name="stack-store")["KeyValueStore"]["Comment"] == "two"
    assert data_plane().describe_key_value_store(KvsARN=outputs["Arn"])["ItemCount"] == 0
    cloudformation.delete_stack(StackName="kv")
    with pytest.raises(ClientError):
        data_plane().describe_key_value_store(KvsARN=outputs["Arn"])


def test_hostile_key_names_round_trip(aws: Any) -> None:
    store = boto3.client("cloudfront").create_key_value_store(Name="kv")["KeyValueStore"]["ARN"]
    kvs = data_plane()
    keys = ["a%2Fb", "sp ace", "q?x#y", "ü/live", "../live", "a/b/c", "x" * 512]
    etag = kvs.describe_key_value_store(KvsARN=store)["ETag"]
    kvs.update_keys(KvsARN=store, IfMatch=etag, Puts=[{"Key": key, "Value": f"value of {key}"} for key in keys])
    for key in keys:
        assert kvs.get_key(KvsARN=store, Key=key)["Value"] == f"value of {key}", key
    assert {item["Key"] for item in kvs.list_keys(KvsARN=store, MaxResults=50)["Items"]} == set(keys)
