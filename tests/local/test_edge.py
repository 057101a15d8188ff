"""The local edge against a real moto stand-in: a distribution made by CloudFormation, served and checked over HTTP.

The stack mirrors what the CDN blueprint deploys (bucket + OAC + bucket policy for this distribution, a
viewer-request function, a cache policy, a response headers policy, custom error responses) but with an
OriginPath, short TTLs and a custom header, so each CloudFront rule shows. The fleet reads the deployed config
back from moto's API; nothing here is mocked.
"""

from __future__ import annotations

import gzip
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from runway_ext.blueprints.cdn import DIRECTORY_INDEX_FUNCTION
from runway_ext.local.edge_access import origin_read
from runway_ext.local.edge_cache import edge_ttl, invalidation_matches
from runway_ext.local.edge_config import CachePolicy, plan_edge
from runway_ext.local.edge_fleet import EdgeFleet
from runway_ext.local.edge_server import EdgeSite
from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_invalidations import install_invalidation_delay

BUCKET = "edge-site-bucket"
TEMPLATE = {
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": BUCKET,
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
            },
        },
        "Oac": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": "edge-oac",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "Rewrite": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": "edge-rewrite",
                "AutoPublish": True,
                "FunctionCode": DIRECTORY_INDEX_FUNCTION,
                "FunctionConfig": {"Comment": "dir index", "Runtime": "cloudfront-js-2.0"},
            },
        },
        "Cache": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": "edge-cache",
                    "MinTTL": 0,
                    "DefaultTTL": 300,
                    "MaxTTL": 3600,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "EnableAcceptEncodingGzip": True,
                        "EnableAcceptEncodingBrotli": True,
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "HeadersConfig": {"HeaderBehavior": "none"},
                        "QueryStringsConfig": {"QueryStringBehavior": "none"},
                    },
                }
            },
        },
        "Headers": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": "edge-headers",
                    "SecurityHeadersConfig": {"FrameOptions": {"FrameOption": "DENY", "Override": True}},
                    "CustomHeadersConfig": {"Items": [{"Header": "X-Site", "Value": "edge-test", "Override": False}]},
                }
            },
        },
        "Distribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": "edge test",
                    "DefaultRootObject": "index.html",
                    "Origins": [
                        {
                            "Id": "site",
                            "DomainName": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]},
                            "OriginPath": "/site",
                            "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "site",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "Compress": True,
                        "CachePolicyId": {"Ref": "Cache"},
                        "ResponseHeadersPolicyId": {"Ref": "Headers"},
                        "FunctionAssociations": [
                            {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["Rewrite", "FunctionARN"]}}
                        ],
                    },
                    "CustomErrorResponses": [
                        {"ErrorCode": 403, "ResponseCode": 404, "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 0},
                        {"ErrorCode": 404, "ResponseCode": 404, "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 0},
                    ],
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
                            "Resource": f"arn:aws:s3:::{BUCKET}/*",
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
    "Outputs": {"DistributionId": {"Value": {"Ref": "Distribution"}}},
}
BIG_CSS = ("body { color: #123456; }\n" * 200).encode()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture
def edge(aws) -> Iterator[tuple[EdgeFleet, str, str]]:  # type: ignore[no-untyped-def]
    """The stack deployed in moto, its site objects uploaded, a fleet serving it: (fleet, distribution id, URL)."""
    install()
    install_invalidation_delay(0)
    boto3.client("cloudformation").create_stack(StackName="edge", TemplateBody=json.dumps(TEMPLATE))
    stack = boto3.client("cloudformation").describe_stacks(StackName="edge")["Stacks"][0]
    distribution_id = stack["Outputs"][0]["OutputValue"]
    s3 = boto3.client("s3")
    for key, body, cache_control in (
        ("site/index.html", b"<h1>home</h1>", "max-age=600"),
        ("site/about/index.html", b"<h1>about v1</h1>", "max-age=600"),
        ("site/live.html", b"live v1", "no-store"),
        ("site/404.html", b"<h1>not here</h1>", "max-age=600"),
        ("site/big.css", BIG_CSS, "max-age=600"),
        ("outside.html", b"outside the origin path", "max-age=600"),
    ):
        s3.put_object(
            Bucket=BUCKET, Key=key, Body=body, CacheControl=cache_control, ContentType="text/css" if key.endswith(".css") else "text/html"
        )
    fleet = EdgeFleet(aws.endpoint, poll_seconds=3600).start()
    try:
        yield fleet, distribution_id, fleet.sites()[distribution_id]
    finally:
        fleet.stop()
        install_invalidation_delay(0)  # the rest of the session: invalidations complete at once, as in plain moto


def test_deployed_config_is_served_as_cloudfront_would(edge) -> None:  # type: ignore[no-untyped-def]
    _fleet, _distribution_id, site = edge
    status, headers, body = get(site)
    assert (status, body) == (200, b"<h1>home</h1>")  # DefaultRootObject under OriginPath
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Site"] == "edge-test"
    assert headers["X-Cache"] == "Miss from cloudfront" and headers["Via"].endswith("(CloudFront, local edge)")
    assert get(site)[1]["X-Cache"] == "Hit from cloudfront"
    assert get(site + "about")[2] == b"<h1>about v1</h1>"  # the viewer-request function ran
    status, headers, body = get(site + "nope.html")
    assert (status, body) == (404, b"<h1>not here</h1>")  # 403 from S3 (no ListBucket) -> the 404 page
    assert get(site + "../outside.html")[0] == 404  # nothing outside the origin path
    status, headers, body = get(site + "big.css", {"Accept-Encoding": "gzip, br"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == BIG_CSS
    status, headers, body = get(site + "big.css")
    assert "Content-Encoding" not in headers and body == BIG_CSS
    etag = headers["ETag"]
    assert get(site + "big.css", {"If-None-Match": etag})[0] == 304
    assert get(site, {"X-Method": "x"})[0] == 200
    request = urllib.request.Request(site, method="POST", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)
    assert refused.value.code == 403  # GET/HEAD only


def test_cache_holds_until_invalidation_completes_and_no_store_is_never_cached(edge) -> None:  # type: ignore[no-untyped-def]
    fleet, distribution_id, site = edge
    s3 = boto3.client("s3")
    assert get(site + "about/")[2] == b"<h1>about v1</h1>"
    assert get(site + "live.html")[2] == b"live v1"
    s3.put_object(
        Bucket=BUCKET, Key="site/about/index.html", Body=b"<h1>about v2</h1>", CacheControl="max-age=600", ContentType="text/html"
    )
    s3.put_object(Bucket=BUCKET, Key="site/live.html", Body=b"live v2", CacheControl="no-store", ContentType="text/html")
    assert get(site + "live.html")[2] == b"live v2"  # MinTTL 0 + no-store: never cached
    assert get(site + "about/")[2] == b"<h1>about v1</h1>"  # cached for max-age
    boto3.client("cloudfront").create_invalidation(
        DistributionId=distribution_id, InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/about/*"]}, "CallerReference": "edit"}
    )
    fleet.poll_once()
    assert get(site + "about/")[2] == b"<h1>about v2</h1>"
    assert get(site)[1]["X-Cache"] == "Miss from cloudfront"  # (first fetch of / in this test) ...
    fleet.poll_once()  # ... and an invalidation already applied is not applied again
    assert get(site)[1]["X-Cache"] == "Hit from cloudfront"


def test_bucket_policy_changed_behind_the_edges_back_shuts_it_out(edge) -> None:  # type: ignore[no-untyped-def]
    _fleet, distribution_id, site = edge
    s3 = boto3.client("s3")
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy.replace(f"distribution/{distribution_id}", "distribution/EOTHERDIST"))
    status, _headers, body = get(site + "about/")
    assert status == 403 and b"AccessDenied" in body  # and the 404 page is refused too, so the origin's error stands


def test_not_emulated_features_are_said_once_per_distribution(edge, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    fleet, distribution_id, _site = edge
    assert any("redirect-to-https" in notice for notice in fleet.notices[distribution_id])
    caplog.set_level(logging.WARNING, logger="runway_ext.local.edge")
    fleet.poll_once()
    fleet.poll_once()
    assert not [record for record in caplog.records if "not emulated" in record.getMessage()]  # said when first served, not again


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("function handler(event) { throw new Error('boom'); }", "boom"),
        ("function handler(event) { while (true) {} }", "timed out"),
        ("function handler(event) { return 42; }", "neither a request nor a response"),
        ("function handler(event) { return require('fs'); }", "not available in CloudFront Functions"),
    ],
)
def test_function_errors_are_503_and_logged(edge, code: str, expected: str, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    fleet, distribution_id, _site = edge
    live = fleet._served[distribution_id].server.site
    site = EdgeSite(live.config, live.origin, fleet.runner, code)
    answer = site.answer("GET", "/about/", [])
    assert answer.status == 503 and b"FunctionExecutionError" in answer.body
    assert any(expected in record.getMessage() for record in caplog.records)
    generated = EdgeSite(
        live.config,
        live.origin,
        fleet.runner,
        "async function handler(e) { return {statusCode: 302, headers: {location: {value: '/x'}}}; }",
    )
    answer = generated.answer("GET", "/", [])
    assert (
        answer.status == 302
        and answer.header("location") == "/x"
        and answer.header("X-Cache") == "FunctionGeneratedResponse from cloudfront"
    )


@pytest.mark.parametrize(
    ("cache_control", "expires", "ttl"),
    [
        (None, None, 300),  # DefaultTTL
        ("max-age=60", None, 60),
        ("max-age=60, s-maxage=120", None, 120),  # s-maxage wins
        ("max-age=99999", None, 3600),  # clamped to MaxTTL
        ("no-cache", None, 0),  # MinTTL 0: not cached
        ("private, max-age=60", None, 0),
        (None, "Thu, 01 Jan 1970 00:00:00 GMT", 0),
    ],
)
def test_edge_ttl_follows_cloudfront(cache_control: str | None, expires: str | None, ttl: int) -> None:
    assert edge_ttl(CachePolicy(0, 300, 3600, True), cache_control, expires) == ttl
    assert edge_ttl(CachePolicy(5, 300, 3600, True), "no-store") == 5  # MinTTL > 0: cached that long


def test_invalidation_paths_match_like_cloudfront() -> None:
    assert invalidation_matches("/*", "/a/b.html")
    assert invalidation_matches("/about/*", "/about/index.html") and not invalidation_matches("/about/*", "/aboutus")
    assert invalidation_matches("/a%20b.html", "/a b.html")
    assert not invalidation_matches("/about/", "/about/index.html")


def test_origin_read_follows_s3_for_the_caller() -> None:
    arn = "arn:aws:cloudfront::123456789012:distribution/E1"
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    only_e1 = {**allow, "Condition": {"StringEquals": {"AWS:SourceArn": arn}}}
    deny_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    policy = json.dumps({"Statement": [only_e1, deny_http]})
    assert origin_read(policy, True, "b", "k", distribution_arn=arn, signed=True) == (True, False)
    assert origin_read(policy, True, "b", "k", distribution_arn=arn.replace("E1", "E2"), signed=True) == (False, False)
    assert origin_read(policy, True, "b", "k", distribution_arn=arn, signed=False) == (False, False)  # not public
    public = json.dumps({"Statement": [{**allow, "Principal": "*"}]})
    assert origin_read(public, False, "b", "k", distribution_arn=arn, signed=False) == (True, False)
    assert origin_read(public, True, "b", "k", distribution_arn=arn, signed=False) == (False, False)  # public access block


def test_features_that_would_serve_what_aws_would_not_are_refused() -> None:
    base = {
        "Origins": {"Items": [{"Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com"}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all"},
    }
    assert plan_edge("E1", "d", base).refusal is None and plan_edge("E1", "d", base).not_emulated == []
    lambdas = {
        **base,
        "DefaultCacheBehavior": {
            **base["DefaultCacheBehavior"],
            "LambdaFunctionAssociations": {"Items": [{"EventType": "origin-request"}]},
        },
    }
    assert "Lambda@Edge" in (plan_edge("E1", "d", lambdas).refusal or "")
    signed = {**base, "DefaultCacheBehavior": {**base["DefaultCacheBehavior"], "TrustedKeyGroups": {"Enabled": True, "Items": ["k"]}}}
    assert "signed URLs" in (plan_edge("E1", "d", signed).refusal or "")
    custom = {**base, "Origins": {"Items": [{"Id": "o", "DomainName": "api.example.com", "CustomOriginConfig": {}}]}}
    assert "not an S3 bucket" in (plan_edge("E1", "d", custom).refusal or "")
