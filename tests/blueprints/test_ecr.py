"""The ECR repository blueprint: rendered through CFNgin, cfn-lint clean, deployed by real ``runway`` to moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from blueprint_support import lint_errors, lint_findings, render, resources_of

from runway_ext.blueprints.ecr import PULL_ACTIONS, lifecycle_policy
from runway_ext.local.moto_cloudformation import install
from runway_ext.testing.runway_cli import run_runway

CLASS_PATH = "runway_ext.blueprints.ecr.EcrRepository"
FULLY_LOADED: dict[str, Any] = {
    "RepositoryName": "team/web-app",
    "ScanOnPush": False,
    "ImageTagMutability": "MUTABLE",
    "MutabilityExceptions": ["v*", "release-*"],
    "KeepTaggedImages": 50,
    "UntaggedImageExpiryDays": 1,
    "EncryptionType": "KMS",
    "KmsKey": "alias/ecr-images",
    "PullAccountIds": ["111122223333", "444455556666"],
    "EmptyOnDelete": True,
}


def repository_properties(template: str) -> dict[str, Any]:
    (repository,) = resources_of(template, "AWS::ECR::Repository").values()
    return repository["Properties"]


# -- cfn-lint -------------------------------------------------------------------------------


def test_default_variables_pass_cfn_lint(tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATH, tmp_path)) == []


def test_fully_loaded_variant_passes_cfn_lint(tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATH, tmp_path, **FULLY_LOADED)) == []


def test_lint_catches_a_broken_template(tmp_path: Path) -> None:
    template = json.loads(render(CLASS_PATH, tmp_path))
    template["Resources"]["Repository"]["Properties"]["ImageTagMutability"] = "SOMETIMES"
    assert any("SOMETIMES" in error for error in lint_errors(json.dumps(template)))


# -- what the template holds ------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    properties = repository_properties(render(CLASS_PATH, tmp_path))
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert properties["ImageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert properties["ImageTagMutabilityExclusionFilters"] == [
        {"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}
    ]
    assert properties["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    assert json.loads(properties["LifecyclePolicy"]["LifecyclePolicyText"]) == lifecycle_policy(30, 7)
    assert "RepositoryPolicyText" not in properties and "RepositoryName" not in properties


def test_fully_loaded(tmp_path: Path) -> None:
    properties = repository_properties(render(CLASS_PATH, tmp_path, **FULLY_LOADED))
    assert properties["RepositoryName"] == "team/web-app"
    assert properties["ImageTagMutability"] == "MUTABLE_WITH_EXCLUSION"
    assert [item["ImageTagMutabilityExclusionFilterValue"] for item in properties["ImageTagMutabilityExclusionFilters"]] == [
        "v*",
        "release-*",
    ]
    assert properties["EncryptionConfiguration"] == {"EncryptionType": "KMS", "KmsKey": "alias/ecr-images"}
    assert properties["EmptyOnDelete"] is True
    (statement,) = properties["RepositoryPolicyText"]["Statement"]
    assert statement["Principal"]["AWS"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::111122223333:root"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::444455556666:root"},
    ]
    assert statement["Action"] == PULL_ACTIONS


def test_no_exceptions_means_plain_mutability(tmp_path: Path) -> None:
    properties = repository_properties(render(CLASS_PATH, tmp_path, MutabilityExceptions=[]))
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    assert "ImageTagMutabilityExclusionFilters" not in properties


def test_lifecycle_rules() -> None:
    policy = lifecycle_policy(keep_tagged=10, untagged_days=3)
    untagged, tagged = policy["rules"]
    assert untagged["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3}
    assert tagged["selection"] == {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 10}
    assert lifecycle_policy(0, 3)["rules"] == [untagged]
    assert lifecycle_policy(0, 0) is None


def test_no_lifecycle_rules_means_no_policy(tmp_path: Path) -> None:
    properties = repository_properties(render(CLASS_PATH, tmp_path, KeepTaggedImages=0, UntaggedImageExpiryDays=0))
    assert "LifecyclePolicy" not in properties


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"RepositoryName": "My_App"}, "not a valid ECR repository name"),
        ({"PullAccountIds": ["1234"]}, "not a 12-digit AWS account id"),
        ({"KmsKey": "alias/x"}, "KmsKey needs EncryptionType: KMS"),
        ({"MutabilityExceptions": ["a", "b", "c", "d", "e", "f"]}, "at most 5 tag patterns"),
        ({"MutabilityExceptions": ["bad tag"]}, "is not a tag pattern"),
        ({"ImageTagMutability": "SOMETIMES"}, "expected one of"),
        ({"KeepTaggedImages": -1}, "must be 0 (no rule) or more"),
    ],
)
def test_bad_variables_are_refused(variables: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(Exception) as raised:  # Runway wraps validator errors in its own types
        render(CLASS_PATH, tmp_path, **variables)
    assert message in str(raised.value)


# -- deployed by real Runway against the moto server ------------------------------------------


@pytest.fixture
def moto_applies_repository_properties() -> None:
    """Close a moto gap: its CloudFormation drops ``LifecyclePolicy``, ``RepositoryPolicyText`` and
    ``EmptyOnDelete`` of ``AWS::ECR::Repository`` and stores scanning/encryption in a casing its API
    cannot return. Local mode's models (:mod:`runway_ext.local.moto_cloudformation`) hand them to moto's
    own ECR API, as CloudFormation does on AWS; the moto server runs in this process, so they apply to
    the ``runway`` subprocess's requests too.
    """
    install()


def write_project(root: Path, variables: dict[str, Any]) -> None:
    module = root / "app.cfn"
    module.mkdir(exist_ok=True)
    (root / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "config.yml").write_text(
        "namespace: ${namespace}\n"
        'cfngin_bucket: ""\n'
        "stacks:\n"
        "  - name: registry\n"
        f"    class_path: {CLASS_PATH}\n"
        f"    variables: {json.dumps(variables)}\n"
    )


@pytest.mark.runway
def test_runway_deploys_the_repository(tmp_path: Path, aws, moto_applies_repository_properties: None) -> None:  # type: ignore[no-untyped-def]
    write_project(
        tmp_path, {"RepositoryName": "demo/web", "KeepTaggedImages": 20, "UntaggedImageExpiryDays": 3, "PullAccountIds": ["111122223333"]}
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert run.ok, run.output

    ecr = boto3.client("ecr")
    (repository,) = ecr.describe_repositories(repositoryNames=["demo/web"])["repositories"]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repository["imageTagMutabilityExclusionFilters"] == [{"filterType": "WILDCARD", "filter": "latest"}]
    assert repository["encryptionConfiguration"] == {"encryptionType": "AES256"}
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="demo/web")["lifecyclePolicyText"])
    assert policy == lifecycle_policy(keep_tagged=20, untagged_days=3)
    pull = json.loads(ecr.get_repository_policy(repositoryName="demo/web")["policyText"])
    assert pull["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}

    (stack,) = boto3.client("cloudformation").describe_stacks(StackName="demo-registry")["Stacks"]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}
    assert outputs == {
        "RepositoryName": "demo/web",
        "RepositoryUri": repository["repositoryUri"],
        "RepositoryArn": repository["repositoryArn"],
    }

    destroyed = run_runway(tmp_path, ["destroy", "--ci"], environment=aws.environment())
    assert destroyed.ok, destroyed.output
    assert ecr.describe_repositories()["repositories"] == []


# -- lifecycle rules over a multi-platform image -------------------------------------------------
def test_the_lifecycle_rules_keep_the_platform_manifests_of_a_tagged_index() -> None:
    """Evaluated by :func:`lifecycle_preview`, ECR's documented rule evaluation (moto stores a policy but never applies it)."""
    from datetime import datetime, timedelta, timezone

    from runway_ext.blueprints.ecr import LifecycleImage, lifecycle_preview

    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    old = now - timedelta(days=30)
    digest = iter(f"sha256:{n:064x}" for n in range(1, 100))
    amd64, arm64, index = next(digest), next(digest), next(digest)
    old_amd64, old_arm64, old_index = next(digest), next(digest), next(digest)
    orphan = next(digest)
    images = [
        LifecycleImage(amd64, (), old),  # the platforms of the tagged index: untagged, as old as the untagged rule allows
        LifecycleImage(arm64, (), old),
        LifecycleImage(index, ("v1", "content-" + "a" * 32), old, references=(amd64, arm64)),
        LifecycleImage(old_amd64, (), old - timedelta(days=1)),  # an index whose tags moved on, with its platforms
        LifecycleImage(old_arm64, (), old - timedelta(days=1)),
        LifecycleImage(old_index, (), old - timedelta(days=1), references=(old_amd64, old_arm64)),
        LifecycleImage(orphan, (), old),
    ]
    policy = lifecycle_policy(keep_tagged=30, untagged_days=7)
    expired = lifecycle_preview(policy, images, now)
    assert expired == {old_amd64, old_arm64, old_index, orphan}
    assert not expired & {amd64, arm64, index}
    # the evaluation is not blind: without the index, its untagged platform manifests would go
    assert {amd64, arm64} <= lifecycle_preview(policy, [image for image in images if image.digest != index], now)
    # beyond the tagged count (30 newer tagged images), the index goes, and its platform manifests with it
    newer = [LifecycleImage(f"sha256:{n:064x}", (f"v{n}",), now - timedelta(hours=n)) for n in range(200, 230)]
    assert {index, amd64, arm64} <= lifecycle_preview(policy, [*images, *newer], now)
    assert not lifecycle_preview(policy, [*images, *newer[:29]], now) & {index, amd64, arm64}
