"""The base args model every hook's arguments derive from."""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationError, WrapValidator
from pydantic_core import ErrorDetails

from runway_ext.core.names import bucket_name_problem, region_problem

_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _environment_name(name: str) -> str:
    if not _ENVIRONMENT_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid environment name (letters, digits, '_', '.', '-'; no slashes)")
    return name


EnvironmentName = Annotated[str, AfterValidator(_environment_name)]
"""A deploy environment name (``dev``, ``prod-eu``): safe in file names, tags and stack names."""


def refused_by(rule: Callable[[str], str | None]) -> AfterValidator:
    """A field validator from a naming rule that returns the problem with a value (or ``None``): the problem is the message."""

    def check(value: str) -> str:
        problem = rule(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


BucketName = Annotated[str, refused_by(bucket_name_problem)]
"""An S3 bucket name, checked by :func:`~runway_ext.core.names.bucket_name_problem` before anything is sent."""
Region = Annotated[str, refused_by(region_problem)]
"""An AWS region name (``eu-west-1``), checked by :func:`~runway_ext.core.names.region_problem`."""


class HookArgs(BaseModel):
    """Base of every hook's arguments: the single source for config.yml keys and CLI flags.

    Unknown keys are refused (a typo in config.yml is an error, not a silently ignored
    option). Each field's docstring is its documentation and its CLI help.
    """

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        frozen=True,
    )

    verbose: bool = False
    """Log every step in detail (secret values are still redacted)."""


_UNION_MEMBER = re.compile(r"(str|int|float|bool|none|bytes|[a-z-]+\[.*\])")
_MAX_LINE = 300
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def describe_validation_error(error: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """Turn a pydantic error into one short ``field: problem`` line per bad field.

    A value matching none of a union's members is one line naming what was expected (pydantic
    reports one error per member, each under the member's name), and a line quoting a huge value is
    cut to a readable length. With ``model`` (the model that raised), a location part is a union
    member only where the model's annotation really is a union — an argument or key named ``bool``
    or ``str`` is a name, not a member — and a problem of the model as a whole (a validator of
    several fields) is named by the fields its message mentions (``paths, paths_from_hook_data: …``).
    """
    items = error.errors(include_url=False)
    locations: list[tuple[object, ...]] = [tuple(item["loc"]) for item in items]
    lines: list[str] = []
    unions: dict[tuple[object, ...], tuple[int, list[str]]] = {}  # union location -> (its line, member names)
    for item, loc in zip(items, locations, strict=True):
        split = _union_split(model, loc, locations)
        if split is not None:
            parent, member = loc[:split], str(loc[split])
            if parent not in unions:
                unions[parent] = (len(lines), [])
                lines.append("")
            unions[parent][1].append("null" if member == "none" else member)
            continue
        where = _location(loc) if loc or model is None else _fields_named(model, _message(item))
        lines.append(_shorten(f"{where}: {_message(item)}"))
    for parent, (index, members) in unions.items():
        lines[index] = _shorten(f"{_location(parent)}: expected {' or '.join(dict.fromkeys(members))}")
    return lines


def _union_split(model: type[BaseModel] | None, loc: tuple[object, ...], locations: list[tuple[object, ...]]) -> int | None:
    """Where in ``loc`` a union member's name stands (so ``loc[:index]`` is the union's location), or ``None``."""
    if model is None:  # no annotations to go by: a last part that looks like a member, beside its siblings
        if len(loc) >= 2 and isinstance(loc[-1], str) and _UNION_MEMBER.fullmatch(loc[-1]):
            return len(loc) - 1 if sum(other[:-1] == loc[:-1] for other in locations) > 1 else None
        return None
    for index in range(1, len(loc)):
        annotation = _annotation_at(model, loc[:index])
        if annotation is None:
            return None
        if _is_union(annotation) and loc[index] != "[key]":  # a dict key's own error is not a member's
            return index
    return None


def _annotation_at(model: type[BaseModel], loc: tuple[object, ...]) -> Any:
    """The annotation of the value at ``loc`` (a field, then keys, indexes and union member names); ``None`` if unknown."""
    info = model.model_fields.get(loc[0]) if isinstance(loc[0], str) else None
    if info is None:
        return None
    annotation: Any = info.annotation
    for part in loc[1:]:
        annotation = _strip(annotation)
        origin = get_origin(annotation)
        members = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        if _is_union(annotation):
            annotation = next((member for member in members if _member_name(member) == str(part).split("[", 1)[0]), None)
        elif origin in (list, set, frozenset) or (origin is tuple and len(members) == 1):
            annotation = members[0] if members else None
        elif origin is tuple:
            annotation = members[part] if isinstance(part, int) and part < len(members) else None
        elif origin is dict and len(members) == 2:
            annotation = members[1]
        elif (
            isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str) and part in annotation.model_fields
        ):
            annotation = annotation.model_fields[part].annotation
        else:
            return None
        if annotation is None:
            return None
    return annotation


def _strip(annotation: Any) -> Any:
    """``Annotated`` and ``Optional`` wrappers removed; a type validated by a function of its own stays opaque (``object``)."""
    while True:
        if get_origin(annotation) is Annotated:
            if any(isinstance(meta, (PlainValidator, WrapValidator, BeforeValidator)) for meta in annotation.__metadata__):
                return object
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            members = [member for member in get_args(annotation) if member is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_union(annotation: Any) -> bool:
    """Whether pydantic tries several members for a value of this type (``None`` aside)."""
    annotation = _strip(annotation)
    return get_origin(annotation) in (Union, types.UnionType)


def _member_name(member: Any) -> str:
    """The name pydantic reports a union member under (before any ``[…]``): ``str``, ``list``, ``none``, a model's name."""
    member = _strip(member) if get_origin(member) is Annotated else member
    if member is type(None):
        return "none"
    origin = get_origin(member)
    named = origin if origin is not None else member
    return getattr(named, "__name__", str(named))


def _fields_named(model: type[BaseModel], message: str) -> str:
    """The fields a whole-model problem's message mentions, in the model's order (``arguments`` when none)."""
    named = [name for name in model.model_fields if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message)]
    return ", ".join(named) or "arguments"


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc) or "arguments"


def _message(item: ErrorDetails) -> str:
    message = str(item["msg"])
    if item["type"] == "missing":
        return "field required"
    if item["type"] == "extra_forbidden":
        return "unknown argument"
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    return message


def _shorten(line: str) -> str:
    """One line of readable length: a line break or other control character in a message (a value a validator
    quoted as it is) is shown escaped, never splitting the line or hiding part of it."""
    line = _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), line)
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"
