"""Whether the edge may read an object from its S3 origin, as S3 decides it for CloudFront. Pure.

With Origin Access Control, CloudFront signs its requests as the service principal
``cloudfront.amazonaws.com`` with ``AWS:SourceArn`` = the distribution's ARN, over TLS; without it, the request
is anonymous and only a public bucket answers. The bucket policy is evaluated for that caller (a subset of
IAM: Principal, Action and Resource with ``*``/``?`` wildcards, StringEquals/StringLike/ArnEquals/ArnLike on
``AWS:SourceArn``, ``AWS:SourceAccount`` and ``aws:SecureTransport`` (true on that hop); an unknown condition
does not match), an explicit Deny wins. A missing key is 404 only when the caller may also ``s3:ListBucket``,
else 403 — which is why a CloudFront site maps both to its 404 page.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, signed: bool) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if principal.get("AWS") == "*" or "*" in _list(principal.get("AWS", [])):
        return True
    return signed and CLOUDFRONT_PRINCIPAL in _list(principal.get("Service", []))


def _pattern_matches(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    for pattern in _list(patterns):
        text, wanted = (str(pattern).lower(), value.lower()) if ignore_case else (str(pattern), value)
        if fnmatch.fnmatchcase(wanted, text):
            return True
    return False


def _conditions_match(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in (conditions or {}).items():
        for key, expected in (tests or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            values = [str(value) for value in _list(expected)]
            if operator == "Bool":
                if actual.lower() not in [value.lower() for value in values]:
                    return False
            elif operator in ("StringEquals", "ArnEquals"):
                if actual not in values:
                    return False
            elif operator in ("StringLike", "ArnLike"):
                if not _pattern_matches(values, actual):
                    return False
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                if actual in values:
                    return False
            else:
                return False
    return True


def _statement_matches(statement: dict[str, Any], action: str, resource: str, signed: bool, context: dict[str, str]) -> bool:
    if not _principal_matches(statement.get("Principal"), signed):
        return False
    if not _pattern_matches(statement.get("Action", []), action, ignore_case=True):
        return False
    if not _pattern_matches(statement.get("Resource", []), resource):
        return False
    return _conditions_match(statement.get("Condition", {}), context)


def allowed(policy: str | dict[str, Any] | None, action: str, resource: str, *, distribution_arn: str, signed: bool) -> bool:
    """Whether the bucket ``policy`` lets the edge do ``action`` on ``resource`` (signed: Origin Access Control)."""
    if not policy:
        return False
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = _list(document.get("Statement", []))
    context = {"aws:securetransport": "true"}
    if signed:
        context["aws:sourcearn"] = distribution_arn
        context["aws:sourceaccount"] = distribution_arn.split(":")[4]
    matching = [statement for statement in statements if _statement_matches(statement, action, resource, signed, context)]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return False
    return any(statement.get("Effect") == "Allow" for statement in matching)


def origin_read(
    policy: str | dict[str, Any] | None, public_blocked: bool, bucket: str, key: str, *, distribution_arn: str, signed: bool
) -> tuple[bool, bool]:
    """(may read the object, may list the bucket) for the edge; a public-access block shuts anonymous reads."""
    if not signed and public_blocked:
        return False, False
    read = allowed(policy, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", distribution_arn=distribution_arn, signed=signed)
    listing = allowed(policy, "s3:ListBucket", f"arn:aws:s3:::{bucket}", distribution_arn=distribution_arn, signed=signed)
    return read, listing
