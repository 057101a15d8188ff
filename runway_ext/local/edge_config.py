"""What the local edge serves for one distribution, read from its deployed config (API shape). Pure.

:func:`plan_edge` turns ``GetDistributionConfig``'s ``DistributionConfig`` plus the cache and response-headers
policies it names into an :class:`EdgeConfig`: the S3 origin (bucket + OriginPath, whether it reads through
Origin Access Control), DefaultRootObject, the viewer-request and viewer-response CloudFront Functions, custom error responses,
the domain of its wildcard alias (``*.D``: what ``NAME.preview.localhost`` stands for), the
TTLs and compression of the cache policy, the response headers policy's headers. Everything in the config the
edge does not emulate becomes one line in :attr:`EdgeConfig.not_emulated`, shown once per distribution; where
serving anyway could hand out something AWS would not (signed URLs, a missing function), the edge refuses
instead (:attr:`EdgeConfig.refusal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MANAGED_CACHE_POLICIES: dict[str, dict[str, Any]] = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": {
        "Name": "Managed-CachingOptimized",
        "MinTTL": 1,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "Gzip": True,
        "Brotli": True,
    },
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": {
        "Name": "Managed-CachingDisabled",
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 0,
        "Gzip": False,
        "Brotli": False,
    },
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": {
        "Name": "Managed-CachingOptimizedForUncompressedObjects",
        "MinTTL": 1,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "Gzip": False,
        "Brotli": False,
    },
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": {
        "Name": "Managed-UseOriginCacheControlHeaders",
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 31536000,
        "Gzip": True,
        "Brotli": True,
    },
}
"""AWS managed cache policies by id, with the TTLs and compression settings AWS documents for them."""

MANAGED_RESPONSE_HEADERS_POLICIES: dict[str, dict[str, Any]] = {
    "67f7725c-6f97-4210-82d7-5512b31e9d03": {
        "Name": "Managed-SecurityHeadersPolicy",
        "SecurityHeadersConfig": {
            "StrictTransportSecurity": {
                "AccessControlMaxAgeSec": 31536000,
                "IncludeSubdomains": False,
                "Preload": False,
                "Override": False,
            },
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": False},
            "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": False},
            "XSSProtection": {"Protection": True, "ModeBlock": True, "Override": False},
        },
    },
}
"""AWS managed response headers policies the edge knows (others are reported as not emulated)."""

_S3_DOMAIN = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")


@dataclass(frozen=True)
class ErrorResponse:
    """One ``CustomErrorResponses`` item: for an origin ``ErrorCode``, serve ``page`` with ``status``."""

    page: str | None
    status: int
    caching_min_ttl: int


@dataclass(frozen=True)
class CachePolicy:
    """TTL bounds (seconds) and whether the edge compresses."""

    min_ttl: int
    default_ttl: int
    max_ttl: int
    gzip: bool


@dataclass
class EdgeConfig:
    """How the local edge answers for one distribution."""

    distribution_id: str
    domain_name: str
    bucket: str = ""
    origin_path: str = ""
    origin_access_control: bool = False
    default_root_object: str = ""
    viewer_request_function: str | None = None
    """ARN of the viewer-request CloudFront Function, if any."""
    viewer_response_function: str | None = None
    """ARN of the viewer-response CloudFront Function, if any."""
    error_responses: dict[int, ErrorResponse] = field(default_factory=dict)
    cache: CachePolicy = field(default_factory=lambda: CachePolicy(0, 86400, 31536000, False))
    compress: bool = False
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    response_headers: list[tuple[str, str, bool]] = field(default_factory=list)
    """(header, value, override) from the response headers policy."""
    removed_headers: tuple[str, ...] = ()
    preview_domain: str | None = None
    """``D`` of the distribution's wildcard alias ``*.D`` (lower case): the domain the local preview host stands for."""
    not_emulated: list[str] = field(default_factory=list)
    refusal: str | None = None
    """When set, every request gets a 403 with this reason: serving would hand out what AWS would not."""

    @property
    def distribution_arn(self) -> str:
        """The ARN a bucket policy names in ``AWS:SourceArn``."""
        return f"arn:aws:cloudfront::123456789012:distribution/{self.distribution_id}"


