"""The bodies of the ``sam_deploy`` and ``sam_delete`` hooks: validate → observe → plan → act → result.

Each body only orchestrates: local inputs come from :mod:`.inputs`, the stack from :mod:`.stack`,
every decision from the pure modules (:mod:`.plan`, :mod:`.skip_record`, :mod:`.commands`), and ``sam`` runs through :mod:`.sam_cli`. The region is the
``region`` argument, else the deploy's (inside Runway) or the environment's (CLI), and is used for
the CloudFormation client, sam's environment and the result alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, HookGroup, hook
from runway_ext.core.log import register_secrets
from runway_ext.core.waiting import Deadline
from runway_ext.hooks.sam_deploy.args import SamDeleteArgs, SamDeleteResult, SamDeployArgs, SamDeployResult
from runway_ext.hooks.sam_deploy.commands import DeployTarget, SamCommonOptions, build_command, build_layout, delete_command, deploy_command
from runway_ext.hooks.sam_deploy.fingerprint import fingerprint_inputs, sam_identity
from runway_ext.hooks.sam_deploy.inputs import read_deploy_inputs, read_samconfig_tags
from runway_ext.hooks.sam_deploy.plan import deploy_outcome, outputs_dict, plan_delete, plan_deploy, plan_retain_retry, retains_resources
from runway_ext.hooks.sam_deploy.sam_cli import SamRun, find_sam, locate_sam, session_credentials
from runway_ext.hooks.sam_deploy.skip_record import CHANGING_INPUTS, plan_skip, record_tag, unchanged_by_others
from runway_ext.hooks.sam_deploy.stack import (
    change_set_ids,
    delete_stack_and_wait,
    describe_stack,
    execute_change_set,
    failed_resources,
    latest_event_id,
    new_change_set,
    present_resources,
    stack_operations_since,
    start_delete,
    wait_until_settled,
)

# -- deploy ------------------------------------------------------------------------------------


@hook("sam_deploy", SamDeployArgs, summary="Build and deploy an AWS SAM application with the sam CLI (never prompts).")
def cfngin_hook(args: SamDeployArgs, ctx: HookContext) -> SamDeployResult:
    """Build (unless skipped) and deploy a SAM application; return the stack's status and Outputs.

    When the stack provably holds these inputs already (:func:`.skip_record.plan_skip`), neither
    ``sam build`` nor ``sam deploy`` runs and the stack's Outputs are returned as they are.
    """
    deadline = Deadline(args.timeout)
    region = ctx.region(args.region)
    name = args.stack_name
    inputs = read_deploy_inputs(args, Path.cwd())
    secret_names = register_secrets(inputs.parameters, also=inputs.no_echo)
    sam_path = locate_sam(args.sam_executable)
    fingerprint = fingerprint_inputs(args, inputs, region, sam_identity(sam_path), secret_names)
    if fingerprint.unprovable:
        ctx.log.info("stack %s: a skip cannot be proven (%s); sam deploy decides (no changes is a success)", name, fingerprint.unprovable)
    cfn = ctx.client("cloudformation", region)

    stack = describe_stack(cfn, name)
    decision = plan_deploy(name, stack["StackStatus"] if stack else None, delete_failed_stack=args.delete_failed_stack)
    if decision.action == "wait" and stack is not None:
        stack = wait_until_settled(cfn, stack, deadline, ctx.log)
        decision = plan_deploy(name, stack["StackStatus"] if stack else None, delete_failed_stack=args.delete_failed_stack)
    if decision.action == "refuse":
        raise HookError(decision.reason)

    skip = plan_skip(stack if decision.action == "deploy" else None, fingerprint.digest, force=args.force)
    if skip.skip and stack is not None and skip.record is not None:
        skip = unchanged_by_others(stack_operations_since(cfn, stack, skip.record.marker))
    if skip.skip and stack is not None:
        ctx.log.info("stack %s: unchanged (%s; %d files checked); sam build and deploy skipped", name, skip.reason, fingerprint.files)
        return SamDeployResult(
            stack_name=name,
            stack_id=stack["StackId"],
            region=region,
            status=stack["StackStatus"],
            action="unchanged",
            changed=False,
            outputs=outputs_dict(stack),
            built=False,
            skipped=True,
            fingerprint=fingerprint.digest,
        )
    ctx.log.debug("stack %s: deploying (%s)", name, skip.reason)

    sam = find_sam(args.sam_executable, deadline, ctx.log)
    credentials = session_credentials(ctx.session(region), region, ctx.log)
    with SamRun(credentials, region, ctx.log) as run:
        common = SamCommonOptions(
            sam=sam,
            overrides_file=run.write_overrides(inputs.parameters),
            config_file=str(inputs.config_file) if inputs.config_file else None,
            config_env=args.env,
        )
        deploy_template = inputs.template
        recorded = fingerprint.digest
        if not args.skip_build:
            build_dir, built_template = build_layout(inputs.template)
            ctx.log.info("sam build %s", inputs.template.name)
            run.run(build_command(common, str(inputs.template), str(build_dir)), what="sam build", cwd=inputs.workdir, deadline=deadline)
            deploy_template = Path(built_template)
            if recorded is not None and fingerprint_inputs(args, inputs, region, sam_identity(sam_path), secret_names).digest != recorded:
                ctx.log.warning("stack %s: inputs changed while sam build ran; the next deploy will not be skipped", name)
                recorded = CHANGING_INPUTS

        replaced = None
        if decision.action == "delete_then_deploy" and stack is not None:
            ctx.log.warning("%s", decision.reason)
            delete_stack_and_wait(cfn, stack, deadline, ctx.log)
            replaced, stack = stack["StackStatus"], None

        previous_id = stack["StackId"] if stack else None
        previous_event = latest_event_id(cfn, previous_id) if previous_id else None
        known_change_sets = change_set_ids(cfn, name) if stack else set()
        tags = read_samconfig_tags(inputs, args.env)
        if recorded is not None:
            tags.append(record_tag(recorded, previous_event))
        target = DeployTarget(
            stack_name=name,
            region=region,
            capabilities=args.capabilities,
            s3_bucket=args.s3_bucket,
            s3_prefix=args.s3_prefix,
            resolve_s3=args.resolve_s3,
            execute=args.wait,
            tags=tags,
        )
        if args.create_s3_bucket and args.s3_bucket:
            ensure_artifacts_bucket(ctx.client("s3", region), args.s3_bucket, region, ctx.log)
        ctx.log.info("sam deploy %s to %s", name, region)
        try:
            run.run(deploy_command(common, str(deploy_template), target), what="sam deploy", cwd=inputs.workdir, deadline=deadline)
        except HookError as error:
            if NO_BUCKET_MESSAGE in str(error):
                raise HookError(NO_BUCKET_FIX) from None
            raise

    change_set = None if args.wait else new_change_set(cfn, name, known_change_sets)
    if change_set is not None:
        execute_change_set(cfn, name, change_set)
        ctx.log.info("change set of %s started; not waiting (wait: false)", name)

    final = describe_stack(cfn, name)
    if final is None:
        raise HookError(f"sam deploy finished but stack {name} does not exist in {region}")
    action, changed = deploy_outcome(
        waited=args.wait,
        change_set_started=change_set is not None,
        previous_stack_id=previous_id,
        final_stack_id=final["StackId"],
        previous_event=previous_event,
        latest_event=latest_event_id(cfn, final["StackId"]) if args.wait else None,
    )
    if action == "unchanged":
        ctx.log.info("stack %s: no changes to deploy (success)", name)
    else:
        ctx.log.info("stack %s: %s (%s)", name, final["StackStatus"], action)
    return SamDeployResult(
        stack_name=name,
        stack_id=final["StackId"],
        region=region,
        status=final["StackStatus"],
        action=action,
        changed=changed,
        outputs=outputs_dict(final),
        built=not args.skip_build,
        replaced_failed_stack=replaced,
        fingerprint=fingerprint.digest,
    )


NO_BUCKET_MESSAGE = "S3 Bucket not specified"
"""What sam deploy says when the app has code or a template to upload and no bucket was given."""
NO_BUCKET_FIX = (
    "s3_bucket: sam deploy needs a bucket for this app's code and template: set s3_bucket to a bucket of yours "
    "(add create_s3_bucket: true to have it created once and reused), or resolve_s3: true for SAM's managed bucket"
)


def ensure_artifacts_bucket(s3: Any, bucket: str, region: str, log: Any) -> None:
    """Create ``bucket`` (private, public access blocked) unless it exists; a bucket this account cannot use is an error."""
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except s3.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise HookError(
                f"s3_bucket: bucket {bucket} exists but this account cannot use it ({code or error}); choose another name"
            ) from None
    options: dict[str, Any] = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        return  # created by a deploy running at the same time
    except s3.exceptions.BucketAlreadyExists:
        raise HookError(f"s3_bucket: the bucket name {bucket} is taken by another account; choose another name") from None
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    log.info("created the artifacts bucket %s in %s (create_s3_bucket: true); later deploys reuse it", bucket, region)


# -- delete ------------------------------------------------------------------------------------

ABSENT_STATUS = "DOES_NOT_EXIST"
"""The delete result's ``status`` when there was no stack to delete (CloudFormation has no status for that)."""


