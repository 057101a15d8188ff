"""The ${ecr_image} lookup: through a real CfnginContext against moto's ECR, and inside a real ``runway deploy``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from runway.context import CfnginContext

from runway_ext.lookups import ALL_LOOKUPS, EcrImageLookup, register_all
from runway_ext.lookups.ecr_image import forget_cached_images
from runway_ext.testing.runway_cli import run_runway

HOST = "123456789012.dkr.ecr.{region}.amazonaws.com"


def put_image(repository: str, tags: list[str], *, layer: str = "a", region: str = "us-east-1") -> str:
    """Record an image in moto's ECR under ``tags``; return its digest (sha256 of the manifest, as a registry has it)."""
    ecr = boto3.client("ecr", region_name=region)
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:" + "0" * 64},
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1,
                    "digest": "sha256:" + hashlib.sha256(layer.encode()).hexdigest(),
                }
            ],
        }
    )
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    for tag in tags:
        ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag, imageDigest=digest)
    return digest


@pytest.fixture
def context(aws, tmp_path: Path) -> CfnginContext:  # type: ignore[no-untyped-def]
    """A real CfnginContext made after ``aws`` pointed the environment at moto."""
    return CfnginContext(config_path=tmp_path / "config.yml")


@pytest.fixture
def describe_calls(context: CfnginContext, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every DescribeImages request the lookup sends (counted by a botocore event on each real session)."""
    calls: list[dict[str, Any]] = []
    make_session = context.get_session

    def counting_session(**kwargs: Any) -> boto3.Session:
        session = make_session(**kwargs)
        session.events.register("provide-client-params.ecr.DescribeImages", lambda params, **_: calls.append(params))
        return session

    monkeypatch.setattr(context, "get_session", counting_session)
    return calls


def test_default_is_the_digest_form_of_latest(context: CfnginContext) -> None:
    digest = put_image("app", ["latest"])
    assert EcrImageLookup.handle("app", context) == f"{HOST.format(region='us-east-1')}/app@{digest}"


def test_forms(context: CfnginContext) -> None:
    digest = put_image("team/app", ["v1", "content-" + "e" * 32])
    host = HOST.format(region="us-east-1")
    assert EcrImageLookup.handle("team/app::tag=v1", context) == f"{host}/team/app@{digest}"
    assert EcrImageLookup.handle("team/app::tag=v1, form=digest_uri", context) == f"{host}/team/app@{digest}"
    assert EcrImageLookup.handle("team/app::tag=v1, form=uri", context) == f"{host}/team/app:v1"
    assert EcrImageLookup.handle("team/app::tag=v1, form=digest", context) == digest
    assert EcrImageLookup.handle("team/app::tag=v1, form=tag", context) == "content-" + "e" * 32
    assert EcrImageLookup.handle("team/app::tag=v1, registry=127.0.0.1:5000", context) == f"127.0.0.1:5000/team/app@{digest}"


def test_tag_form_without_a_content_tag_is_the_tag_asked(context: CfnginContext) -> None:
    put_image("app", ["v7"])
    assert EcrImageLookup.handle("app::tag=v7, form=tag", context) == "v7"


def test_region_argument(context: CfnginContext) -> None:
    digest = put_image("app", ["v1"], region="us-west-2")
    assert EcrImageLookup.handle("app::tag=v1, region=us-west-2", context) == f"{HOST.format(region='us-west-2')}/app@{digest}"
    with pytest.raises(ValueError, match="repository app does not exist"):
        EcrImageLookup.handle("app::tag=v1", context)  # the deploy's region (us-east-1) has no such repository


def test_missing_repository_or_tag_names_both(context: CfnginContext) -> None:
    with pytest.raises(ValueError, match=r"^ecr_image: no image nope:v1 in us-east-1: repository nope does not exist$"):
        EcrImageLookup.handle("nope::tag=v1", context)
    put_image("app", ["v1"])
    with pytest.raises(ValueError, match=r"^ecr_image: no image app:v2 in us-east-1: tag v2 not found in repository app$"):
        EcrImageLookup.handle("app::tag=v2", context)


def test_default_and_common_args(context: CfnginContext) -> None:
    assert EcrImageLookup.handle("nope::tag=v1, default=none-yet", context) == "none-yet"
    digest = put_image("app", ["v1"])
    assert EcrImageLookup.handle("app::tag=v1, form=digest, default=unused", context) == digest
    assert EcrImageLookup.handle("app::tag=v1, form=digest, transform=str", context) == digest


def test_bad_arguments_are_named(context: CfnginContext) -> None:
    with pytest.raises(ValueError, match=r"^ecr_image: form: Input should be 'digest_uri', 'uri', 'digest' or 'tag'$"):
        EcrImageLookup.handle("app::form=sha", context)
    with pytest.raises(ValueError, match=r"^ecr_image: tag: invalid image tag 'a:b'"):
        EcrImageLookup.handle("app::tag=a:b", context)
    with pytest.raises(ValueError, match="repository name is required"):
        EcrImageLookup.handle("::tag=v1", context)
    with pytest.raises(ValueError, match=r"^ecr_image: region: invalid region 'Mars'"):
        EcrImageLookup.handle("app::region=Mars", context)
    with pytest.raises(ValueError, match=r"^ecr_image: registry_id: invalid AWS account id '12345' \(12 digits\)$"):
        EcrImageLookup.handle("app::registry_id=12345", context)
    with pytest.raises(ValueError, match=r"^ecr_image: registry: registry 'http://r' must be a host"):
        EcrImageLookup.handle("app::registry=http://r", context)
    with pytest.raises(ValueError, match=r"^ecr_image: indent: Input should be greater than or equal to 0$"):
        EcrImageLookup.handle("app::indent=-1", context)


def test_an_unknown_argument_is_refused_before_anything_is_asked(context: CfnginContext, describe_calls: list[dict[str, Any]]) -> None:
    put_image("app", ["latest", "v1"])
    with pytest.raises(ValueError, match=r"^ecr_image: tgs: unknown argument$"):
        EcrImageLookup.handle("app::tgs=v1", context)
    with pytest.raises(ValueError, match=r"^ecr_image: Tag: unknown argument; frm: unknown argument$"):
        EcrImageLookup.handle("app::Tag=v1, frm=uri", context)
    with pytest.raises(ValueError, match=r"^ecr_image: arguments: expected key=value pairs separated by ',' after '::'$"):
        EcrImageLookup.handle("app::v1", context)
    assert describe_calls == []


def test_empty_optional_arguments_mean_not_given(context: CfnginContext) -> None:
    digest = put_image("app", ["v1"])
    host = HOST.format(region="us-east-1")
    assert EcrImageLookup.handle("app::tag=v1, region=, registry_id=, registry=", context) == f"{host}/app@{digest}"
    assert EcrImageLookup.handle("app::tag=v1, registry=127.0.0.1:5000/", context) == f"127.0.0.1:5000/app@{digest}"


def test_a_default_is_returned_as_given_not_loaded(context: CfnginContext) -> None:
    assert EcrImageLookup.handle("nope::default=none-yet, load=json", context) == "none-yet"
    assert EcrImageLookup.handle("nope::default=true, transform=bool", context) is True


def test_args_model_is_the_documented_one() -> None:
    from runway_ext.lookups.ecr_image import EcrImageArgs

    assert EcrImageLookup.ARGS_MODEL is EcrImageArgs
    assert list(EcrImageArgs.model_fields) == [
        "default",
        "get",
        "load",
        "transform",
        "indent",
        "tag",
        "region",
        "registry_id",
        "form",
        "registry",
        "platform",
    ]
    assert EcrImageArgs.model_validate({}).tag == "latest"


def test_one_describe_images_per_repository_tag_and_region_per_run(context: CfnginContext, describe_calls: list[dict[str, Any]]) -> None:
    put_image("app", ["v1", "v2"])
    for form in ("digest_uri", "uri", "digest", "tag", "digest_uri"):
        EcrImageLookup.handle(f"app::tag=v1, form={form}", context)
    assert len(describe_calls) == 1
    EcrImageLookup.handle("app::tag=v2", context)
    EcrImageLookup.handle("app::tag=v2", context)
    assert [call["imageIds"] for call in describe_calls] == [[{"imageTag": "v1"}], [{"imageTag": "v2"}]]

    forget_cached_images(context, "app")
    EcrImageLookup.handle("app::tag=v1", context)
    assert len(describe_calls) == 3


def test_a_new_run_sees_a_moved_tag(context: CfnginContext, tmp_path: Path) -> None:
    first = put_image("app", ["latest"], layer="one")
    assert EcrImageLookup.handle("app", context).endswith(first)
    second = put_image("app", ["latest"], layer="two")
    assert second != first
    assert EcrImageLookup.handle("app", context).endswith(first)  # same run: cached
    assert EcrImageLookup.handle("app", CfnginContext(config_path=tmp_path / "config.yml")).endswith(second)


def test_registered_with_cfngin() -> None:
    from runway.cfngin.lookups.registry import CFNGIN_LOOKUP_HANDLERS

    assert ALL_LOOKUPS["ecr_image"] is EcrImageLookup
    assert "ecr_image" in register_all()
    assert CFNGIN_LOOKUP_HANDLERS["ecr_image"] is EcrImageLookup


@pytest.mark.runway
def test_runway_deploy_pins_stack_parameters_to_the_digest(aws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    digest = put_image("app", ["v1"])
    put_image("app", ["v2"], layer="other")
    module = tmp_path / "app.cfn"
    (module / "templates").mkdir(parents=True)
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\nimage_tag: v1\n")
    (module / "templates" / "pin.json").write_text(
        json.dumps(
            {
                "Parameters": {"Image": {"Type": "String"}},
                "Resources": {
                    "Pin": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Name": {"Fn::Sub": "/${AWS::StackName}/image"}, "Type": "String", "Value": {"Ref": "Image"}},
                    }
                },
                "Outputs": {"Image": {"Value": {"Ref": "Image"}}},
            }
        )
    )
    (module / "config.yml").write_text(
        "namespace: ${namespace}\n"
        "cfngin_bucket: ''\n"
        "lookups:\n"
        "  ecr_image: runway_ext.lookups.EcrImageLookup\n"
        "stacks:\n"
        "  - name: api\n"
        "    template_path: templates/pin.json\n"
        "    variables:\n"
        "      Image: ${ecr_image app::tag=${image_tag}}\n"
        "  - name: worker\n"
        "    template_path: templates/pin.json\n"
        "    variables:\n"
        "      Image: ${ecr_image app::tag=${image_tag}, form=uri}\n"
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert run.ok, run.output
    cloudformation = boto3.client("cloudformation")

    def output(stack: str) -> str:
        return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]

    host = HOST.format(region="us-east-1")
    assert output("demo-api") == f"{host}/app@{digest}"
    assert output("demo-worker") == f"{host}/app:v1"
    assert boto3.client("ssm").get_parameter(Name="/demo-api/image")["Parameter"]["Value"] == f"{host}/app@{digest}"


@pytest.mark.runway
def test_runway_deploy_fails_naming_repository_and_tag(aws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    put_image("app", ["v1"])
    module = tmp_path / "app.cfn"
    (module / "templates").mkdir(parents=True)
    (tmp_path / "runway.yml").write_text("deployments:\n  - modules:\n      - path: app.cfn\n    regions:\n      - us-east-1\n")
    (module / "dev.env").write_text("namespace: demo\n")
    (module / "templates" / "pin.json").write_text(
        json.dumps(
            {
                "Parameters": {"Image": {"Type": "String"}},
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            }
        )
    )
    (module / "config.yml").write_text(
        "namespace: ${namespace}\ncfngin_bucket: ''\nlookups:\n  ecr_image: runway_ext.lookups.EcrImageLookup\n"
        "stacks:\n  - name: api\n    template_path: templates/pin.json\n    variables:\n      Image: ${ecr_image app::tag=v9}\n"
    )
    run = run_runway(tmp_path, ["deploy", "--ci"], environment=aws.environment())
    assert not run.ok
    assert "ecr_image: no image app:v9 in us-east-1: tag v9 not found in repository app" in run.output


# -- platform= on multi-platform images --------------------------------------------------------
def put_index(repository: str, tag: str, platforms: dict[str, str], *, attestation: bool = False) -> str:
    """Record an OCI index listing ``platforms`` (platform -> child digest; the children are recorded first, untagged)."""
    ecr = boto3.client("ecr", region_name="us-east-1")
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    entries = []
    for platform, layer in platforms.items():
        child = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:" + "0" * 64},
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "size": 1,
                        "digest": "sha256:" + hashlib.sha256(layer.encode()).hexdigest(),
                    }
                ],
            }
        )
        digest = "sha256:" + hashlib.sha256(child.encode()).hexdigest()
        ecr.put_image(
            repositoryName=repository,
            imageManifest=child,
            imageDigest=digest,
            imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
        )
        os_name, arch = platform.split("/")
        entries.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": len(child),
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    if attestation:
        entries.insert(
            0,
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "9" * 64,
                "size": 5,
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": entries[0]["digest"]},
            },
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
    index_digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()
    ecr.put_image(
        repositoryName=repository,
        imageManifest=index,
        imageDigest=index_digest,
        imageTag=tag,
        imageManifestMediaType="application/vnd.oci.image.index.v1+json",
    )
    return index_digest


def child_digests(repository: str, index_digest: str) -> dict[str, str]:
    manifest = boto3.client("ecr", region_name="us-east-1").batch_get_image(
        repositoryName=repository, imageIds=[{"imageDigest": index_digest}]
    )["images"][0]["imageManifest"]
    return {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in json.loads(manifest)["manifests"]}


def test_platform_resolves_that_platforms_manifest_and_never_an_attestation(context: CfnginContext) -> None:
    index = put_index("multi", "v1", {"linux/amd64": "x", "linux/arm64": "y"}, attestation=True)
    children = child_digests("multi", index)
    host = HOST.format(region="us-east-1")
    assert EcrImageLookup.handle("multi::tag=v1", context) == f"{host}/multi@{index}"
    assert EcrImageLookup.handle("multi::tag=v1, platform=linux/arm64", context) == f"{host}/multi@{children['linux/arm64']}"
    assert EcrImageLookup.handle("multi::tag=v1, platform=linux/amd64, form=digest", context) == children["linux/amd64"]
    assert children["unknown/unknown"] not in {
        EcrImageLookup.handle(f"multi::tag=v1, platform={p}, form=digest", context) for p in ("linux/amd64", "linux/arm64")
    }
    with pytest.raises(
        ValueError, match=r"^ecr_image: multi:v1 in us-east-1 has no linux/s390x image \(it has linux/amd64, linux/arm64\)$"
    ):
        EcrImageLookup.handle("multi::tag=v1, platform=linux/s390x", context)


def test_platform_on_one_manifest_is_its_digest_and_bad_platform_arguments_are_refused(context: CfnginContext) -> None:
    digest = put_image("single", ["v1"])
    assert EcrImageLookup.handle("single::tag=v1, platform=linux/amd64, form=digest", context) == digest
    with pytest.raises(ValueError, match="platform needs form digest_uri or digest"):
        EcrImageLookup.handle("single::tag=v1, platform=linux/amd64, form=uri", context)
    with pytest.raises(ValueError, match="invalid platform 'arm64'"):
        EcrImageLookup.handle("single::tag=v1, platform=arm64", context)