def bucket_of(domain_name: str) -> str | None:
    """The bucket an S3 origin domain names (``b.s3.us-east-1.amazonaws.com`` → ``b``); ``None`` for other origins."""
    match = _S3_DOMAIN.match(domain_name.lower())
    return match.group("bucket") if match else None


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.get("Items") or [])
    return list(value or [])


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def cache_policy_of(policy_id: str, recorded: dict[str, Any] | None, behavior: dict[str, Any], notes: list[str]) -> CachePolicy:
    """The TTLs of the behavior's cache policy (managed, recorded, or the legacy per-behavior TTLs)."""
    if not policy_id:
        return CachePolicy(
            int(behavior.get("MinTTL") or 0), int(behavior.get("DefaultTTL") or 86400), int(behavior.get("MaxTTL") or 31536000), False
        )
    managed = MANAGED_CACHE_POLICIES.get(policy_id)
    if managed is not None:
        return CachePolicy(managed["MinTTL"], managed["DefaultTTL"], managed["MaxTTL"], managed["Gzip"] or managed["Brotli"])
    if recorded is None:
        notes.append(f"cache policy {policy_id} is unknown here: AWS's default TTLs (1 s min, 1 day default, 1 year max) are used")
        return CachePolicy(1, 86400, 31536000, True)
    config = recorded.get("CachePolicyConfig", recorded)
    parameters = config.get("ParametersInCacheKeyAndForwardedToOrigin", {})
    for part, key in (
        ("QueryStringsConfig", "QueryStringBehavior"),
        ("HeadersConfig", "HeaderBehavior"),
        ("CookiesConfig", "CookieBehavior"),
    ):
        behavior_value = str(parameters.get(part, {}).get(key, "none"))
        if behavior_value != "none":
            notes.append(f"cache key: {part} {behavior_value} is not part of the local cache key (paths only)")
    return CachePolicy(
        int(config.get("MinTTL", 0)),
        int(config.get("DefaultTTL", 86400)),
        int(config.get("MaxTTL", 31536000)),
        _truthy(parameters.get("EnableAcceptEncodingGzip")) or _truthy(parameters.get("EnableAcceptEncodingBrotli")),
    )


