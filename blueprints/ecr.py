"""An ECR repository with scanning, tag immutability, a lifecycle policy and optional cross-account pull.

Use it in a CFNgin config::

    stacks:
      - name: registry
        class_path: runway_ext.blueprints.ecr.EcrRepository
        variables:
          RepositoryName: my-app
          KeepTaggedImages: 50
          PullAccountIds: ["111122223333"]

Tags are immutable by default, except ``latest``: a version or content-hash tag, once pushed,
names one image forever (what was deployed can always be found and redeployed), while the moving
``latest`` tag that ``docker push`` workflows (and the docker build hook's default ``image_tag``)
re-push keeps working. Stacks pin images by digest through ``${ecr_image}``, so a moving tag
never changes what a stack runs. ``MutabilityExceptions: []`` renders a fully immutable repository
(plain ``IMMUTABLE``, what IaC scanners check for); then every tag, ``latest`` included, can be pushed
only once. Encryption with KMS (``EncryptionType: KMS``) is opt-in: KMS requests are billed. See
``docs/blueprints/ecr.md`` for which scanner check each variable satisfies. Outputs: RepositoryName,
RepositoryUri, RepositoryArn.

The lifecycle rules keep a multi-platform image whole: its index is tagged and counted once by the
tagged rule; its per-platform manifests are untagged, and the untagged-expiry rule cannot expire them
while a kept index lists them (ECR refuses to delete an image an index references). When the index
goes (its tags moved on and it aged out), they go with it. :func:`lifecycle_preview` evaluates a
policy over a repository's images the way ECR does, for tests and for reviewing a change of the rules.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from runway.cfngin.blueprints.base import Blueprint
from troposphere import GetAtt, Ref, Sub, ecr

_REPOSITORY_NAME = re.compile(r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TAG_PATTERN = re.compile(r"^[0-9a-zA-Z._*-]{1,128}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
MAX_MUTABILITY_EXCEPTIONS = 5
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _repository_name(value: str) -> str:
    if value and not _REPOSITORY_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid ECR repository name (2-256 lower-case letters, digits, '.', '_', '-', '/')")
    return value


def _mutability_exceptions(value: list[Any]) -> list[Any]:
    if len(value) > MAX_MUTABILITY_EXCEPTIONS:
        raise ValueError(f"at most {MAX_MUTABILITY_EXCEPTIONS} tag patterns (ECR's limit), got {len(value)}")
    for pattern in value:
        if not isinstance(pattern, str) or not _TAG_PATTERN.match(pattern):
            raise ValueError(f"{pattern!r} is not a tag pattern (letters, digits, '.', '_', '-', '*'; up to 128)")
    return value


def _account_ids(value: list[Any]) -> list[Any]:
    for account in value:
        if not isinstance(account, str) or not _ACCOUNT_ID.match(account):
            raise ValueError(f"{account!r} is not a 12-digit AWS account id (quote it in YAML)")
    return value


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError("must be 0 (no rule) or more")
    return value


def lifecycle_policy(keep_tagged: int, untagged_days: int) -> dict[str, Any] | None:
    """The lifecycle rules: expire untagged images after ``untagged_days``, keep the newest ``keep_tagged`` tagged ones."""
    rules: list[dict[str, Any]] = []
    if untagged_days:
        rules.append(
            {
                "rulePriority": 1,
                "description": f"Expire untagged images {untagged_days} days after push",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untagged_days},
                "action": {"type": "expire"},
            }
        )
    if keep_tagged:
        rules.append(
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_tagged} tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_tagged,
                },
                "action": {"type": "expire"},
            }
        )
    return {"rules": rules} if rules else None


@dataclass(frozen=True)
class LifecycleImage:
    """One image of a repository as ECR's lifecycle evaluation sees it."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    references: tuple[str, ...] = ()
    """For an image index: the digests of the manifests it lists (its platforms' images, untagged)."""


