"""moto's CloudFormation, taught our CDN resource types, creates and deletes real (moto) CloudFront objects."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from runway_ext.local.moto_cloudformation import SUPPORTED_TYPES, install

TEMPLATE = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "site-bucket-test"}},
        "Oac": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": "site-oac",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "Headers": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {"Name": "sec"}}},
        "Cache": {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {"Name": "c"}}},
        "Rewrite": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": "rewrite-index",
                "AutoPublish": True,
                "FunctionCode": "function handler(event) { return event.request; }",
                "FunctionConfig": {"Comment": "index", "Runtime": "cloudfront-js-2.0"},
            },
        },
        "Distribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "Origins": [
                        {
                            "Id": "s3",
                            "DomainName": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]},
                            "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "s3",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "CachePolicyId": {"Ref": "Cache"},
                        "ResponseHeadersPolicyId": {"Ref": "Headers"},
                        "FunctionAssociations": [
                            {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["Rewrite", "FunctionMetadata.FunctionARN"]}}
                        ],
                    },
                }
            },
        },
        "Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::site-bucket-test/*",
                            "Condition": {
                                "StringEquals": {
                                    "AWS:SourceArn": {"Fn::Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}
                                }
                            },
                        }
                    ],
                },
            },
        },
    },
    "Outputs": {
        "DistributionId": {"Value": {"Ref": "Distribution"}},
        "DomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
        "FunctionArn": {"Value": {"Fn::GetAtt": ["Rewrite", "FunctionMetadata.FunctionARN"]}},
        "OacId": {"Value": {"Ref": "Oac"}},
        "CachePolicyId": {"Value": {"Ref": "Cache"}},
    },
}


@pytest.fixture
def taught(aws):  # type: ignore[no-untyped-def]
    assert install() == list(SUPPORTED_TYPES)
    return aws


def test_stack_creates_and_deletes_cloudfront_resources(taught) -> None:  # type: ignore[no-untyped-def]
    cloudformation = boto3.client("cloudformation")
    cloudfront = boto3.client("cloudfront")
    cloudformation.create_stack(StackName="cdn", TemplateBody=json.dumps(TEMPLATE))
    stack = cloudformation.describe_stacks(StackName="cdn")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}
    assert set(outputs) == {"DistributionId", "DomainName", "FunctionArn", "OacId", "CachePolicyId"}

    distribution = cloudfront.get_distribution(Id=outputs["DistributionId"])["Distribution"]
    assert distribution["DomainName"] == outputs["DomainName"]
    assert distribution["DistributionConfig"]["DefaultRootObject"] == "index.html"
    assert (
        cloudfront.get_origin_access_control(Id=outputs["OacId"])["OriginAccessControl"]["OriginAccessControlConfig"]["Name"] == "site-oac"
    )
    assert outputs["FunctionArn"].endswith(":function/rewrite-index")
    policy = json.loads(boto3.client("s3").get_bucket_policy(Bucket="site-bucket-test")["Policy"])
    assert policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(f"distribution/{outputs['DistributionId']}")
    invalidation = cloudfront.create_invalidation(
        DistributionId=outputs["DistributionId"], InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "t1"}
    )
    assert invalidation["Invalidation"]["Id"]

    cloudformation.delete_stack(StackName="cdn")
    with pytest.raises(cloudfront.exceptions.NoSuchDistribution):
        cloudfront.get_distribution(Id=outputs["DistributionId"])
    assert cloudfront.list_functions()["FunctionList"].get("Items", []) == []


def test_bucket_policy_keeps_all_but_transport_conditions(taught) -> None:  # type: ignore[no-untyped-def]
    """moto ignores request context, so a TLS-only Deny would lock the bucket; only that statement is left out."""
    deny_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::tls-bucket/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::tls-bucket/*",
    }
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "tls-bucket"}},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [allow, deny_http]}},
            },
        }
    }
    boto3.client("cloudformation").create_stack(StackName="tls", TemplateBody=json.dumps(template))
    s3 = boto3.client("s3")
    assert json.loads(s3.get_bucket_policy(Bucket="tls-bucket")["Policy"])["Statement"] == [allow]
    s3.put_object(Bucket="tls-bucket", Key="index.html", Body=b"ok")
    assert s3.get_object(Bucket="tls-bucket", Key="index.html")["Body"].read() == b"ok"


def test_stack_update_replaces_or_updates_each_resource_as_declared(taught) -> None:  # type: ignore[no-untyped-def]
    """Distribution and function are replaced (old ones gone); the OAC and the policies keep their ids."""
    from runway_ext.local.moto_cloudformation import _RecordedPolicy

    cloudformation = boto3.client("cloudformation")
    cloudfront = boto3.client("cloudfront")
    template = json.loads(json.dumps(TEMPLATE))
    template["Outputs"]["Stage"] = {"Value": {"Fn::GetAtt": ["Rewrite", "Stage"]}}
    template["Outputs"]["CacheModified"] = {"Value": {"Fn::GetAtt": ["Cache", "LastModifiedTime"]}}
    cloudformation.create_stack(StackName="cdn-update", TemplateBody=json.dumps(template))

    def outputs() -> dict[str, str]:
        stack = cloudformation.describe_stacks(StackName="cdn-update")["Stacks"][0]
        return {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}

    before = outputs()
    assert before["Stage"] == "LIVE"
    assert before["CacheModified"] == "2026-01-01T00:00:00Z"
    resources = template["Resources"]
    resources["Distribution"]["Properties"]["DistributionConfig"]["DefaultRootObject"] = "home.html"
    resources["Rewrite"]["Properties"]["FunctionCode"] = "function handler(event) { return event.request; } // v2"
    resources["Oac"]["Properties"]["OriginAccessControlConfig"]["Name"] = "site-oac-2"
    resources["Cache"]["Properties"]["CachePolicyConfig"]["Name"] = "c2"
    cloudformation.update_stack(StackName="cdn-update", TemplateBody=json.dumps(template))
    after = outputs()

    assert after["DistributionId"] != before["DistributionId"]
    with pytest.raises(cloudfront.exceptions.NoSuchDistribution):
        cloudfront.get_distribution(Id=before["DistributionId"])
    assert cloudfront.get_distribution(Id=after["DistributionId"])["Distribution"]["DistributionConfig"]["DefaultRootObject"] == "home.html"
    code = cloudfront.get_function(Name="rewrite-index", Stage="LIVE")["FunctionCode"].read()
    assert code.endswith(b"// v2")
    assert after["OacId"] == before["OacId"]
    assert cloudfront.get_origin_access_control(Id=after["OacId"])["OriginAccessControl"]["OriginAccessControlConfig"]["Name"] == "site-oac-2"
    assert after["CachePolicyId"] == before["CachePolicyId"]
    assert _RecordedPolicy.RECORDED[after["CachePolicyId"]]["CachePolicyConfig"]["Name"] == "c2"


def test_an_untagged_image_is_accepted_in_a_repository_with_mutability_exclusions(taught) -> None:  # type: ignore[no-untyped-def]
    """A platform manifest of an index is recorded without a tag (AWS: the tag is optional); moto 5.2 alone answers 500."""
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(
        repositoryName="with-exclusions",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:" + "0" * 64},
                           "layers": []})
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ecr.put_image(repositoryName="with-exclusions", imageManifest=manifest, imageDigest=digest)
    [image] = ecr.describe_images(repositoryName="with-exclusions")["imageDetails"]
    assert image["imageDigest"] == digest and not image.get("imageTags")
