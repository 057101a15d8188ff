"""Which KeyValueStore a distribution's router reads: the check that a pointer write will be seen by the edge.

An atomic site is served by its distribution's viewer-request CloudFront Function, which reads the pointer from
the store associated with it. A deploy or rollback given the distribution proves, before it writes the pointer,
that the function LIVE on the default behaviour is associated with the store it is about to write; else a
pointer write would change nothing viewers get. The readers of ``GetDistributionConfig`` and ``DescribeFunction``
answers are pure; :func:`store_association_problem` asks CloudFront.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def store_of(described_function: Mapping[str, Any]) -> str | None:
    """The KeyValueStore ARN a ``DescribeFunction`` answer associates with the function (None: none). Pure."""
    config = (described_function.get("FunctionSummary") or {}).get("FunctionConfig") or {}
    stores = config.get("KeyValueStoreAssociations") or {}
    arns = [str(item["KeyValueStoreARN"]) for item in stores.get("Items") or [] if item.get("KeyValueStoreARN")]
    return arns[0] if arns else None


def viewer_request_function_of(distribution_config: Mapping[str, Any]) -> str | None:
    """The ARN of the default behaviour's viewer-request CloudFront Function (None: none). Pure."""
    associations = (distribution_config.get("DefaultCacheBehavior") or {}).get("FunctionAssociations") or {}
    for association in associations.get("Items") or []:
        if association.get("EventType") == "viewer-request":
            return str(association["FunctionARN"])
    return None


def router_store(cloudfront: Any, distribution_id: str) -> tuple[str | None, str | None]:
    """(name of the default behaviour's viewer-request function, ARN of the store its LIVE stage reads); None where none."""
    function = viewer_request_function_of(cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"])
    if function is None:
        return None, None
    name = function.rsplit("function/", 1)[-1]
    return name, store_of(cloudfront.describe_function(Name=name, Stage="LIVE"))


def store_association_problem(cloudfront: Any, distribution_id: str, store_arn: str) -> str | None:
    """Why a pointer in ``store_arn`` is not what ``distribution_id`` reads (one phrase), or None when it is."""
    name, store = router_store(cloudfront, distribution_id)
    if name is None:
        return f"distribution {distribution_id} runs no viewer-request function, so no release pointer is read"
    if store is None:
        return f"the viewer-request function {name} of distribution {distribution_id} is associated with no key value store"
    if store != store_arn:
        return f"the viewer-request function {name} of distribution {distribution_id} reads key value store {store}, not {store_arn}"
    return None
