"""Canary: every third-party internal the package patches or subclasses is still where, and what, it was.

Local mode patches moto (``runway_ext.local.moto_cloudformation``, ``runway_ext.local.moto_invalidations``)
and the Docker hook subclasses the docker SDK's ``.dockerignore`` matcher
(``runway_ext.hooks.docker_build_push.context_hash``). A release that moves one of them would break
those quietly (a patch that no longer applies, a resource moto skips again); this test names each one
that moved, so raising the pinned upper bound of ``moto`` in pyproject.toml is one run of it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import boto3
import pytest


def _resolve(dotted: str) -> Any:
    """The object at ``package.module.Class.attribute`` (the longest importable module prefix, then attributes)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


def _parameters(function: Any) -> list[str]:
    """Parameter names of the original function (a patch made with functools.wraps is looked through)."""
    return list(inspect.signature(inspect.unwrap(function)).parameters)


def _abstract_methods(cls: type) -> set[str]:
    """The methods ``cls`` marks ``@abstractmethod`` (moto's base is not an ABC, so there is no ``__abstractmethods__``)."""
    return {name for name, value in vars(cls).items() if getattr(value, "__isabstractmethod__", False)}


def _unimplemented(base: type) -> dict[type, set[str]]:
    """Each local model with the abstract methods of ``base`` it takes from ``base`` itself (moto's stubs)."""
    from runway_ext.local import moto_cloudformation

    models = [value for value in vars(moto_cloudformation).values() if isinstance(value, type) and base in value.__bases__]
    found: dict[type, set[str]] = {}
    for model in models:
        missing = {name for name in _abstract_methods(base) if next(k for k in model.__mro__ if name in vars(k)) is base}
        if callable(getattr(model, "delete", None)):  # moto deletes through resource.delete() first (checked below)
            missing.discard("delete_from_cloudformation_json")
        if missing:
            found[model] = missing
    return found


def _source(function: Any) -> str:
    return inspect.getsource(inspect.unwrap(function))


def _moto_own(cls: type) -> type:
    """moto's own class behind local mode's replacement (``runway_ext.local.moto_invalidations`` swaps in a subclass)."""
    return next(klass for klass in cls.__mro__ if "_runway_ext_timed" not in vars(klass))


# (internal, what the package relies on) -> a check returning a problem or None
CHECKS: dict[str, Callable[[Any], str | None]] = {
    # runway_ext.local.moto_cloudformation: the two patched methods and the helper one of them calls
    "moto.s3.models.FakeBucket.create_from_cloudformation_json": lambda found: None
    if _parameters(found)[:4] == ["resource_name", "cloudformation_json", "account_id", "region_name"]
    else f"parameters are now {_parameters(found)}",
    "moto.cloudformation.models.CloudFormationBackend.update_stack": lambda found: None
    if _parameters(found) == ["self", "name", "template", "role_arn", "parameters", "tags"]
    else f"parameters are now {_parameters(found)}",
    "moto.cloudformation.models.CloudFormationBackend._resolve_update_parameters": lambda found: None
    if _parameters(found) == ["self", "instance", "incoming_params"]
    else f"parameters are now {_parameters(found)}",
    # moto finds resource models through these caches over CloudFormationModel.__subclasses__()
    "moto.cloudformation.parsing.get_model_map": lambda found: None if hasattr(found, "cache_clear") else "no longer an lru_cache",
    "moto.cloudformation.parsing.get_model_list": lambda found: None
    if hasattr(found, "cache_clear") and "__subclasses__" in _source(found)
    else "no longer CloudFormationModel.__subclasses__() behind an lru_cache",
    "moto.cloudformation.parsing.get_name_type_map": lambda found: None if hasattr(found, "cache_clear") else "no longer an lru_cache",
    # every abstract method of moto's base is implemented by each local model (not inherited as moto's stub)
    "moto.core.common_models.CloudFormationModel": lambda found: "; ".join(
        f"{model.__name__} does not implement {', '.join(sorted(missing))}" for model, missing in _unimplemented(found).items()
    )
    or None,
    "moto.cloudformation.parsing.ResourceMap._delete_resource": lambda found: None
    if "parsed_resource.delete(" in _source(found)
    else "no longer deletes through the resource's own delete()",
    "moto.ecr.models.Repository._determine_encryption_config": lambda found: None,
    "moto.ecr.models.ECRBackend._resolve_image_tag_mutability": lambda found: None
    if _parameters(found) == ["self", "repository", "proposed_image_tag"]
    else f"parameters are now {_parameters(found)}",
    # runway_ext.local.moto_invalidations replaces the module's Invalidation class
    "moto.cloudfront.models.CloudFrontBackend.create_invalidation": lambda found: None
    if "Invalidation(" in _source(found)
    else "no longer builds models.Invalidation by its module name",
    "moto.cloudfront.models.Invalidation": lambda found: None
    if "self.status" in _source(_moto_own(found).__init__)
    else "no longer sets self.status",
    # runway_ext.hooks.docker_build_push.context_hash subclasses the SDK's .dockerignore matcher
    "docker.utils.build.Pattern": lambda found: None
    if {"cleaned_pattern", "dirs"} <= set(vars(found("a/b")))
    else f"a pattern's attributes are now {sorted(vars(found('a/b')))}",
    "docker.utils.build.PatternMatcher": lambda found: None
    if callable(getattr(found, "walk", None)) and "patterns" in vars(found(["a"]))
    else "no walk() or patterns attribute",
    "docker.utils.build.normalize_slashes": lambda found: None,
    "docker.utils.fnmatch.fnmatchcase": lambda found: None,
}

STACK_ATTRIBUTES = ("status", "template", "parameters", "tags", "role_arn")
"""What the no-op update check reads from a moto stack."""


def test_every_patched_internal_is_where_it_was(aws) -> None:  # type: ignore[no-untyped-def]
    moved: list[str] = []
    for dotted, check in CHECKS.items():
        try:
            problem = check(_resolve(dotted))
        except (ImportError, AttributeError, TypeError, OSError) as error:
            problem = f"gone ({type(error).__name__}: {error})"
        if problem:
            moved.append(f"{dotted}: {problem}")
    from moto.cloudformation.models import cloudformation_backends

    boto3.client("cloudformation").create_stack(
        StackName="canary", TemplateBody='{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'
    )
    stack = cloudformation_backends["123456789012"]["us-east-1"].get_stack("canary")
    moved += [f"moto.cloudformation.models.Stack.{name}: gone" for name in STACK_ATTRIBUTES if not hasattr(stack, name)]
    assert not moved, "patched third-party internals moved (see runway_ext/local/moto_cloudformation.py):\n" + "\n".join(moved)


def test_the_canary_names_what_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a method whose parameters change is named with its new parameters."""
    from moto.cloudformation.models import CloudFormationBackend

    def update_stack(self: Any, name: str, template: str) -> None: ...

    monkeypatch.setattr(CloudFormationBackend, "update_stack", update_stack)
    dotted = "moto.cloudformation.models.CloudFormationBackend.update_stack"
    assert CHECKS[dotted](_resolve(dotted)) == "parameters are now ['self', 'name', 'template']"
