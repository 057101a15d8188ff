"""Run a hook the way a Runway deploy does, for tests: a real CfnginContext, provider and hook loader.

:func:`make_cfngin_context` builds a real :class:`runway.context.CfnginContext` (not a mock) from the
current environment, and :func:`run_hook_as_runway` hands one hook definition to Runway's own
``handle_hooks``: the hook is imported from its dotted ``path``, its args go through Runway's variable
resolution (``${envvar …}``, ``${ssm …}``, ``${cfn …}``, ``${hook_data …}``, registered lookups),
``enabled``/``required``/``data_key`` behave as in ``runway deploy``, and the run's hook_data is
returned. The pytest plugin (:mod:`runway_ext.testing.pytest_plugin`) wraps both as fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from runway.context import CfnginContext

Stage = Literal["pre_deploy", "post_deploy", "pre_destroy", "post_destroy"]
DEFAULT_NAMESPACE = "test"
DEFAULT_ENVIRONMENT = "test"


class HookRunFailed(AssertionError):
    """A ``required`` hook returned a falsy result: Runway would have stopped the deploy (exit code 1)."""


def make_cfngin_context(
    folder: Path,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    deploy_environment: str = DEFAULT_ENVIRONMENT,
    parameters: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CfnginContext:
    """A real CfnginContext for a CFNgin module in ``folder`` (its config file: ``folder/config.yml``).

    The deploy environment is read from ``environ`` (default: ``os.environ`` now), so AWS clients made
    from the context use the ``AWS_*`` variables set at that moment. ``parameters`` are what an
    environment file would hold (``namespace``, ``environment`` and ``region`` are added).
    """
    from runway.config import CfnginConfig
    from runway.context import CfnginContext
    from runway.core.components import DeployEnvironment

    env = DeployEnvironment(
        environ=dict(os.environ if environ is None else environ),
        explicit_name=deploy_environment,
        ignore_git_branch=True,
        root_dir=folder,
    )
    config = CfnginConfig.parse_obj({"namespace": namespace, "cfngin_bucket": ""})
    merged = {"namespace": namespace, "environment": deploy_environment, "region": env.aws_region, **(parameters or {})}
    return CfnginContext(
        config=config,
        config_path=folder / "config.yml",
        deploy_environment=env,
        parameters=merged,
        work_dir=folder / ".runway",
    )


def hook_path(target: str | Any) -> str:
    """The dotted ``path:`` of a hook: a string as given, or ``module.name`` of a hook object."""
    if isinstance(target, str):
        return target
    module, name = getattr(target, "__module__", None), getattr(target, "__name__", None)
    if not module or not name or module == "__main__":
        raise TypeError(f"cannot tell the importable path of {target!r}; give the path as a string")
    return f"{module}.{name}"


@contextmanager
def registered_lookups(lookups: Mapping[str, str | type]) -> Iterator[None]:
    """Register CFNgin lookups as a config's ``lookups:`` block does, and unregister them afterwards."""
    from runway.cfngin.lookups.registry import CFNGIN_LOOKUP_HANDLERS, register_lookup_handler

    saved = {name: CFNGIN_LOOKUP_HANDLERS.get(name) for name in lookups}
    for name, handler in lookups.items():
        register_lookup_handler(name, handler)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                CFNGIN_LOOKUP_HANDLERS.pop(name, None)
            else:
                CFNGIN_LOOKUP_HANDLERS[name] = previous


def run_hook_as_runway(
    context: CfnginContext,
    path: str | Any,
    args: Mapping[str, Any] | None = None,
    *,
    stage: Stage = "pre_deploy",
    required: bool = True,
    enabled: bool = True,
    data_key: str | None = None,
    lookups: Mapping[str, str | type] | None = None,
) -> dict[str, Any]:
    """Run one hook definition through Runway's ``handle_hooks`` and return the context's hook_data.

    Raises :class:`HookRunFailed` when a ``required`` hook fails (Runway exits 1 there); an exception
    from a required hook or a failed lookup propagates as it does in Runway. A hook that is not
    ``required`` only logs a warning on failure, and a disabled one is not imported at all.
    """
    from runway.cfngin.hooks.utils import handle_hooks
    from runway.cfngin.providers.aws.default import ProviderBuilder
    from runway.config.models.cfngin import CfnginHookDefinitionModel

    definition = CfnginHookDefinitionModel(
        path=hook_path(path), args=dict(args or {}), required=required, enabled=enabled, data_key=data_key
    )
    provider = ProviderBuilder(region=context.env.aws_region).build()
    with registered_lookups(lookups or {}):
        try:
            handle_hooks(stage, [definition], provider, context)
        except SystemExit as stop:
            raise HookRunFailed(
                f"required hook {definition.path} failed in {stage} (Runway would exit {stop.code}); see its log lines"
            ) from None
    return context.hook_data