def security_headers(config: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The headers a ``SecurityHeadersConfig`` adds, as (name, value, override)."""
    headers: list[tuple[str, str, bool]] = []
    hsts = config.get("StrictTransportSecurity")
    if hsts:
        value = f"max-age={int(hsts.get('AccessControlMaxAgeSec', 0))}"
        value += "; includeSubDomains" if _truthy(hsts.get("IncludeSubdomains")) else ""
        value += "; preload" if _truthy(hsts.get("Preload")) else ""
        headers.append(("Strict-Transport-Security", value, _truthy(hsts.get("Override"))))
    if config.get("ContentTypeOptions"):
        headers.append(("X-Content-Type-Options", "nosniff", _truthy(config["ContentTypeOptions"].get("Override"))))
    if config.get("FrameOptions"):
        frame = config["FrameOptions"]
        headers.append(("X-Frame-Options", str(frame.get("FrameOption", "DENY")), _truthy(frame.get("Override"))))
    if config.get("ReferrerPolicy"):
        referrer = config["ReferrerPolicy"]
        headers.append(("Referrer-Policy", str(referrer.get("ReferrerPolicy", "")), _truthy(referrer.get("Override"))))
    if config.get("XSSProtection"):
        xss = config["XSSProtection"]
        if _truthy(xss.get("Protection")):
            value = "1; mode=block" if _truthy(xss.get("ModeBlock")) else "1"
            value += f"; report={xss['ReportUri']}" if xss.get("ReportUri") and not _truthy(xss.get("ModeBlock")) else ""
        else:
            value = "0"
        headers.append(("X-XSS-Protection", value, _truthy(xss.get("Override"))))
    if config.get("ContentSecurityPolicy"):
        csp = config["ContentSecurityPolicy"]
        headers.append(("Content-Security-Policy", str(csp.get("ContentSecurityPolicy", "")), _truthy(csp.get("Override"))))
    return headers


def _response_headers(policy_id: str, recorded: dict[str, Any] | None, edge: EdgeConfig) -> None:
    config = MANAGED_RESPONSE_HEADERS_POLICIES.get(policy_id)
    if config is None and recorded is not None:
        config = recorded.get("ResponseHeadersPolicyConfig", recorded)
    if config is None:
        edge.not_emulated.append(f"response headers policy {policy_id} is unknown here: its headers are not added")
        return
    edge.response_headers = security_headers(config.get("SecurityHeadersConfig") or {})
    for item in _items(config.get("CustomHeadersConfig")):
        edge.response_headers.append((str(item["Header"]), str(item["Value"]), _truthy(item.get("Override"))))
    edge.removed_headers = tuple(str(item["Header"]).lower() for item in _items(config.get("RemoveHeadersConfig")))
    for part in ("CorsConfig", "ServerTimingHeadersConfig"):
        if config.get(part):
            edge.not_emulated.append(f"response headers policy: {part} is not emulated")


def plan_edge(
    distribution_id: str,
    domain_name: str,
    config: dict[str, Any],
    recorded_policies: dict[str, dict[str, Any]] | None = None,
) -> EdgeConfig:
    """The :class:`EdgeConfig` for a distribution's deployed ``config`` (``recorded_policies``: policy id → config)."""
    recorded_policies = recorded_policies or {}
    edge = EdgeConfig(distribution_id=distribution_id, domain_name=domain_name)
    notes = edge.not_emulated
    behavior = dict(config.get("DefaultCacheBehavior") or {})
    origins = {origin["Id"]: origin for origin in _items(config.get("Origins"))}
    origin = origins.get(behavior.get("TargetOriginId", ""))
    bucket = bucket_of(origin["DomainName"]) if origin else None
    if origin is None or bucket is None or origin.get("CustomOriginConfig"):
        edge.refusal = f"origin {origin['DomainName'] if origin else '?'} is not an S3 bucket: only S3 origins are served locally"
        notes.append(edge.refusal)
    else:
        edge.bucket = bucket
        edge.origin_path = "/" + str(origin.get("OriginPath") or "").strip("/") if origin.get("OriginPath") else ""
        edge.origin_access_control = bool(origin.get("OriginAccessControlId"))
        if (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity"):
            notes.append("origin access identity (legacy OAI): read as the distribution, like Origin Access Control")
            edge.origin_access_control = True
        if _items(origin.get("CustomHeaders")):
            notes.append("origin custom headers are not sent (S3 ignores them)")
    if len(origins) > 1 or _items(config.get("OriginGroups")):
        notes.append("origins other than the default behavior's, and origin groups (failover), are not served")
    edge.default_root_object = str(config.get("DefaultRootObject") or "")
    methods = behavior.get("AllowedMethods") or {}
    if _items(methods):
        edge.allowed_methods = tuple(sorted(str(method).upper() for method in _items(methods)))
    edge.compress = _truthy(behavior.get("Compress"))
    policy_id = str(behavior.get("CachePolicyId") or "")
    edge.cache = cache_policy_of(policy_id, recorded_policies.get(policy_id), behavior, notes)
    headers_policy = str(behavior.get("ResponseHeadersPolicyId") or "")
    if headers_policy:
        _response_headers(headers_policy, recorded_policies.get(headers_policy), edge)
    if behavior.get("OriginRequestPolicyId"):
        notes.append("origin request policy: not emulated (S3 ignores forwarded headers)")
    for association in _items(behavior.get("FunctionAssociations")):
        if association.get("EventType") == "viewer-request":
            edge.viewer_request_function = str(association["FunctionARN"])
        elif association.get("EventType") == "viewer-response":
            edge.viewer_response_function = str(association["FunctionARN"])
        else:
            edge.refusal = f"a {association.get('EventType')} CloudFront Function is not run locally"
            notes.append(edge.refusal)
    if _items(behavior.get("LambdaFunctionAssociations")):
        edge.refusal = "Lambda@Edge functions are not run locally"
        notes.append(edge.refusal)
    if _truthy((behavior.get("TrustedKeyGroups") or {}).get("Enabled")) or _truthy((behavior.get("TrustedSigners") or {}).get("Enabled")):
        edge.refusal = "signed URLs/cookies (trusted key groups or signers) are not checked locally"
        notes.append(edge.refusal)
    if behavior.get("ViewerProtocolPolicy") in ("redirect-to-https", "https-only"):
        notes.append(f"viewer protocol policy {behavior['ViewerProtocolPolicy']}: the local edge speaks plain HTTP on 127.0.0.1")
    if _items(config.get("CacheBehaviors")):
        notes.append("cache behaviors other than the default (path patterns) are not emulated: every path uses the default behavior")
    for error in _items(config.get("CustomErrorResponses")):
        page = str(error.get("ResponsePagePath") or "") or None
        status = int(error.get("ResponseCode") or error["ErrorCode"]) if page else int(error["ErrorCode"])
        edge.error_responses[int(error["ErrorCode"])] = ErrorResponse(page, status, int(error.get("ErrorCachingMinTTL", 10)))
    aliases = [str(alias) for alias in _items(config.get("Aliases"))]
    wildcards = [alias[2:].lower().rstrip(".") for alias in aliases if alias.startswith("*.")]
    if wildcards:
        edge.preview_domain = wildcards[0]
    if len(wildcards) > 1:
        notes.append(f"several wildcard aliases: NAME.preview.localhost stands for NAME.{wildcards[0]} (the first) only")
    if aliases:
        notes.append(
            "aliases (CNAMEs) and the viewer certificate: the site is served at 127.0.0.1 (a wildcard alias at NAME.preview.localhost)"
        )
    if (config.get("Logging") or {}).get("Enabled") and _truthy(config["Logging"]["Enabled"]):
        notes.append("standard access logs are not written")
    if config.get("WebACLId"):
        notes.append("the WAF web ACL is not applied")
    geo = (config.get("Restrictions") or {}).get("GeoRestriction") or {}
    if geo.get("RestrictionType", "none") != "none":
        notes.append("geographic restrictions are not applied (a local viewer has no country)")
    if not _truthy(config.get("Enabled", True)):
        edge.refusal = "the distribution is disabled"
    return edge