@hook("sam_delete", SamDeleteArgs, summary="Delete an AWS SAM application's stack (sam delete --no-prompts).")
def cfngin_delete_hook(args: SamDeleteArgs, ctx: HookContext) -> SamDeleteResult:
    """Delete the stack and its uploaded artifacts; retain listed resources where CloudFormation allows it."""
    deadline = Deadline(args.timeout)
    region = ctx.region(args.region)
    name = args.stack_name
    sam = find_sam(args.sam_executable, deadline, ctx.log)
    credentials = session_credentials(ctx.session(region), region, ctx.log)
    cfn = ctx.client("cloudformation", region)

    stack = describe_stack(cfn, name)
    if stack is not None and plan_delete(stack["StackStatus"], args.retain_resources, wait=args.wait).action == "wait":
        stack = wait_until_settled(cfn, stack, deadline, ctx.log)
    status = stack["StackStatus"] if stack else None
    present = present_resources(cfn, stack["StackId"]) if stack and retains_resources(status, args.retain_resources) else []
    decision = plan_delete(status, args.retain_resources, present, wait=args.wait)
    if decision.reason and decision.action == "sam_delete":
        ctx.log.info("%s", decision.reason)

    deleted, retained, final_status = True, list(decision.retain), "DELETE_COMPLETE"
    if decision.action == "nothing" or stack is None:
        ctx.log.info("stack %s does not exist in %s; nothing to delete", name, region)
        deleted, final_status = False, ABSENT_STATUS
    elif decision.action == "start_delete":
        start_delete(cfn, stack, retained)
        ctx.log.info("deletion of %s started; not waiting (wait: false; sam's uploaded artifacts are left in place)", name)
        current = describe_stack(cfn, stack["StackId"])
        final_status = current["StackStatus"] if current else "DELETE_COMPLETE"
    elif decision.action == "delete_retaining":
        ctx.log.info("stack %s is DELETE_FAILED; deleting it and retaining %s", name, ", ".join(retained) or "nothing")
        delete_stack_and_wait(cfn, stack, deadline, ctx.log, retain=retained)
    else:
        with SamRun(credentials, region, ctx.log) as run:
            retained = _sam_delete(run, delete_command(sam, name, region), cfn, stack, args.retain_resources, deadline, ctx)
        ctx.log.info("stack %s deleted", name)
    return SamDeleteResult(stack_name=name, region=region, status=final_status, deleted=deleted, retained_resources=retained)


