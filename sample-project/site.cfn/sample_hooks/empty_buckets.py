"""Empty the buckets a stack names in its outputs, so CloudFormation can delete them; a stack that is gone is a success.

A stack cannot delete a bucket that still holds objects (or, with versioning, old versions and delete markers),
so ``pre_destroy`` empties them first. The bucket names come from the stack's outputs at the time the hook runs:
when the stack does not exist (a second destroy, or a deploy that never happened) or a bucket is already gone,
there is nothing to do and the hook says so. Every version and delete marker is removed, 1000 per request.

    python sample_hooks/empty_buckets.py --stack-name sample-dev-site --output-keys BucketName
"""

from __future__ import annotations

from typing import Any

from runway_ext import HookArgs, HookContext, HookError, hook, run_module


class EmptyBucketsArgs(HookArgs):
    """Which stack, and which of its outputs hold bucket names."""

    stack_name: str
    """The stack whose buckets are emptied."""
    output_keys: list[str] = ["BucketName"]
    """Outputs of that stack holding bucket names."""
    region: str | None = None
    """AWS region (default: the deploy's)."""


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _empty(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker of ``bucket``; return how many were deleted."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": item["Key"], "VersionId": item["VersionId"]} for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise HookError(f"bucket {bucket}: could not delete {first.get('Key')}: {first.get('Message')}")
            deleted += len(doomed[start : start + 1000])
    return deleted


@hook("empty_buckets", EmptyBucketsArgs, summary="Empty the buckets a stack outputs, before the stack is deleted.")
def cfngin_hook(args: EmptyBucketsArgs, ctx: HookContext) -> dict[str, Any]:
    """Empty each bucket named by ``output_keys`` of ``stack_name``; nothing to do when the stack is gone."""
    region = ctx.region(args.region)
    cloudformation = ctx.client("cloudformation", region)
    try:
        stacks = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"]
    except Exception as error:  # botocore's ClientError, without importing botocore at module level
        if _error_code(error) == "ValidationError" and "does not exist" in str(error):
            ctx.log.info("stack %s does not exist: no bucket to empty", args.stack_name)
            return {"stack_name": args.stack_name, "emptied": {}, "stack_exists": False}
        raise
    outputs = {item["OutputKey"]: item.get("OutputValue", "") for item in stacks[0].get("Outputs", [])}
    s3 = ctx.client("s3", region)
    emptied: dict[str, int] = {}
    for key in args.output_keys:
        bucket = outputs.get(key)
        if not bucket:
            ctx.log.info("stack %s has no output %s: skipped", args.stack_name, key)
            continue
        try:
            emptied[bucket] = _empty(s3, bucket)
        except Exception as error:
            if _error_code(error) != "NoSuchBucket":
                raise
            ctx.log.info("bucket %s does not exist any more: nothing to empty", bucket)
            continue
        ctx.log.info("bucket %s emptied: %d object version(s) deleted", bucket, emptied[bucket])
    return {"stack_name": args.stack_name, "emptied": emptied, "stack_exists": True}


COMMAND = cfngin_hook
if __name__ == "__main__":
    run_module(COMMAND)
