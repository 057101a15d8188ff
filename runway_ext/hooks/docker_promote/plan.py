"""The promotion's decisions, over data only.

Contract: no I/O. Given what ECR holds on both sides, :func:`plan_promotion` says whether there is
anything to copy, and :func:`copy_command` is the one command line that copies an image by digest.
"""

from __future__ import annotations

from dataclasses import dataclass

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_build_push.ecr import EcrImage


@dataclass(frozen=True)
class PromotionPlan:
    """Copy or not, and why."""

    copy: bool
    reason: str


def plan_promotion(source: EcrImage, destination: EcrImage | None, destination_tag: str) -> PromotionPlan:
    """Nothing to do when the destination tag already names the source digest; else copy."""
    if destination is not None and destination.digest == source.digest:
        return PromotionPlan(False, f"the destination already has {source.digest} as {destination_tag}")
    if destination is not None:
        return PromotionPlan(True, f"{destination_tag} names {destination.digest} there; it moves to {source.digest}")
    return PromotionPlan(True, f"no {destination_tag} in the destination")


def copy_command(docker: str, source_uri: str, destination_ref: str) -> list[str]:
    """``docker buildx imagetools create``: copy one image (an index and every manifest it lists) by digest, bytes unchanged."""
    return [docker, "buildx", "imagetools", "create", "--tag", destination_ref, source_uri]


def check_same_digest(what: str, expected: str, found: str) -> None:
    """A copy must keep the digest; fail naming both when it did not."""
    if found != expected:
        raise HookError(f"{what}: the copy has digest {found}, not the source's {expected}; nothing was tagged")
