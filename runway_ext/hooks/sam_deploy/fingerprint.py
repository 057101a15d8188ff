"""The fingerprint of a deploy's inputs: one sha256 over everything that decides what ``sam`` deploys.

Covered (each entry is framed by its kind and length, so no two different inputs hash alike):

* the template's bytes, and every file under each local path the template names in a key
  ``sam`` builds or uploads (:data:`~.template.ARTIFACT_KEYS`: ``CodeUri``, ``ContentUri``,
  ``DefinitionUri``, ``DockerContext``…, in ``Globals`` too), with each file's path relative to
  its root, its executable bit, its bytes, and a symlink's target. ``.aws-sam`` folders (sam's own
  output) and Python caches (``__pycache__``, ``*.pyc``) are left out;
* the merged parameters (a secret parameter as a slow salted hash, so the tag does not make a weak
  secret cheap to guess), capabilities, region, stack name, bucket, prefix, ``resolve_s3``,
  ``skip_build``, the samconfig environment and every samconfig file ``sam`` may read (the
  ``config_file``, or ``samconfig.toml|yaml|yml`` beside the template and in the working folder);
* the environment variables declared in ``build_env`` (only those: what else a build reads cannot
  be known), each value as a slow salted hash like a secret parameter, an unset one as unset;
* the sam CLI: its version read from its installation without running it, else the executable's
  path, size and modification time.

Not covered, by design: anything ``sam build`` fetches (unpinned dependencies resolve at build
time — use ``force: true`` to pick up a new release) and changes made to resources outside
CloudFormation (drift). :func:`fingerprint_inputs` returns ``None`` (never skip: ``sam deploy``
decides, and no change is a success) when the template cannot be read, names a nested template from
a local file, or has an SSM-typed parameter (its value is read at deploy time); the reason names the input.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runway_ext.core.hashing import CHUNK_SIZE
from runway_ext.hooks.sam_deploy.args import SamDeployArgs
from runway_ext.hooks.sam_deploy.inputs import SAMCONFIG_NAMES, DeployInputs
from runway_ext.hooks.sam_deploy.skip_record import RECORD_VERSION
from runway_ext.hooks.sam_deploy.template import artifact_paths, load_template_document

IGNORED_DIRS = frozenset({".aws-sam", "__pycache__"})
IGNORED_SUFFIXES = (".pyc",)

SECRET_ROUNDS = 100_000
"""PBKDF2 rounds for a secret parameter's share of the fingerprint (about 50 ms each)."""


@dataclass(frozen=True)
class Fingerprint:
    """The inputs' digest (``None`` when they cannot be fingerprinted) and why not."""

    digest: str | None
    unprovable: str | None = None
    files: int = 0


