"""The env file generator hook (CFNgin entry point ``cfngin_hook`` and CLI ``COMMAND``).

Thin: register the secret-looking values, read the current file, plan, refuse or write, and build
the result in one place.
"""

from __future__ import annotations

from runway_ext.core.errors import HookError
from runway_ext.core.hook import HookContext, describe_os_error, hook
from runway_ext.core.log import MASK, looks_secret, register_secrets
from runway_ext.hooks.env_file_generator.args import EnvFileArgs, EnvFileResult
from runway_ext.hooks.env_file_generator.env_file import read_existing, write_env_file
from runway_ext.hooks.env_file_generator.plan import make_header, outcome, plan_env_file


@hook("env_file_generator", EnvFileArgs, summary="Write a .env file from variables (atomic, 0600, backed up).")
def cfngin_hook(args: EnvFileArgs, ctx: HookContext) -> EnvFileResult:
    """Write (or check) the .env file described by ``args``."""
    variables = args.text_variables()
    register_secrets(variables)
    for name, value in variables.items():
        ctx.log.debug("variable %s=%s", name, MASK if looks_secret(name, value) else value)
    path = args.output_file
    keys = list(variables)
    plan = plan_env_file(args, read_existing(path), make_header())
    if plan.action == "drift":
        raise HookError(f"output_file: {path} {plan.reason} (check mode; nothing written)")
    if plan.action == "refuse":
        raise HookError(f"output_file: {path} {plan.reason}")
    backup = None
    if plan.writes:
        try:
            backup = write_env_file(path, plan.content, backup=plan.backup)
        except OSError as error:  # a read-only folder, a parent that is a file: name the output file, not a temp file
            raise HookError(f"output_file: {describe_os_error(error)}") from None
        if backup is not None:
            ctx.log.info("backed up %s to %s", path, backup.name)
        ctx.log.info("%s %s with %d variables: %s", outcome(plan, check=args.check), path, len(keys), ", ".join(keys))
    else:
        ctx.log.info("%s already holds these %d variables; not rewritten", path, len(keys))
    return EnvFileResult(
        output_file=str(path), action=outcome(plan, check=args.check), keys=keys, backup_file=str(backup) if backup else None
    )


COMMAND = cfngin_hook
