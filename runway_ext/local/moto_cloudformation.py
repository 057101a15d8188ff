"""Teach moto's CloudFormation the resource types our blueprints use that it does not create itself.

moto skips ``AWS::CloudFront::*`` and ``AWS::S3::BucketPolicy`` ("No Moto CloudFormation
support"), so a ``Ref`` to them is empty and their outputs vanish. Each class below is a
``CloudFormationModel`` backed by moto's own CloudFront or S3 backend, so a stack creates a real
(moto) distribution that the invalidation hook can talk to. moto finds models through
``CloudFormationModel.__subclasses__()`` behind ``functools.lru_cache``; :func:`install` clears
those caches after these classes exist.

moto does create ``AWS::ECR::Repository`` but drops ``LifecyclePolicy``, ``RepositoryPolicyText`` and
``EmptyOnDelete``, and keeps scanning/encryption settings in a casing its API cannot return; the
repository model here hands them to moto's own ECR API, as CloudFormation does on AWS.

Key value stores are moto's (its control plane); their keys are served by local mode's data plane
(:mod:`runway_ext.local.moto_kvs`); a function's ``KeyValueStoreAssociations`` are kept in the API's shape,
where the local edge reads them.

Cache and response-headers policies have no moto backend: they are recorded here with an id
(what ``Ref``/``Fn::GetAtt Id`` return), which is all the distribution needs.

moto evaluates bucket policies without request context: a ``Deny`` conditioned on
``aws:SecureTransport`` (a TLS-only rule) matches every request there and locks the bucket, although
on AWS it only refuses plain HTTP; a ``Deny`` aimed at a service principal (CloudFront) matches every
caller too. The local bucket policy therefore leaves those statements out of what moto stores;
everything else is stored as written, and the whole policy is kept in :data:`FULL_BUCKET_POLICIES` for
the local edge, which evaluates it for the caller it is (CloudFront, over TLS).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from operator import attrgetter
from typing import Any, ClassVar

from moto.cloudfront.models import cloudfront_backends
from moto.core.common_models import CloudFormationModel
from moto.ecr import models as ecr_models
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

SUPPORTED_TYPES = (
    "AWS::ECR::Repository",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::KeyValueStore",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::S3::BucketPolicy",
)


def _cloudfront(account_id: str, region_name: str) -> Any:
    return cloudfront_backends[account_id][get_partition(region_name)]


def _items(values: list[Any] | None) -> dict[str, Any]:
    """CloudFormation's plain list as the API's ``{Quantity, Items}`` shape."""
    values = list(values or [])
    return {"Quantity": len(values), "Items": values}


def _behavior_api_config(behavior: dict[str, Any], default_origin: str) -> dict[str, Any]:
    """A CloudFormation cache behavior in the API's shape (what GetDistributionConfig returns)."""
    api: dict[str, Any] = {
        "TargetOriginId": behavior.get("TargetOriginId", default_origin),
        "ViewerProtocolPolicy": behavior.get("ViewerProtocolPolicy", "allow-all"),
        "Compress": str(behavior.get("Compress", False)).lower() == "true",
        "CachePolicyId": behavior.get("CachePolicyId", ""),
        "ResponseHeadersPolicyId": behavior.get("ResponseHeadersPolicyId"),
        "OriginRequestPolicyId": behavior.get("OriginRequestPolicyId"),
    }
    if behavior.get("AllowedMethods"):
        api["AllowedMethods"] = {
            **_items(behavior["AllowedMethods"]),
            "CachedMethods": _items(behavior.get("CachedMethods") or ["GET", "HEAD"]),
        }
    for ttl in ("MinTTL", "DefaultTTL", "MaxTTL"):
        if ttl in behavior:
            api[ttl] = int(behavior[ttl])
    if "PathPattern" in behavior:
        api["PathPattern"] = behavior["PathPattern"]
    for signers in ("TrustedKeyGroups", "TrustedSigners"):
        if behavior.get(signers):
            api[signers] = {"Enabled": True, **_items(behavior[signers])}
    return api