class _Framed:
    """A sha256 fed with length-framed, labelled fields."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(RECORD_VERSION.encode())

    def field(self, label: str, value: bytes | str) -> None:
        data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        self.digest.update(f"\n{label}:{len(data)}:".encode())
        self.digest.update(data)

    def file(self, label: str, path: Path) -> None:
        size = path.stat().st_size
        self.digest.update(f"\n{label}:{size}:".encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                self.digest.update(chunk)


def fingerprint_inputs(
    args: SamDeployArgs,
    inputs: DeployInputs,
    region: str,
    sam_identity: str,
    secret_names: Iterable[str],
    environ: Mapping[str, str] | None = None,
) -> Fingerprint:
    """The fingerprint of one deploy's inputs (see the module docstring for what it covers); ``environ``: the build's (``os.environ``)."""
    import yaml

    try:
        template_bytes = inputs.template.read_bytes()
        document = load_template_document(template_bytes.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return Fingerprint(None, f"template_file cannot be read ({error})")
    except yaml.YAMLError as error:  # not a template: sam will say so
        return Fingerprint(None, f"template_file is not a readable template ({type(error).__name__})")
    found = artifact_paths(document)
    if found.unprovable:
        return Fingerprint(None, found.unprovable)

    hasher = _Framed()
    hasher.field("template", template_bytes)
    files = 0
    for written in found.paths:
        hasher.field("artifact", written)
        target = Path(written) if os.path.isabs(written) else inputs.template.parent / written
        files += _hash_tree(hasher, target)

    secrets = set(secret_names)
    for name in sorted(inputs.parameters):
        value = inputs.parameters[name]
        hasher.field("parameter", name)
        hasher.field("value", _secret_share(args.stack_name, name, value) if name in secrets else value)
    settings = {
        "stack_name": args.stack_name,
        "region": region,
        "capabilities": ",".join(args.capabilities),
        "s3_bucket": args.s3_bucket or "",
        "s3_prefix": args.s3_prefix or "",
        "resolve_s3": str(args.resolve_s3),
        "skip_build": str(args.skip_build),
        "config_env": args.env or "",
        "sam": sam_identity,
    }
    for key, value in settings.items():
        hasher.field(key, value)
    build_environ = os.environ if environ is None else environ
    for name in sorted(set(args.build_env)):
        hasher.field("build_env", name)
        env_value = build_environ.get(name)
        hasher.field(
            "unset" if env_value is None else "set", "" if env_value is None else _secret_share(args.stack_name, f"env:{name}", env_value)
        )
    for config in samconfig_files(inputs):
        hasher.field("samconfig", str(config))
        files += _hash_tree(hasher, config)
    return Fingerprint(hasher.digest.hexdigest(), files=files)


def samconfig_files(inputs: DeployInputs) -> list[Path]:
    """The samconfig files sam may read: the ``config_file``, else the default names beside the template and in the working folder."""
    if inputs.config_file is not None:
        return [inputs.config_file]
    folders = dict.fromkeys([inputs.template.parent, inputs.workdir])
    return [folder / name for folder in folders for name in SAMCONFIG_NAMES if (folder / name).is_file()]


def _hash_tree(hasher: _Framed, root: Path) -> int:
    """Hash a file, or every file under a folder in a fixed order; returns how many files were read.

    A path that does not exist is recorded as missing (sam will report it); symlinks are hashed as
    their target text and, when they point at a file, its bytes (folders behind links are followed
    once; a link loop is recorded, not followed).
    """
    if root.is_file():
        _hash_entry(hasher, root, "")
        return 1
    if not root.is_dir():
        hasher.field("missing", str(root))
        return 0
    count = 0
    seen = {os.path.realpath(root)}
    for folder, dirs, names in os.walk(root, followlinks=True):
        kept = []
        for name in sorted(dirs):
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if name in IGNORED_DIRS:
                continue
            if os.path.islink(path):
                hasher.field("dirlink", f"{os.path.relpath(path, root)}\0{os.readlink(path)}")
                if real in seen:
                    continue
            seen.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            if name.endswith(IGNORED_SUFFIXES):
                continue
            entry = Path(folder, name)
            _hash_entry(hasher, entry, os.path.relpath(entry, root))
            count += 1
    return count


def _hash_entry(hasher: _Framed, path: Path, relative: str) -> None:
    if path.is_symlink():
        hasher.field("link", f"{relative}\0{os.readlink(path)}")
    try:
        mode = path.stat().st_mode
    except OSError:
        hasher.field("dangling", relative)
        return
    hasher.field("path", f"{relative}\0{'x' if mode & 0o111 else '-'}")
    try:
        hasher.file("bytes", path)
    except OSError as error:
        hasher.field("unreadable", f"{relative}\0{error.strerror}")


def _secret_share(stack_name: str, name: str, value: str) -> str:
    """A secret parameter's contribution: PBKDF2 salted by stack and name, so the tag does not reveal it cheaply."""
    salt = f"runway-ext:sam-deploy:{stack_name}:{name}".encode()
    return hashlib.pbkdf2_hmac("sha256", value.encode("utf-8", "surrogateescape"), salt, SECRET_ROUNDS).hex()


_SHEBANG = re.compile(rb"^#!\s*(\S+)")


def sam_identity(executable: str) -> str:
    """What identifies the installed sam, read without running it.

    For a sam installed with pip (a Python console script), its version from the
    ``aws_sam_cli-<version>.dist-info`` beside the interpreter its first line names; otherwise
    the executable's resolved path, size and modification time (an upgrade replaces it).
    """
    real = Path(os.path.realpath(executable))
    try:
        with open(real, "rb") as handle:
            first = handle.readline(512)
        stat = real.stat()
    except OSError as error:
        return f"unreadable:{real}:{error.strerror}"
    match = _SHEBANG.match(first)
    if match:
        interpreter = Path(os.fsdecode(match.group(1)))
        prefix = interpreter.parent.parent
        versions = [
            info.name[len("aws_sam_cli-") : -len(".dist-info")] for info in prefix.glob("lib/python*/site-packages/aws_sam_cli-*.dist-info")
        ]
        if versions:
            return f"aws-sam-cli {','.join(sorted(versions))} at {prefix}"
    return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"
