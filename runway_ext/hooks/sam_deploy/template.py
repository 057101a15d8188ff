"""Reading a SAM template for its inputs: the document (short intrinsic tags read as their argument) and the local paths ``sam`` builds or uploads. Pure.

The local inputs are every path ``sam`` itself reads: the artifact keys ``sam package`` uploads,
a build's ``Metadata`` (``ProjectRootDirectory``: the folder a build copies in, shared code outside
``CodeUri`` included; ``ContextPath``: the folder of a ``makefile`` build's Makefile;
``DockerContext``, and ``Dockerfile`` resolved against it as ``sam build`` does, so a Dockerfile
outside its context counts too). An input that cannot be enumerated makes the template *unprovable*:
a nested template from a local file, or a parameter CloudFormation resolves from SSM at deploy time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

ARTIFACT_KEYS = frozenset(
    {
        # what ``sam package`` uploads from a local path (samcli.lib.utils.resources), any resource type
        "CodeUri",
        "ContentUri",
        "DefinitionUri",
        "DefinitionS3Location",
        "RequestMappingTemplateS3Location",
        "ResponseMappingTemplateS3Location",
        "CodeS3Location",
        "SchemaUri",
        "Code",
        "Content",
        "BodyS3Location",
        "SourceBundle",
        "ModulePackage",
        "SchemaHandlerPackage",
        "TemplateURL",
        "Location",
        "ScriptLocation",
        "LicenseUrl",
        "ReadmeUrl",
        # what ``sam build`` reads from a resource's Metadata (relative to the template's folder)
        "DockerContext",
        "ProjectRootDirectory",
        "ContextPath",
    }
)
"""Template keys whose string value may name a local file or folder that ``sam`` builds or uploads.

``Dockerfile`` is not among them: it is relative to its ``DockerContext`` (see :func:`artifact_paths`)."""

SSM_PARAMETER_TYPE_PREFIX = "AWS::SSM::Parameter::"
"""Parameter types whose value CloudFormation reads from SSM Parameter Store when it deploys."""

NESTED_TEMPLATE_TYPES = frozenset({"AWS::Serverless::Application", "AWS::CloudFormation::Stack"})
"""Resource types whose local ``Location``/``TemplateURL`` is itself a template with local paths of its own."""


def load_template_document(template_text: str) -> Any:
    """A template's YAML/JSON as plain data, intrinsic functions (``!Ref x``) read as their argument (``x``)."""
    import yaml

    class _IntrinsicLoader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    _IntrinsicLoader.add_multi_constructor("!", construct)
    return yaml.load(template_text, Loader=_IntrinsicLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class ArtifactPaths:
    """The local paths a template makes ``sam`` build or upload, as written in it."""

    paths: tuple[str, ...]
    unprovable: str | None = None
    """Why the template's inputs cannot be fingerprinted (then the deploy is never skipped)."""


def artifact_paths(document: Any) -> ArtifactPaths:
    """Every local path the template makes ``sam`` read (see the module docstring), in order, ``Globals`` too.

    Remote locations (``s3://``, ``https://``) are left out; whether the rest name files is decided
    by the caller (a string naming nothing changes the template's text, which is hashed anyway). The
    template is *unprovable* when a nested application or stack comes from a local template (its own
    local paths are not followed) or a parameter is SSM-typed (its value lives outside the inputs):
    such a deploy is never skipped, and the reason names the input.
    """
    if not isinstance(document, Mapping):
        return ArtifactPaths((), "the template is not a mapping")
    parameters = document.get("Parameters")
    if isinstance(parameters, Mapping):
        for name, spec in parameters.items():
            kind = spec.get("Type") if isinstance(spec, Mapping) else None
            if isinstance(kind, str) and kind.startswith(SSM_PARAMETER_TYPE_PREFIX):
                return ArtifactPaths((), f"parameter {name} is of type {kind}: CloudFormation reads its value from SSM when it deploys")
    found: list[str] = []
    resources = document.get("Resources")
    if isinstance(resources, Mapping):
        for name, resource in resources.items():
            if not isinstance(resource, Mapping) or resource.get("Type") not in NESTED_TEMPLATE_TYPES:
                continue
            properties = resource.get("Properties")
            location = properties.get("Location", properties.get("TemplateURL")) if isinstance(properties, Mapping) else None
            if isinstance(location, str) and not _is_remote(location):
                return ArtifactPaths((), f"{name} is a nested template from a local file")

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            context, dockerfile = node.get("DockerContext"), node.get("Dockerfile")
            for key, value in node.items():
                if key in ARTIFACT_KEYS and isinstance(value, str):
                    if not _is_remote(value):
                        found.append(value)
                elif key != "Dockerfile":
                    walk(value)
            if isinstance(context, str) and isinstance(dockerfile, str) and not _is_remote(context) and not _is_remote(dockerfile):
                found.append(str(PurePosixPath(context) / dockerfile))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return ArtifactPaths(tuple(dict.fromkeys(found)))


def _is_remote(location: str) -> bool:
    return location.startswith(("s3://", "http://", "https://")) or "\n" in location or not location.strip()
