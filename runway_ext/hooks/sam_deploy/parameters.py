"""Template parameters for ``sam``: read, merged, checked and written where no command line shows them. Pure.

The ``param_file`` (JSON) and the ``parameters`` dict are merged (the dict wins) and written to a
small YAML file that ``sam`` reads with ``--parameter-overrides file://…``, so values never appear
on a command line. Each value is wrapped in double quotes in that file because ``sam`` strips one
pair of wrapping quotes from every override; that keeps spaces, ``=``, quotes and a value that is
itself quoted intact. ``sam`` also turns ``\\<space>``, ``\\"`` and ``\\'`` into the bare character
whatever the quoting, so a value holding one of those three pairs cannot pass unchanged and is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

PARAMETER_KEY = re.compile(r"^[A-Za-z0-9]{1,255}$")
"""CloudFormation's rule for template parameter names."""

# sam unescapes these pairs in every override value, quoted or not (samcli.cli.types).
_UNPASSABLE_PAIR = re.compile(r"\\[ \"']")


class ParameterError(ValueError):
    """A parameter (or the parameter file) that cannot be handed to ``sam`` as written."""


def parameter_text(value: object) -> str:
    """How a parameter value is sent: booleans as true/false, lists comma-joined, null as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(parameter_text(item) for item in value)
    return str(value)


def check_parameter(key: str, value: str) -> None:
    """Raise :class:`ParameterError` if ``key`` is not a parameter name or ``value`` cannot pass through ``sam``."""
    if not PARAMETER_KEY.match(key):
        raise ParameterError(f"{key!r} is not a CloudFormation parameter name (letters and digits only)")
    if "\x00" in value:
        raise ParameterError(f"{key}: value contains a NUL character")
    pair = _UNPASSABLE_PAIR.search(value)
    if pair:
        raise ParameterError(
            f"{key}: value contains {pair.group(0)!r}; sam turns a backslash before a space or quote into the bare "
            "character, so the value would not reach CloudFormation unchanged"
        )


def parse_param_file(text: str, source: str) -> dict[str, str]:
    """Read a parameter file's JSON: an object ``{"Key": "value"}``, CloudFormation's list
    ``[{"ParameterKey": …, "ParameterValue": …}]``, or ``{"Parameters": {…}}`` (CodePipeline's
    template configuration). ``source`` names the file in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParameterError(f"{source}: invalid JSON ({error.msg} at line {error.lineno})") from None
    if isinstance(data, dict) and set(data) <= {"Parameters", "Tags", "StackPolicy"} and isinstance(data.get("Parameters"), dict):
        data = data["Parameters"]
    pairs: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict,)):
                raise ParameterError(f"{source}: value of {key!r} must be a string, number, boolean or list")
            pairs[str(key)] = parameter_text(value)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if not isinstance(item, dict) or "ParameterKey" not in item:
                raise ParameterError(f'{source}: item {index} is not {{"ParameterKey": …, "ParameterValue": …}}')
            if item.get("UsePreviousValue"):
                raise ParameterError(f"{source}: item {index} uses UsePreviousValue, which sam deploy does not support")
            pairs[str(item["ParameterKey"])] = parameter_text(item.get("ParameterValue"))
    else:
        raise ParameterError(f"{source}: expected a JSON object of parameters or a list of ParameterKey/ParameterValue items")
    return pairs


def merge_parameters(from_file: Mapping[str, str], from_args: Mapping[str, object]) -> dict[str, str]:
    """The parameter file's values overlaid with the ``parameters`` dict (the dict wins); all checked."""
    merged = dict(from_file)
    merged.update({key: parameter_text(value) for key, value in from_args.items()})
    for key, value in merged.items():
        check_parameter(key, value)
    return merged


def overrides_document(parameters: Mapping[str, str]) -> str:
    """The ``--parameter-overrides file://…`` document (YAML, written in its JSON subset).

    Each value is wrapped in one pair of double quotes, which ``sam`` strips again, so a value
    that itself starts and ends with a quote keeps its quotes.
    """
    return json.dumps({key: f'"{value}"' for key, value in parameters.items()}, indent=2, ensure_ascii=True) + "\n"


def secret_parameter_names(template_text: str) -> set[str]:
    """Names of the template's ``NoEcho`` parameters (their values are treated as secrets).

    The template is read with a YAML loader that accepts CloudFormation's short tags
    (``!Ref``…); an unreadable template yields an empty set (``sam`` reports it properly).
    """
    import yaml

    class _TolerantLoader(yaml.SafeLoader):
        pass

    _TolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        document = yaml.load(template_text, Loader=_TolerantLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError:
        return set()
    parameters = document.get("Parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict):
        return set()
    return {str(name) for name, spec in parameters.items() if isinstance(spec, dict) and str(spec.get("NoEcho", "")).lower() == "true"}