def lifecycle_preview(policy: dict[str, Any] | None, images: Sequence[LifecycleImage], now: datetime) -> set[str]:
    """The digests ``policy`` would expire now: a pure stand-in for ECR's lifecycle policy preview.

    Follows ECR's documented evaluation: rules in ``rulePriority`` order; an image is claimed by the first
    rule whose tag selection it matches (``tagged`` with every ``tagPatternList`` pattern matching one of
    its tags, ``untagged``, ``any``) and cannot be expired by a later rule; ``imageCountMoreThan`` keeps the
    newest N it claims, ``sinceImagePushed`` expires those older than N days. An image that an index which
    stays references is never expired (ECR refuses to delete it: ``ImageReferencedByManifestList``), so the
    per-platform manifests of a kept multi-platform image — untagged — stay with it.
    """
    if policy is None:
        return set()
    claimed: dict[int, list[LifecycleImage]] = {}
    rules = sorted(policy["rules"], key=lambda rule: rule["rulePriority"])
    for image in images:
        for number, rule in enumerate(rules):
            if _selects(rule["selection"], image):
                claimed.setdefault(number, []).append(image)
                break
    expired: set[str] = set()
    for number, rule in enumerate(rules):
        selection = rule["selection"]
        members = sorted(claimed.get(number, []), key=lambda image: image.pushed_at, reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            expired.update(image.digest for image in members[selection["countNumber"] :])
        else:
            cutoff = now - timedelta(days=selection["countNumber"])
            expired.update(image.digest for image in members if image.pushed_at < cutoff)
    while True:  # an index that stays keeps what it references
        kept_references = {reference for image in images if image.digest not in expired for reference in image.references}
        protected = expired & kept_references
        if not protected:
            return expired
        expired -= protected


def _selects(selection: dict[str, Any], image: LifecycleImage) -> bool:
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    patterns = selection.get("tagPatternList") or [prefix + "*" for prefix in selection.get("tagPrefixList", [])]
    return bool(image.tags) and all(any(fnmatch.fnmatchcase(tag, pattern) for tag in image.tags) for pattern in patterns)


class EcrRepository(Blueprint):
    """A private ECR repository for application images."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "RepositoryName": {
            "type": str,
            "default": "",
            "validator": _repository_name,
            "description": "Repository name, e.g. my-app or team/my-app; empty lets CloudFormation generate one.",
        },
        "ScanOnPush": {
            "type": bool,
            "default": True,
            "description": "Scan every pushed image for vulnerabilities (basic scanning).",
        },
        "ImageTagMutability": {
            "type": str,
            "default": "IMMUTABLE",
            "allowed_values": ["IMMUTABLE", "MUTABLE"],
            "description": "IMMUTABLE: a pushed tag can never point at another image. MUTABLE: tags can be re-pushed.",
        },
        "MutabilityExceptions": {
            "type": list,
            "default": ["latest"],
            "validator": _mutability_exceptions,
            "description": "Tag patterns (wildcard *) that behave the other way round (mutable in an IMMUTABLE repository). Up to 5.",
        },
        "KeepTaggedImages": {
            "type": int,
            "default": 30,
            "validator": _non_negative,
            "description": "Keep the newest N tagged images, expire older ones (0: no such rule).",
        },
        "UntaggedImageExpiryDays": {
            "type": int,
            "default": 7,
            "validator": _non_negative,
            "description": "Expire untagged images this many days after push (0: no such rule).",
        },
        "EncryptionType": {
            "type": str,
            "default": "AES256",
            "allowed_values": ["AES256", "KMS"],
            "description": "AES256 (S3-managed keys) or KMS.",
        },
        "KmsKey": {
            "type": str,
            "default": "",
            "description": "With KMS: key ARN, id or alias (same region); empty uses the AWS managed key for ECR.",
        },
        "PullAccountIds": {
            "type": list,
            "default": [],
            "validator": _account_ids,
            "description": "Other AWS accounts allowed to pull images (a repository policy); empty adds no policy.",
        },
        "EmptyOnDelete": {
            "type": bool,
            "default": False,
            "description": "Delete the images too when the stack is deleted (otherwise a repository with images cannot be deleted).",
        },
    }

    def create_template(self) -> None:
        """Add the repository and its outputs."""
        variables = self.variables
        if variables["KmsKey"] and variables["EncryptionType"] != "KMS":
            raise ValueError("KmsKey needs EncryptionType: KMS")
        template = self.template
        template.set_version("2010-09-09")
        template.set_description("ECR repository with scanning, tag immutability and a lifecycle policy")

        properties: dict[str, Any] = {
            "ImageScanningConfiguration": ecr.ImageScanningConfiguration(ScanOnPush=variables["ScanOnPush"]),
            "EmptyOnDelete": variables["EmptyOnDelete"],
        }
        if variables["RepositoryName"]:
            properties["RepositoryName"] = variables["RepositoryName"]
        properties.update(self._mutability(variables))
        encryption: dict[str, Any] = {"EncryptionType": variables["EncryptionType"]}
        if variables["KmsKey"]:
            encryption["KmsKey"] = variables["KmsKey"]
        properties["EncryptionConfiguration"] = ecr.EncryptionConfiguration(**encryption)
        policy = lifecycle_policy(variables["KeepTaggedImages"], variables["UntaggedImageExpiryDays"])
        if policy is not None:
            properties["LifecyclePolicy"] = ecr.LifecyclePolicy(LifecyclePolicyText=json.dumps(policy, sort_keys=True))
        if variables["PullAccountIds"]:
            properties["RepositoryPolicyText"] = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CrossAccountPull",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [Sub(f"arn:${{AWS::Partition}}:iam::{account}:root") for account in variables["PullAccountIds"]]
                        },
                        "Action": PULL_ACTIONS,
                    }
                ],
            }
        repository = template.add_resource(ecr.Repository("Repository", **properties))
        self.add_output("RepositoryName", Ref(repository))
        self.add_output("RepositoryUri", GetAtt(repository, "RepositoryUri"))
        self.add_output("RepositoryArn", GetAtt(repository, "Arn"))

    @staticmethod
    def _mutability(variables: dict[str, Any]) -> dict[str, Any]:
        """``ImageTagMutability`` (``*_WITH_EXCLUSION`` when there are exceptions) and its filters."""
        exceptions = variables["MutabilityExceptions"]
        if not exceptions:
            return {"ImageTagMutability": variables["ImageTagMutability"]}
        return {
            "ImageTagMutability": f"{variables['ImageTagMutability']}_WITH_EXCLUSION",
            "ImageTagMutabilityExclusionFilters": [
                ecr.ImageTagMutabilityExclusionFilter(
                    ImageTagMutabilityExclusionFilterType="WILDCARD", ImageTagMutabilityExclusionFilterValue=pattern
                )
                for pattern in exceptions
            ],
        }


__all__ = ["EcrRepository", "LifecycleImage", "lifecycle_policy", "lifecycle_preview"]