def _sam_delete(
    run: SamRun, argv: list[str], cfn: Any, stack: dict[str, Any], retain_resources: list[str], deadline: Deadline, ctx: HookContext
) -> list[str]:
    """Run ``sam delete`` (``argv``). If that leaves the stack DELETE_FAILED and every resource that failed is
    in ``retain_resources``, delete it again keeping those. Returns the resources retained."""
    name, stack_id = stack["StackName"], stack["StackId"]
    try:
        run.run(argv, what="sam delete", cwd=Path.cwd(), deadline=deadline)
    except HookError as error:
        current = describe_stack(cfn, stack_id)
        if current is None or current["StackStatus"] != "DELETE_FAILED":
            raise
        retained, blocking = plan_retain_retry(failed_resources(cfn, stack_id), retain_resources)
        if blocking or not retained:
            raise HookError(
                f"stack {name} is DELETE_FAILED; resources that could not be deleted: "
                f"{'; '.join(blocking) or 'see the stack events'}; list them in retain_resources to keep them "
                f"and finish the deletion\n{error}"
            ) from None
        ctx.log.info("stack %s is DELETE_FAILED; deleting it again and retaining %s", name, ", ".join(retained))
        delete_stack_and_wait(cfn, current, deadline, ctx.log, retain=retained)
        return retained
    return []


COMMAND = HookGroup(
    "sam_deploy",
    {"deploy": cfngin_hook, "delete": cfngin_delete_hook},
    summary="Deploy or delete an AWS SAM application with the sam CLI.",
)
"""The ``sam_deploy`` command: ``deploy`` and ``delete`` actions."""
