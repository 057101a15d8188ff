"""BuildKit build secrets: where each value comes from and how it reaches ``docker build --secret``.

Contract: :func:`resolve_secrets` reads the deploy's environment and the secret files it is given
(nothing else) and registers every value for redaction. A value reaches docker only through the
environment of the docker process (a literal value, under a variable of our own, or the user's own
``{env: NAME}``) or as a file BuildKit reads itself (``{file: path}``, passed as ``src=``, its path
on the command line, never its content). The classic builder (``builder: docker``) does not read
``env=`` sources, so for it :func:`as_files` writes those values to 0600 files in a private 0700
folder, removed when the build ends (even when it fails or is interrupted). BuildKit mounts a secret only for the ``RUN`` that asks for
it (``RUN --mount=type=secret,id=ID``); it is never stored in a layer, the image config or its history.

Errors are one line naming ``secrets.<id>`` and what is missing, never a value.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from runway_ext.core.errors import HookError
from runway_ext.core.log import register_secret
from runway_ext.hooks.docker_build_push.args import DockerBuildPushArgs, SecretFromEnvironment, SecretFromFile

SECRET_VARIABLE_PREFIX = "RUNWAY_EXT_BUILD_SECRET_"  # noqa: S105 - a variable name prefix, not a secret
"""Variables of the docker process that carry literal secret values (``…_1``, ``…_2``, in id order)."""
MAX_REGISTERED_FILE_BYTES = 64 * 1024
"""A secret file's content is registered for redaction when it is text of at most this size."""


@dataclass(frozen=True)
class BuildSecret:
    """One ``--secret`` of a build: its id and either an environment variable or a file."""

    secret_id: str
    env: str | None = None
    """Name of the variable of the docker process that holds the value."""
    file: Path | None = None
    """Absolute path of the file that holds the value."""

    def flag(self) -> str:
        """The ``--secret`` value: ``id=ID,env=NAME`` or ``id=ID,src=PATH`` (never the secret itself)."""
        if self.env is not None:
            return f"id={self.secret_id},env={self.env}"
        return f"id={self.secret_id},src={self.file}"


@dataclass(frozen=True)
class ResolvedSecrets:
    """The build's secrets, the environment they need, and each value (for the optional hash fingerprint)."""

    secrets: tuple[BuildSecret, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    values: Mapping[str, bytes] = field(default_factory=dict, repr=False)


def resolve_secrets(args: DockerBuildPushArgs, environ: Mapping[str, str], base: Path) -> ResolvedSecrets:
    """Where each secret's value is; a variable that is not set or a file that is missing fails naming the secret."""
    secrets: list[BuildSecret] = []
    env: dict[str, str] = {}
    values: dict[str, bytes] = {}
    for number, (secret_id, source) in enumerate(sorted(args.secrets.items()), start=1):
        if isinstance(source, SecretFromEnvironment):
            value = environ.get(source.env)
            if not value:
                raise HookError(f"secrets.{secret_id}: environment variable {source.env} is not set (or empty)")
            register_secret(value)
            secrets.append(BuildSecret(secret_id, env=source.env))
            values[secret_id] = value.encode("utf-8", "surrogateescape")
        elif isinstance(source, SecretFromFile):
            path = (base / source.file).resolve()
            try:
                content = path.read_bytes()
            except IsADirectoryError:
                raise HookError(f"secrets.{secret_id}: {path} is a folder, not a file") from None
            except FileNotFoundError:
                raise HookError(f"secrets.{secret_id}: file {path} not found") from None
            except OSError as error:
                raise HookError(f"secrets.{secret_id}: cannot read {path}: {error.strerror}") from None
            _register_file_content(content)
            secrets.append(BuildSecret(secret_id, file=path))
            values[secret_id] = content
        else:
            variable = f"{SECRET_VARIABLE_PREFIX}{number}"
            register_secret(source)
            env[variable] = source
            secrets.append(BuildSecret(secret_id, env=variable))
            values[secret_id] = source.encode("utf-8", "surrogateescape")
    return ResolvedSecrets(tuple(secrets), env, values)


def _register_file_content(content: bytes) -> None:
    if len(content) > MAX_REGISTERED_FILE_BYTES:
        return
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return
    register_secret(text.strip())
    register_secret(text)


@contextlib.contextmanager
def as_files(resolved: ResolvedSecrets) -> Iterator[ResolvedSecrets]:
    """The same secrets with every ``env=`` source turned into a 0600 temporary file (``src=``), removed afterwards."""
    if not any(secret.env for secret in resolved.secrets):
        yield resolved
        return
    folder = Path(tempfile.mkdtemp(prefix="runway-ext-secrets-"))  # mode 0700
    try:
        secrets = []
        for secret in resolved.secrets:
            if secret.env is None:
                secrets.append(secret)
                continue
            path = folder / f"secret-{len(secrets)}"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(resolved.values[secret.secret_id])
            secrets.append(replace(secret, env=None, file=path))
        yield ResolvedSecrets(tuple(secrets), {}, resolved.values)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
