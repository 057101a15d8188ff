"""CloudFront on the moto server for these tests: a distribution, what moto holds, and injected AWS errors.

Faults (a busy or throttled API, an invalidation that stays in progress) are injected at the
botocore level — event handlers on a real client that talks to the moto server — because moto
never answers ``TooManyInvalidationsInProgress`` and completes every invalidation at once.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def create_distribution() -> str:
    """A distribution created through the CloudFront API of the moto server; returns its id."""
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "test-distribution",
            "Comment": "invalidation tests",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "site", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": CACHING_OPTIMIZED,
            },
        }
    )
    return str(created["Distribution"]["Id"])


def invalidations(distribution: str) -> list[dict[str, Any]]:
    """Every invalidation moto holds for ``distribution``, with its batch."""
    client = boto3.client("cloudfront")
    summary = client.list_invalidations(DistributionId=distribution)["InvalidationList"]
    return [client.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"] for item in summary.get("Items", [])]


def sent_paths(invalidation: dict[str, Any]) -> list[str]:
    """The paths of an invalidation's batch, sorted."""
    return sorted(invalidation["InvalidationBatch"]["Paths"]["Items"])


def aws_error(code: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a ``before-call`` handler returns to make botocore raise ``code`` without sending the request."""
    return AWSResponse("https://cloudfront.test", status, {}, None), {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def report_in_progress(parsed: dict[str, Any], **_: Any) -> None:
    """An ``after-call`` handler: real CloudFront answers InProgress first; moto completes at once."""
    parsed["Invalidation"]["Status"] = "InProgress"