def _associations(behavior: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The behavior's CloudFront Function and Lambda@Edge associations in the API's shape."""
    functions = [{"FunctionARN": item["FunctionARN"], "EventType": item["EventType"]} for item in behavior.get("FunctionAssociations", [])]
    lambdas = [
        {
            "LambdaFunctionARN": item["LambdaFunctionARN"],
            "EventType": item["EventType"],
            "IncludeBody": bool(item.get("IncludeBody", False)),
        }
        for item in behavior.get("LambdaFunctionAssociations", [])
    ]
    return _items(functions), _items(lambdas)


def distribution_api_config(cfn_config: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """Translate a CloudFormation ``DistributionConfig`` into the API-shaped dict moto's backend takes.

    Everything the local edge reads is carried over: origins (OriginPath, OriginAccessControlId), behaviors,
    custom error responses, logging, WAF, restrictions; :func:`keep_associations` restores what moto's model
    drops (function associations, the origin access control id) after the distribution exists.
    """
    origins = []
    for origin in cfn_config.get("Origins", []):
        api_origin = {"Id": origin["Id"], "DomainName": origin["DomainName"], "OriginPath": origin.get("OriginPath", "")}
        if "S3OriginConfig" in origin:
            api_origin["S3OriginConfig"] = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity", "")}
        if "CustomOriginConfig" in origin:
            api_origin["CustomOriginConfig"] = origin["CustomOriginConfig"]
        if origin.get("OriginCustomHeaders"):
            api_origin["CustomHeaders"] = _items(
                [{"HeaderName": item["HeaderName"], "HeaderValue": item["HeaderValue"]} for item in origin["OriginCustomHeaders"]]
            )
        origins.append(api_origin)
    default_origin = origins[0]["Id"] if origins else ""
    config: dict[str, Any] = {
        "CallerReference": caller_reference,
        "Origins": _items(origins),
        "DefaultCacheBehavior": _behavior_api_config(dict(cfn_config.get("DefaultCacheBehavior", {})), default_origin),
        "Comment": cfn_config.get("Comment", ""),
        "Enabled": str(cfn_config.get("Enabled", True)).lower() == "true",
        "DefaultRootObject": cfn_config.get("DefaultRootObject", ""),
        "PriceClass": cfn_config.get("PriceClass", "PriceClass_All"),
        "HttpVersion": cfn_config.get("HttpVersion", "http2"),
    }
    if cfn_config.get("CacheBehaviors"):
        config["CacheBehaviors"] = _items([_behavior_api_config(item, default_origin) for item in cfn_config["CacheBehaviors"]])
    if cfn_config.get("CustomErrorResponses"):
        config["CustomErrorResponses"] = _items(
            [
                {
                    key: str(item[key]) if key == "ResponseCode" else item[key]
                    for key in ("ErrorCode", "ResponsePagePath", "ResponseCode", "ErrorCachingMinTTL")
                    if key in item
                }
                for item in cfn_config["CustomErrorResponses"]
            ]
        )
    if cfn_config.get("Logging"):
        config["Logging"] = {"Enabled": True, **cfn_config["Logging"]}
    if cfn_config.get("WebACLId"):
        config["WebACLId"] = cfn_config["WebACLId"]
    geo = (cfn_config.get("Restrictions") or {}).get("GeoRestriction")
    if geo:
        config["Restrictions"] = {
            "GeoRestriction": {"RestrictionType": geo.get("RestrictionType", "none"), "Items": geo.get("Locations", [])}
        }
    if cfn_config.get("Aliases"):
        config["Aliases"] = _items(cfn_config["Aliases"])
    return config


def keep_associations(distribution: Any, cfn_config: dict[str, Any]) -> None:
    """Put back on moto's distribution what its model drops: function associations and origin access control ids."""
    api = distribution.distribution_config
    behaviors = [(api.DefaultCacheBehavior, cfn_config.get("DefaultCacheBehavior", {}))]
    cfn_behaviors = cfn_config.get("CacheBehaviors", [])
    behaviors += list(zip((api.CacheBehaviors.get("Items") or []), cfn_behaviors, strict=False))
    for model, source in behaviors:
        model.function_associations, model.lambda_function_associations = _associations(source)
    control_ids = {origin["Id"]: origin.get("OriginAccessControlId") for origin in cfn_config.get("Origins", [])}
    for origin in api.Origins["Items"]:
        if control_ids.get(origin.id):
            origin.origin_access_control_id = control_ids[origin.id]


class _LocalModel:
    """What every model below shares: its type, name property, ``GetAtt`` attributes and physical id, declared once.

    A mixin, not a ``CloudFormationModel`` subclass: moto only sees *direct* subclasses of
    ``CloudFormationModel``, so each model is ``class LocalX(_LocalModel, CloudFormationModel)``.
    ``CFN_ATTRIBUTES`` maps each ``Fn::GetAtt`` attribute to the (dotted) attribute of the model that
    holds it; ``PHYSICAL_ID`` names the one ``Ref`` returns. An update replaces the resource:
    :meth:`discard` the old one, create the new one (models that update in place override it).
    """

    CFN_TYPE: ClassVar[str]
    NAME_PROPERTY: ClassVar[str] = ""
    CFN_ATTRIBUTES: ClassVar[Mapping[str, str]] = {}
    PHYSICAL_ID: ClassVar[str]

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.CFN_ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return str(attrgetter(self.PHYSICAL_ID)(self))

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.CFN_ATTRIBUTES:
            raise NotImplementedError(attribute_name)
        return attrgetter(self.CFN_ATTRIBUTES[attribute_name])(self)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        raise NotImplementedError(cls.CFN_TYPE)

    def discard(self, account_id: str, region_name: str) -> None:
        """Remove the resource this model stands for before an update creates its replacement (default: nothing to remove)."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> Any:
        original_resource.discard(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def is_created(self) -> bool:
        return True


class LocalDistribution(_LocalModel, CloudFormationModel):
    """``AWS::CloudFront::Distribution`` backed by moto's CloudFront backend."""

    CFN_TYPE = "AWS::CloudFront::Distribution"
    CFN_ATTRIBUTES = {"DomainName": "distribution.domain_name", "Id": "distribution.distribution_id"}
    PHYSICAL_ID = "distribution.distribution_id"

    def __init__(self, distribution: Any) -> None:
        self.distribution = distribution

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalDistribution:
        cfn_config = cloudformation_json["Properties"]["DistributionConfig"]
        config = distribution_api_config(cfn_config, caller_reference=f"{kwargs.get('LogicalId', resource_name)}-{uuid.uuid4()}")
        distribution, _location, _etag = _cloudfront(account_id, region_name).create_distribution(config, tags=[])
        keep_associations(distribution, cfn_config)
        return cls(distribution)

    def discard(self, account_id: str, region_name: str) -> None:
        _cloudfront(account_id, region_name).delete_distribution(self.physical_resource_id, if_match=True)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = _cloudfront(account_id, region_name)
        if resource_name in backend.distributions:
            backend.delete_distribution(resource_name, if_match=True)


class LocalOriginAccessControl(_LocalModel, CloudFormationModel):
    """``AWS::CloudFront::OriginAccessControl`` backed by moto's CloudFront backend."""

    CFN_TYPE = "AWS::CloudFront::OriginAccessControl"
    CFN_ATTRIBUTES = {"Id": "control.id"}
    PHYSICAL_ID = "control.id"

    def __init__(self, control: Any) -> None:
        self.control = control

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalOriginAccessControl:
        config = dict(cloudformation_json["Properties"]["OriginAccessControlConfig"])
        return cls(_cloudfront(account_id, region_name).create_origin_access_control(config))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: LocalOriginAccessControl,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LocalOriginAccessControl:
        config = dict(cloudformation_json["Properties"]["OriginAccessControlConfig"])
        _cloudfront(account_id, region_name).update_origin_access_control(original_resource.physical_resource_id, config)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _cloudfront(account_id, region_name).origin_access_controls.pop(resource_name, None)


def function_api_config(cfn_config: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation ``FunctionConfig`` in the API's shape (key value store associations as ``{Quantity, Items}``)."""
    config = {key: value for key, value in cfn_config.items() if key != "KeyValueStoreAssociations"}
    associations = cfn_config.get("KeyValueStoreAssociations")
    if associations:
        config["KeyValueStoreAssociations"] = _items([{"KeyValueStoreARN": item["KeyValueStoreARN"]} for item in associations])
    return config


class LocalKeyValueStore(_LocalModel, CloudFormationModel):
    """``AWS::CloudFront::KeyValueStore`` backed by moto's CloudFront backend (``Ref`` is the name, as on AWS).

    Its keys are served by local mode's data plane (:mod:`runway_ext.local.moto_kvs`).
    """

    CFN_TYPE = "AWS::CloudFront::KeyValueStore"
    NAME_PROPERTY = "Name"
    CFN_ATTRIBUTES = {"Arn": "store.arn", "Id": "store.id", "Status": "store.status"}
    PHYSICAL_ID = "store.name"

    def __init__(self, store: Any) -> None:
        self.store = store

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalKeyValueStore:
        properties = cloudformation_json.get("Properties", {})
        if properties.get("ImportSource"):
            raise NotImplementedError("KeyValueStore ImportSource (keys imported from S3) is not emulated locally")
        store = _cloudfront(account_id, region_name).create_key_value_store(
            properties.get("Name", resource_name), str(properties.get("Comment", "")), tags=[]
        )
        return cls(store)

    def discard(self, account_id: str, region_name: str) -> None:
        _cloudfront(account_id, region_name).key_value_stores.pop(self.store.name, None)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: LocalKeyValueStore,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LocalKeyValueStore:
        properties = cloudformation_json.get("Properties", {})
        if properties.get("Name", original_resource.store.name) != original_resource.store.name:
            return super().update_from_cloudformation_json(
                original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
        original_resource.store.update(str(properties.get("Comment", "")))  # a new comment keeps the store and its keys
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _cloudfront(account_id, region_name).key_value_stores.pop(resource_name, None)


class LocalCloudFrontFunction(_LocalModel, CloudFormationModel):
    """``AWS::CloudFront::Function`` backed by moto's CloudFront backend (``Ref`` is the ARN)."""

    CFN_TYPE = "AWS::CloudFront::Function"
    NAME_PROPERTY = "Name"
    CFN_ATTRIBUTES = {"FunctionARN": "function.arn", "FunctionMetadata.FunctionARN": "function.arn", "Stage": "function.stage"}
    PHYSICAL_ID = "function.arn"

    def __init__(self, function: Any) -> None:
        self.function = function

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalCloudFrontFunction:
        properties = cloudformation_json["Properties"]
        name = properties.get("Name", resource_name)
        backend = _cloudfront(account_id, region_name)
        function = backend.create_function(
            name, function_api_config(dict(properties.get("FunctionConfig", {}))), str(properties.get("FunctionCode", "")).encode(), tags=[]
        )
        if properties.get("AutoPublish"):
            function.stage = "LIVE"
            function.status = "DEPLOYED"
        return cls(function)

    def discard(self, account_id: str, region_name: str) -> None:
        _cloudfront(account_id, region_name).functions.pop(self.function.name, None)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        name = resource_name.rsplit("function/", 1)[-1]
        _cloudfront(account_id, region_name).functions.pop(name, None)


class LocalEcrRepository(_LocalModel, CloudFormationModel):
    """``AWS::ECR::Repository`` created by moto, with the properties moto's own model drops applied."""

    CFN_TYPE = "AWS::ECR::Repository"
    NAME_PROPERTY = "RepositoryName"
    CFN_ATTRIBUTES = {"Arn": "repository.arn", "RepositoryUri": "repository.uri"}
    PHYSICAL_ID = "repository.name"

    def __init__(self, repository: Any, empty_on_delete: bool) -> None:
        self.repository = repository
        self.empty_on_delete = empty_on_delete

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.repository.get_cfn_attribute(attribute_name)

    @classmethod
    def _wrap(cls, repository: Any, cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> LocalEcrRepository:
        properties = cloudformation_json.get("Properties", {})
        backend = ecr_models.ecr_backends[account_id][region_name]
        scanning = properties.get("ImageScanningConfiguration")
        if scanning is not None:
            repository.image_scanning_configuration = {"scanOnPush": str(scanning.get("ScanOnPush", False)).lower() == "true"}
        encryption = properties.get("EncryptionConfiguration")
        if encryption is not None:
            api_shape = {"encryptionType": encryption["EncryptionType"]}
            if encryption.get("KmsKey"):
                api_shape["kmsKey"] = encryption["KmsKey"]
            repository.encryption_configuration = repository._determine_encryption_config(api_shape)
        if "LifecyclePolicy" in properties:
            backend.put_lifecycle_policy(repository.registry_id, repository.name, properties["LifecyclePolicy"]["LifecyclePolicyText"])
        if "RepositoryPolicyText" in properties:
            policy = properties["RepositoryPolicyText"]
            backend.set_repository_policy(
                repository.registry_id, repository.name, policy if isinstance(policy, str) else json.dumps(policy)
            )
        return cls(repository, str(properties.get("EmptyOnDelete", False)).lower() == "true")

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalEcrRepository:
        repository = ecr_models.Repository.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        return cls._wrap(repository, cloudformation_json, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: LocalEcrRepository,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LocalEcrRepository:
        repository = ecr_models.Repository.update_from_cloudformation_json(
            original_resource.repository, new_resource_name, cloudformation_json, account_id, region_name
        )
        return cls._wrap(repository, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Delete the repository; with ``EmptyOnDelete`` also when it still holds images (as on AWS)."""
        ecr_models.ecr_backends[account_id][region_name].delete_repository(self.repository.name, force=self.empty_on_delete)


class _RecordedPolicy(_LocalModel):
    """A CloudFront policy moto has no backend for: kept here with an id (what Ref and GetAtt Id return).

    A mixin: moto only sees direct subclasses of ``CloudFormationModel``.
    """

    RECORDED: dict[str, dict[str, Any]] = {}
    CFN_ATTRIBUTES = {"Id": "policy_id", "LastModifiedTime": "last_modified_time"}
    PHYSICAL_ID = "policy_id"
    last_modified_time = "2026-01-01T00:00:00Z"

    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> _RecordedPolicy:
        policy_id = str(uuid.uuid4())
        cls.RECORDED[policy_id] = dict(cloudformation_json.get("Properties", {}))
        return cls(policy_id)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _RecordedPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _RecordedPolicy:
        cls.RECORDED[original_resource.policy_id] = dict(cloudformation_json.get("Properties", {}))
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls.RECORDED.pop(resource_name, None)


class LocalCachePolicy(_RecordedPolicy, CloudFormationModel):
    """``AWS::CloudFront::CachePolicy`` (recorded only)."""

    CFN_TYPE = "AWS::CloudFront::CachePolicy"


class LocalResponseHeadersPolicy(_RecordedPolicy, CloudFormationModel):
    """``AWS::CloudFront::ResponseHeadersPolicy`` (recorded only)."""

    CFN_TYPE = "AWS::CloudFront::ResponseHeadersPolicy"


class LocalBucketPolicy(_LocalModel, CloudFormationModel):
    """``AWS::S3::BucketPolicy`` backed by moto's S3 backend (the policy is stored on the bucket)."""

    CFN_TYPE = "AWS::S3::BucketPolicy"
    PHYSICAL_ID = "bucket_name"

    def __init__(self, bucket_name: str) -> None:
        self.bucket_name = bucket_name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> LocalBucketPolicy:
        properties = cloudformation_json["Properties"]
        bucket = properties["Bucket"]
        document = properties["PolicyDocument"]
        full = json.loads(document) if isinstance(document, str) else document
        FULL_BUCKET_POLICIES[bucket] = full
        policy = json.dumps(without_transport_conditions(full))
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(bucket, policy.encode())
        return cls(bucket)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if resource_name in backend.buckets:
            backend.delete_bucket_policy(resource_name)


FULL_BUCKET_POLICIES: dict[str, dict[str, Any]] = {}
"""Bucket policies as the stack wrote them, by bucket (moto stores them without the statements it cannot
evaluate; the local edge evaluates these, for the caller it is)."""


def _moto_cannot_evaluate(statement: dict[str, Any]) -> bool:
    """A TLS condition, or a Deny aimed at a service principal only: moto applies either to every caller."""
    if "aws:securetransport" in json.dumps(statement.get("Condition", {})).lower():
        return True
    principal = statement.get("Principal")
    return statement.get("Effect") == "Deny" and isinstance(principal, dict) and set(principal) == {"Service"}


def without_transport_conditions(document: dict[str, Any]) -> dict[str, Any]:
    """The policy without the statements moto cannot evaluate (see the module docstring)."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {**document, "Statement": [statement for statement in statements if not _moto_cannot_evaluate(statement)]}


def _keep_public_access_block() -> None:
    """moto's ``AWS::S3::Bucket`` drops ``PublicAccessBlockConfiguration``; apply it, as CloudFormation does on AWS."""
    from moto.s3.models import FakeBucket

    original = FakeBucket.create_from_cloudformation_json
    if getattr(original, "_runway_ext_keeps_block", False):
        return

    @functools.wraps(original)
    def create(resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
        bucket = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        block = cloudformation_json.get("Properties", {}).get("PublicAccessBlockConfiguration")
        if block:
            flags = {key: str(value).lower() == "true" for key, value in block.items()}
            s3_backends[account_id][get_partition(region_name)].put_public_access_block(bucket.name, flags)
        return bucket

    create._runway_ext_keeps_block = True  # type: ignore[attr-defined]
    FakeBucket.create_from_cloudformation_json = create  # type: ignore[method-assign]


_UNCHANGED_STATES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


def _refuse_no_op_updates() -> None:
    """Answer an UpdateStack that changes nothing as AWS does (``ValidationError: No updates are to be performed.``).

    moto performs such an update and Runway then polls it to completion; against AWS Runway skips the stack at once.
    """
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.update_stack
    if getattr(original, "_runway_ext_no_op", False):
        return

    @functools.wraps(original)
    def update_stack(self: Any, name: str, template: str, role_arn: Any, parameters: Any, tags: Any) -> Any:
        stack = self.get_stack(name)
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        unchanged = (
            stack.status in _UNCHANGED_STATES
            and template == stack.template
            and resolved == stack.parameters
            and (tags is None or tags == stack.tags)
            and role_arn == stack.role_arn
        )
        if unchanged:
            raise ValidationError(message="No updates are to be performed.")
        return original(self, name, template, role_arn, parameters, tags)

    update_stack._runway_ext_no_op = True  # type: ignore[attr-defined]
    CloudFormationBackend.update_stack = update_stack  # type: ignore[method-assign]


def _accept_untagged_images() -> None:
    """ECR ``PutImage`` without a tag (a platform manifest of an index) in a repository with tag-mutability exclusions.

    AWS accepts it (the tag is optional; mutability rules concern tags only); moto 5.2 matches its exclusion
    filters against the missing tag and answers HTTP 500. An untagged image has no tag to compare: nothing matches.
    """
    from moto.ecr.models import ECRBackend

    original = ECRBackend._resolve_image_tag_mutability
    if getattr(original, "_runway_ext_untagged", False):
        return

    @functools.wraps(original)
    def resolve(self: Any, repository: Any, proposed_image_tag: str | None) -> Any:
        if proposed_image_tag is None:
            return []
        return original(self, repository, proposed_image_tag)

    resolve._runway_ext_untagged = True  # type: ignore[attr-defined]
    ECRBackend._resolve_image_tag_mutability = resolve  # type: ignore[method-assign]


def install() -> list[str]:
    """Make moto's CloudFormation use the classes above (clears its model caches); return the types added."""
    from moto.cloudformation import parsing

    _keep_public_access_block()
    _refuse_no_op_updates()
    _accept_untagged_images()

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    known = parsing.get_model_map()
    return [name for name in SUPPORTED_TYPES if name in known]
