"""``${dotenv KEY::file=path/.env}``: a value from a .env file, parsed by python-dotenv.

``file`` defaults to ``.env``; a relative path resolves against the CFNgin config file's folder.
Runway's common lookup args (``default``, ``transform``, ``get``, ``load``, ``indent``) apply.

Errors are one ``ValueError`` line naming the file (and the key): a missing file or key falls back
to ``default`` when one is given; a file that exists but cannot be read (not UTF-8 text, no
permission, a folder) never does — a broken file is not an absent one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dotenv import dotenv_values
from runway.lookups.handlers.base import LookupHandler

if TYPE_CHECKING:
    from runway.context import CfnginContext

DEFAULT_FILE = ".env"


def base_folder(context: Any) -> Path:
    """The folder relative lookup paths start from: the CFNgin config's folder, else the working directory."""
    config_path = getattr(context, "config_path", None)
    if config_path is None:
        return Path.cwd()
    config_path = Path(config_path)
    return config_path if config_path.is_dir() else config_path.parent


class UnreadableDotenvFile(ValueError):
    """The .env file exists but cannot be read as UTF-8 text; ``default`` does not hide it."""


def read_dotenv(path: Path, key: str = "") -> dict[str, str | None]:
    """All variables of a .env file, as python-dotenv reads them (UTF-8); errors name the file and ``key``."""
    for_key = f" (looking up {key!r})" if key else ""
    if path.is_dir():
        raise UnreadableDotenvFile(f"dotenv: {path} is a folder, not a .env file{for_key}")
    if not path.is_file():
        raise ValueError(f"dotenv: file {path} not found")
    try:
        return dict(dotenv_values(path, encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise UnreadableDotenvFile(
            f"dotenv: file {path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}){for_key}"
        ) from None
    except OSError as error:
        raise UnreadableDotenvFile(f"dotenv: cannot read {path}: {error.strerror or type(error).__name__}{for_key}") from None


class DotenvLookup(LookupHandler["CfnginContext"]):
    """Resolve ``KEY`` from a .env file."""

    TYPE_NAME: ClassVar[str] = "dotenv"

    @classmethod
    def handle(cls, value: str, context: CfnginContext, **_kwargs: Any) -> Any:
        """Return the value of ``KEY`` in ``file`` (or ``default``); fail naming the file and key."""
        key, args = cls.parse(value)
        key = key.strip()
        file_arg = str(args.pop("file", DEFAULT_FILE)).strip()
        path = Path(file_arg).expanduser()
        if not path.is_absolute():
            path = base_folder(context) / path
        has_default = "default" in args
        try:
            values = read_dotenv(path, key)
        except UnreadableDotenvFile:
            raise
        except ValueError:
            if has_default:
                return cls.format_results(args["default"], **args)
            raise
        found = values.get(key)
        if found is None:
            if has_default:
                return cls.format_results(args["default"], **args)
            raise ValueError(f"dotenv: key {key!r} not found in {path}")
        return cls.format_results(found, **args)
