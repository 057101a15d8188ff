"""The static-site CDN blueprint: rendered through CFNgin's stack machinery, checked by cfn-lint and node.

moto's CloudFormation creates no CloudFront resources (see the local-mode work for that), so this
blueprint is checked by rendering and linting here; its full deploy belongs to local mode.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from blueprint_support import lint_errors, lint_findings, render, resources_of

from runway_ext.blueprints.cdn import (
    CACHING_OPTIMIZED_POLICY_ID,
    DIRECTORY_INDEX_FUNCTION,
    FUNCTION_CODE_MAX_BYTES,
    RELEASE_HEADERS_FUNCTION,
    VIEWER_MINIMUM_PROTOCOL_VERSION,
    logging_bucket_domain,
    release_router_function,
)

CLASS_PATH = "runway_ext.blueprints.cdn.StaticSiteCdn"
CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/site-acl/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
FULLY_LOADED: dict[str, Any] = {
    "BucketName": "example-site-bucket",
    "Versioning": True,
    "NoncurrentVersionExpirationDays": 14,
    "ServerAccessLogBucket": "example-logs",
    "ServerAccessLogPrefix": "site-bucket/",
    "DirectoryIndexRewrite": True,
    "NotFoundPage": "/404.html",
    "Aliases": ["www.example.com", "example.com"],
    "AcmCertificateArn": CERTIFICATE,
    "PriceClass": "PriceClass_All",
    "LoggingBucket": "example-logs",
    "LoggingPrefix": "cdn/",
    "WebAclArn": WEB_ACL,
    "ContentSecurityPolicy": "default-src 'self'; img-src 'self' data:",
    "Comment": "example.com static site",
}


def distribution_config(template: str) -> dict[str, Any]:
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    return distribution["Properties"]["DistributionConfig"]


# -- cfn-lint -------------------------------------------------------------------------------


def test_default_variables_pass_cfn_lint(tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATH, tmp_path)) == []


def test_fully_loaded_variant_passes_cfn_lint(tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATH, tmp_path, **FULLY_LOADED)) == []


def test_spa_variant_passes_cfn_lint(tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATH, tmp_path, SpaFallback=True, DirectoryIndexRewrite=False, Versioning=False)) == []
    assert lint_findings(render(CLASS_PATH, tmp_path, SpaFallback=True, AtomicReleases=False)) == []


def test_lint_catches_a_broken_template(tmp_path: Path) -> None:
    """The lint check can fail: the same template with one bad value is rejected."""
    template = json.loads(render(CLASS_PATH, tmp_path))
    (name,) = resources_of(json.dumps(template), "AWS::CloudFront::Distribution")
    template["Resources"][name]["Properties"]["DistributionConfig"]["HttpVersion"] = "http9"
    assert any("http9" in error for error in lint_errors(json.dumps(template)))


# -- what the template holds ------------------------------------------------------------------


def test_bucket_is_private_and_encrypted(tmp_path: Path) -> None:
    (bucket,) = resources_of(render(CLASS_PATH, tmp_path), "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "BucketName" not in properties and "LoggingConfiguration" not in properties


def test_versioning_is_on_by_default_with_old_versions_expiring(tmp_path: Path) -> None:
    (bucket,) = resources_of(render(CLASS_PATH, tmp_path), "AWS::S3::Bucket").values()
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule == {"Id": "ExpireOldVersions", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}


def test_versioning_variables(tmp_path: Path) -> None:
    (bucket,) = resources_of(render(CLASS_PATH, tmp_path, NoncurrentVersionExpirationDays=14), "AWS::S3::Bucket").values()
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 14}

    (kept_forever,) = resources_of(render(CLASS_PATH, tmp_path, NoncurrentVersionExpirationDays=0), "AWS::S3::Bucket").values()
    assert kept_forever["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LifecycleConfiguration" not in kept_forever["Properties"]

    (unversioned,) = resources_of(render(CLASS_PATH, tmp_path, Versioning=False), "AWS::S3::Bucket").values()
    assert "VersioningConfiguration" not in unversioned["Properties"]
    assert "LifecycleConfiguration" not in unversioned["Properties"]


def test_server_access_logging_variables(tmp_path: Path) -> None:
    (bucket,) = resources_of(render(CLASS_PATH, tmp_path, ServerAccessLogBucket="example-logs"), "AWS::S3::Bucket").values()
    assert bucket["Properties"]["LoggingConfiguration"] == {"DestinationBucketName": "example-logs"}
    (prefixed,) = resources_of(
        render(CLASS_PATH, tmp_path, ServerAccessLogBucket="example-logs", ServerAccessLogPrefix="site-bucket/"), "AWS::S3::Bucket"
    ).values()
    assert prefixed["Properties"]["LoggingConfiguration"] == {"DestinationBucketName": "example-logs", "LogFilePrefix": "site-bucket/"}


def test_origin_access_control_not_identity(tmp_path: Path) -> None:
    template = render(CLASS_PATH, tmp_path)
    assert not resources_of(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    (control,) = resources_of(template, "AWS::CloudFront::OriginAccessControl").values()
    config = control["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == ("s3", "always", "sigv4")
    (origin,) = distribution_config(template)["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origin["DomainName"] == {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}


def test_bucket_policy_grants_only_this_distribution(tmp_path: Path) -> None:
    (policy,) = resources_of(render(CLASS_PATH, tmp_path), "AWS::S3::BucketPolicy").values()
    allow, tool_files, deny = policy["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${Bucket.Arn}/*"}
    assert allow["Condition"] == {
        "StringEquals": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}}
    }
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # the static-site hook's manifest, lock and releases are never served, at the bucket root or under a prefix
    assert (tool_files["Effect"], tool_files["Principal"], tool_files["Action"]) == (
        "Deny",
        {"Service": "cloudfront.amazonaws.com"},
        "s3:GetObject",
    )
    assert tool_files["Resource"] == [{"Fn::Sub": "${Bucket.Arn}/.runway-ext/*"}, {"Fn::Sub": "${Bucket.Arn}/*/.runway-ext/*"}]


def test_distribution_defaults(tmp_path: Path) -> None:
    config = distribution_config(render(CLASS_PATH, tmp_path))
    behavior = config["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == CACHING_OPTIMIZED_POLICY_ID
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
    assert behavior["Compress"] is True and behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "ForwardedValues" not in behavior
    assert (config["HttpVersion"], config["DefaultRootObject"], config["PriceClass"]) == ("http2and3", "index.html", "PriceClass_100")
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["ReleaseRouterFunction", "FunctionARN"]}},
        {"EventType": "viewer-response", "FunctionARN": {"Fn::GetAtt": ["ReleaseHeadersFunction", "FunctionARN"]}},
    ]
    for absent in ("Aliases", "Logging", "WebACLId", "CustomErrorResponses"):
        assert absent not in config


def test_atomic_releases_store_functions_and_output(tmp_path: Path) -> None:
    template = render(CLASS_PATH, tmp_path)
    (store,) = resources_of(template, "AWS::CloudFront::KeyValueStore").values()
    assert store["Properties"]["Name"]["Fn::Sub"][0] == "site-releases-${StackGuid}"
    functions = resources_of(template, "AWS::CloudFront::Function")
    assert set(functions) == {"ReleaseRouterFunction", "ReleaseHeadersFunction"}
    router = functions["ReleaseRouterFunction"]["Properties"]
    assert router["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0" and router["AutoPublish"] is True
    assert router["FunctionConfig"]["KeyValueStoreAssociations"] == [{"KeyValueStoreARN": {"Fn::GetAtt": ["ReleasePointerStore", "Arn"]}}]
    assert router["FunctionCode"] == release_router_function("", directory_index=True)
    assert 'var POINTER_KEY = "live";' in router["FunctionCode"]  # site prefix "" (the bucket root)
    assert "KeyValueStoreAssociations" not in functions["ReleaseHeadersFunction"]["Properties"]["FunctionConfig"]
    assert json.loads(template)["Outputs"]["KeyValueStoreArn"]["Value"] == {"Fn::GetAtt": ["ReleasePointerStore", "Arn"]}
    without_index = resources_of(render(CLASS_PATH, tmp_path, DirectoryIndexRewrite=False), "AWS::CloudFront::Function")
    assert "var DIRECTORY_INDEX = false;" in without_index["ReleaseRouterFunction"]["Properties"]["FunctionCode"]


def test_in_place_layout_is_todays_template(tmp_path: Path) -> None:
    template = render(CLASS_PATH, tmp_path, AtomicReleases=False)
    assert not resources_of(template, "AWS::CloudFront::KeyValueStore")
    (function,) = resources_of(template, "AWS::CloudFront::Function").values()
    assert function["Properties"]["FunctionCode"] == DIRECTORY_INDEX_FUNCTION
    (association,) = distribution_config(template)["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association == {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["DirectoryIndexFunction", "FunctionARN"]}}
    assert "KeyValueStoreArn" not in json.loads(template)["Outputs"]
    assert lint_findings(template) == []


def test_preview_domain_adds_the_wildcard_alias_and_routes_in_the_function(tmp_path: Path) -> None:
    template = render(CLASS_PATH, tmp_path, PreviewDomain="preview.example.com", AcmCertificateArn=CERTIFICATE)
    config = distribution_config(template)
    assert config["Aliases"] == ["*.preview.example.com"]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CERTIFICATE
    router = resources_of(template, "AWS::CloudFront::Function")["ReleaseRouterFunction"]["Properties"]["FunctionCode"]
    assert router == release_router_function("", True, "preview.example.com")
    assert 'var PREVIEW_DOMAIN = "preview.example.com";' in router and 'var PREVIEW_KEY = "preview/";' in router
    assert lint_findings(template) == []
    both = distribution_config(
        render(CLASS_PATH, tmp_path, PreviewDomain="preview.example.com", AcmCertificateArn=CERTIFICATE, Aliases=["www.example.com"])
    )
    assert both["Aliases"] == ["www.example.com", "*.preview.example.com"]
    without = resources_of(render(CLASS_PATH, tmp_path), "AWS::CloudFront::Function")["ReleaseRouterFunction"]["Properties"]
    assert 'var PREVIEW_DOMAIN = "";' in without["FunctionCode"]  # no previews: the Host is never read


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PreviewDomain": "preview.example.com"}, "PreviewDomain needs AcmCertificateArn"),
        ({"PreviewDomain": "preview.example.com", "AcmCertificateArn": CERTIFICATE, "AtomicReleases": False}, "needs AtomicReleases"),
        ({"PreviewDomain": "*.preview.example.com", "AcmCertificateArn": CERTIFICATE}, "not a domain name for previews"),
        ({"PreviewDomain": "Preview.Example.com", "AcmCertificateArn": CERTIFICATE}, "not a domain name for previews"),
        ({"PreviewDomain": "preview.example.com.", "AcmCertificateArn": CERTIFICATE}, "not a domain name for previews"),
        ({"PreviewDomain": "localhost", "AcmCertificateArn": CERTIFICATE}, "not a domain name for previews"),
        (
            {"PreviewDomain": "preview.example.com", "AcmCertificateArn": CERTIFICATE, "Aliases": ["www.preview.example.com"]},
            "is under PreviewDomain",
        ),
        (
            {"PreviewDomain": "preview.example.com", "AcmCertificateArn": CERTIFICATE, "Aliases": ["*.preview.example.com"]},
            "is under PreviewDomain",
        ),
    ],
)
def test_bad_preview_variables_are_refused(variables: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(Exception) as raised:
        render(CLASS_PATH, tmp_path, **variables)
    assert message in str(raised.value)


@pytest.mark.parametrize("directory_index", [True, False])
def test_function_code_fits_cloudfronts_limit(directory_index: bool) -> None:
    longest_domain = ".".join(["a" * 63] * 3)
    for code in (
        release_router_function("a-long-site-prefix/" * 20, directory_index),
        release_router_function("a-long-site-prefix/" * 20, directory_index, longest_domain),
        RELEASE_HEADERS_FUNCTION,
    ):
        assert len(code.encode()) <= FUNCTION_CODE_MAX_BYTES
    assert FUNCTION_CODE_MAX_BYTES == 10_240


def test_security_headers(tmp_path: Path) -> None:
    (policy,) = resources_of(
        render(CLASS_PATH, tmp_path, ContentSecurityPolicy="default-src 'self'"), "AWS::CloudFront::ResponseHeadersPolicy"
    ).values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ContentSecurityPolicy"] == {"ContentSecurityPolicy": "default-src 'self'", "Override": True}


def test_directory_rewrite_can_be_switched_off(tmp_path: Path) -> None:
    template = render(CLASS_PATH, tmp_path, DirectoryIndexRewrite=False, AtomicReleases=False)
    assert not resources_of(template, "AWS::CloudFront::Function")
    assert "FunctionAssociations" not in distribution_config(template)["DefaultCacheBehavior"]


def test_spa_fallback(tmp_path: Path) -> None:
    responses = distribution_config(render(CLASS_PATH, tmp_path, SpaFallback=True))["CustomErrorResponses"]
    assert [(item["ErrorCode"], item["ResponseCode"], item["ResponsePagePath"]) for item in responses] == [
        (403, 200, "/index.html"),
        (404, 200, "/index.html"),
    ]


def test_fully_loaded_options(tmp_path: Path) -> None:
    config = distribution_config(render(CLASS_PATH, tmp_path, **FULLY_LOADED))
    assert config["Aliases"] == ["www.example.com", "example.com"]
    assert VIEWER_MINIMUM_PROTOCOL_VERSION == "TLSv1.2_2021"
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": VIEWER_MINIMUM_PROTOCOL_VERSION,
    }
    assert config["Logging"] == {"Bucket": "example-logs.s3.amazonaws.com", "IncludeCookies": False, "Prefix": "cdn/"}
    assert config["WebACLId"] == WEB_ACL
    assert config["PriceClass"] == "PriceClass_All"
    assert [(item["ErrorCode"], item["ResponseCode"]) for item in config["CustomErrorResponses"]] == [(403, 404), (404, 404)]


def test_outputs(tmp_path: Path) -> None:
    outputs = json.loads(render(CLASS_PATH, tmp_path))["Outputs"]
    assert set(outputs) == {"BucketName", "BucketArn", "DistributionId", "DistributionDomainName", "DistributionArn", "KeyValueStoreArn"}
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}
    assert outputs["DistributionDomainName"]["Value"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}


def test_logging_bucket_domain() -> None:
    assert logging_bucket_domain("logs") == "logs.s3.amazonaws.com"
    assert logging_bucket_domain("logs.s3.amazonaws.com") == "logs.s3.amazonaws.com"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"Aliases": ["www.example.com"]}, "Aliases need AcmCertificateArn"),
        ({"AcmCertificateArn": CERTIFICATE}, "AcmCertificateArn is only used with Aliases or PreviewDomain"),
        (
            {"Aliases": ["a.example.com"], "AcmCertificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
            "not an ACM certificate ARN in us-east-1",
        ),
        ({"PriceClass": "PriceClass_Cheap"}, "expected one of"),
        ({"SpaFallback": True, "NotFoundPage": "/404.html"}, "exclude each other"),
        ({"NotFoundPage": "404.html"}, "must be a path starting with '/'"),
        ({"BucketName": "Not_A_Bucket"}, "invalid bucket name"),
        ({"WebAclArn": "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y"}, "scope CLOUDFRONT"),
        ({"ServerAccessLogBucket": "Logs_Bucket"}, "invalid bucket name"),
        ({"ServerAccessLogPrefix": "site/"}, "ServerAccessLogPrefix is only used with ServerAccessLogBucket"),
        ({"BucketName": "example-site", "ServerAccessLogBucket": "example-site"}, "another bucket than the site bucket"),
        ({"LoggingPrefix": "cdn/"}, "LoggingPrefix is only used with LoggingBucket"),
        ({"NoncurrentVersionExpirationDays": -1}, "must be 0 (keep) or more"),
    ],
)
def test_bad_variables_are_refused(variables: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(Exception) as raised:  # Runway wraps validator errors in its own types
        render(CLASS_PATH, tmp_path, **variables)
    assert message in str(raised.value)


# -- the CloudFront Function, run by a real JavaScript engine ---------------------------------

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_directory_index_function_rewrites_like_cloudfront_would() -> None:
    uris = ["/", "/about/", "/about", "/blog/2024/post", "/app.js", "/assets/logo.svg", "/v1.2/docs", "/a/b.json", "/_next/static/x.css"]
    harness = DIRECTORY_INDEX_FUNCTION + (
        "\nconst uris = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "\nconsole.log(JSON.stringify(uris.map(u => handler({request: {uri: u, method: 'GET'}}).uri)));\n"
    )
    run = subprocess.run([NODE, "-e", harness], input=json.dumps(uris), capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(run.stdout) == [
        "/index.html",
        "/about/index.html",
        "/about/index.html",
        "/blog/2024/post/index.html",
        "/app.js",
        "/assets/logo.svg",
        "/v1.2/docs/index.html",
        "/a/b.json",
        "/_next/static/x.css",
    ]
