"""The deploy's local inputs: working directory, template, samconfig and parameter files, checked and read.

Only reads: a missing file or an unreadable parameter file is a :class:`HookError` naming the
argument, raised before ``sam`` or AWS is touched. What the values mean is decided in :mod:`.parameters` and :mod:`.skip_record`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runway_ext.core.errors import HookError
from runway_ext.hooks.sam_deploy.args import SamDeployArgs
from runway_ext.hooks.sam_deploy.parameters import ParameterError, merge_parameters, parse_param_file, secret_parameter_names
from runway_ext.hooks.sam_deploy.skip_record import samconfig_tags

SAMCONFIG_NAMES = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
"""The samconfig files sam looks for in its working folder, in its order."""


@dataclass(frozen=True)
class DeployInputs:
    """The resolved files of one deploy and its merged parameters."""

    workdir: Path
    template: Path
    config_file: Path | None
    parameters: dict[str, str]
    """param_file overlaid with the ``parameters`` argument, every value checked."""
    no_echo: frozenset[str]
    """Names of the template's ``NoEcho`` parameters."""


def read_deploy_inputs(args: SamDeployArgs, cwd: Path) -> DeployInputs:
    """Resolve the deploy's paths against ``working_directory`` (itself relative to ``cwd``) and read its parameters."""
    workdir = existing_path(cwd, args.working_directory or Path("."), "working_directory", kind="dir")
    template = existing_path(workdir, args.template_file, "template_file")
    config_file = existing_path(workdir, args.config_file, "config_file") if args.config_file else None
    return DeployInputs(
        workdir=workdir,
        template=template,
        config_file=config_file,
        parameters=read_parameters(args, workdir),
        no_echo=frozenset(secret_parameter_names(_read_text(template) or "")),
    )


def existing_path(base: Path, path: Path, field: str, *, kind: Literal["file", "dir"] = "file") -> Path:
    """``path`` (relative to ``base``) resolved, or a HookError naming ``field`` if it is not a ``kind``."""
    resolved = path if path.is_absolute() else base / path
    if kind == "file" and not resolved.is_file():
        raise HookError(f"{field}: {resolved} is not a file")
    if kind == "dir" and not resolved.is_dir():
        raise HookError(f"{field}: {resolved} is not a folder")
    return resolved.resolve()


def read_parameters(args: SamDeployArgs, workdir: Path) -> dict[str, str]:
    """param_file merged with parameters (parameters win); every value checked."""
    from_file: dict[str, str] = {}
    if args.param_file is not None:
        path = existing_path(workdir, args.param_file, "param_file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HookError(f"param_file: cannot read {path}: {error}") from None
        try:
            from_file = parse_param_file(text, str(args.param_file))
        except ParameterError as error:
            raise HookError(f"param_file: {error}") from None
    try:
        return merge_parameters(from_file, args.parameters)
    except ParameterError as error:
        raise HookError(f"{'param_file' if args.param_file else 'parameters'}: {error}") from None


def read_samconfig_tags(inputs: DeployInputs, env: str | None) -> list[str]:
    """The ``tags`` of the samconfig sam reads for ``sam deploy`` (the ``config_file``, else the working folder's default).

    An unreadable samconfig yields none: sam itself reports it when it reads the file.
    """
    path = inputs.config_file or next((inputs.workdir / name for name in SAMCONFIG_NAMES if (inputs.workdir / name).is_file()), None)
    text = _read_text(path) if path is not None else None
    if path is None or text is None:
        return []
    import tomllib
    import yaml

    try:
        document = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError):
        return []
    return samconfig_tags(document, env) if isinstance(document, dict) else []


def _read_text(path: Path) -> str | None:
    """The file's text, or ``None`` when it cannot be read as UTF-8 (sam reports a bad template itself)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
