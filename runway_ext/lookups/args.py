"""The base args model of every runway_ext lookup, and the one way a lookup reads its arguments.

A lookup's value is split by Runway's own :meth:`LookupHandler.parse` (``QUERY::key=value, …``),
then validated by the lookup's args model, as Runway's own handlers do. Unknown keys are refused:
``${ecr_image app::tgs=v1}`` fails with ``ecr_image: tgs: unknown argument`` instead of resolving
``latest``, the same ``field: problem`` line a hook gives for the same typo (both come from
:func:`~runway_ext.core.args.describe_validation_error`).

Runway's common lookup arguments (``default``, ``get``, ``load``, ``transform``, ``indent``) are
fields of the base model, so every lookup accepts them and its docs table lists them; they are
handed back to :meth:`LookupHandler.format_results` as Runway passes them. A ``default`` is
returned as given, never ``load``-ed, as Runway's ``cfn`` and ``ssm`` lookups do.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from runway.lookups.handlers.base import LookupHandler

from runway_ext.core.args import describe_validation_error


class LookupArgs(BaseModel):
    """Base of every lookup's arguments: Runway's common ones, and unknown keys refused.

    A subclass names its query (the part before ``::``) in ``QUERY_NAME`` and ``QUERY_DOC``, which the
    docs table shows as its first row.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    QUERY_NAME: ClassVar[str] = "QUERY"
    """How the docs call the lookup's query (``KEY``, ``REPOSITORY``)."""
    QUERY_DOC: ClassVar[str] = ""
    """What the query is, for the docs table."""

    default: str | None = None
    """Value returned when what is looked up does not exist (returned as given: not loaded, but transformed). Without it, the lookup fails."""

    get: str | None = None
    """Key to pick out of the value once `load`-ed (Runway's common argument)."""

    load: Literal["json", "troposphere", "yaml"] | None = None
    """Parse the value as this format before `get` and `transform` (Runway's common argument)."""

    transform: Literal["bool", "str"] | None = None
    """Convert the final value to this type (Runway's common argument)."""

    indent: int | None = Field(default=None, ge=0)
    """Spaces of indentation when `transform=str` turns a mapping into JSON (Runway's common argument)."""

    def format_args(self, *, for_default: bool = False) -> dict[str, Any]:
        """The common arguments given, as :meth:`LookupHandler.format_results` takes them (``load`` dropped for a default)."""
        given = {name: getattr(self, name) for name in ("get", "load", "transform", "indent") if getattr(self, name) is not None}
        if for_default:
            given.pop("load", None)
        return given


ArgsT = TypeVar("ArgsT", bound=LookupArgs)


def parse_lookup(handler: type[LookupHandler[Any]], model: type[ArgsT], value: str) -> tuple[str, ArgsT]:
    """``QUERY`` and its validated args, split by Runway's ``handler.parse``; one ``NAME: field: problem`` ``ValueError`` if refused."""
    name = handler.TYPE_NAME
    try:
        query, raw_args = handler.parse(value)
    except ValueError:  # Runway's split of an argument without '=' ("not enough values to unpack")
        raise ValueError(f"{name}: arguments: expected key=value pairs separated by ',' after '::'") from None
    try:
        return query.strip(), model.model_validate(dict(raw_args))
    except ValidationError as error:
        raise ValueError(f"{name}: " + "; ".join(describe_validation_error(error, model))) from None
