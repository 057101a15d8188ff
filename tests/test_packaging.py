"""The built wheel, installed (not editable) in a fresh virtualenv, as a user installs it.

Nothing of ours claims a generic top-level import name: the blueprints ship as ``runway_ext.blueprints``, so a
Runway project's own ``blueprints/`` package (the folder name most projects use) loads next to ours. Test
support (the private Docker engine) is not in the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import boto3
import pytest
import tomllib

from runway_ext.local.moto_cloudformation import install
from runway_ext.local.moto_server import MotoServer

ROOT = Path(__file__).resolve().parents[1]
USER_BLUEPRINT = '''"""A project's own blueprint module, named as ours is: it must be the one Runway loads."""
from runway.cfngin.blueprints.base import Blueprint
from troposphere import Output, Ref, s3


class Registry(Blueprint):
    """Not an ECR repository at all: an S3 bucket, so loading ours instead would show."""

    def create_template(self) -> None:
        bucket = self.template.add_resource(s3.Bucket("UserBucket"))
        self.template.add_output(Output("UserBucketName", Value=Ref(bucket)))
'''
CONFIG = """namespace: ${namespace}
cfngin_bucket: ""
sys_path: ./
stacks:
  - name: theirs
    class_path: blueprints.ecr.Registry
  - name: ours
    class_path: runway_ext.blueprints.ecr.EcrRepository
    variables:
      RepositoryName: wheel-test-repo
"""
RUNWAY_YML = """deployments:
  - modules:
      - path: stacks.cfn
    regions:
      - us-east-1
"""


def declared_packages() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared() -> None:
    """A new subpackage not listed in pyproject.toml would silently be missing from the wheel."""
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "runway_ext").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert declared_packages() == found | {"runway_ext.blueprints"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (the build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("runway_ext", "blueprints"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel_file,) = out.glob("runway_ext-*.whl")
    return wheel_file


def test_wheel_ships_blueprints_inside_the_package_and_no_test_support(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"runway_ext"}
    assert "runway_ext/blueprints/cdn.py" in names and "runway_ext/blueprints/ecr.py" in names
    assert not [name for name in names if "docker_engine" in name or name.startswith("tests/")]
    for package in declared_packages():
        assert f"{package.replace('.', '/')}/__init__.py" in names


@pytest.mark.runway
def test_wheel_deploys_next_to_a_projects_own_blueprints_package(wheel: Path, tmp_path: Path, aws: MotoServer) -> None:
    """A fresh venv holding only the wheel (dependencies are borrowed read-only from the test environment)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site_packages)
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import runway_ext, runway_ext.blueprints.ecr as e; print(runway_ext.__file__); print(e.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    ).stdout.split()
    assert all(path.startswith(str(site_packages)) for path in where), where

    project = tmp_path / "project"
    module = project / "stacks.cfn"
    (module / "blueprints").mkdir(parents=True)
    (module / "blueprints" / "__init__.py").write_text("")
    (module / "blueprints" / "ecr.py").write_text(USER_BLUEPRINT)
    (module / "config.yml").write_text(CONFIG)
    (module / "dev.env").write_text("namespace: wheel-test\n")
    (project / "runway.yml").write_text(RUNWAY_YML)
    install()
    env = {**os.environ, **aws.environment(), "DEPLOY_ENVIRONMENT": "dev", "CI": "1"}
    env.pop("PYTHONPATH", None)
    deployed = subprocess.run(
        [str(python), "-c", "import sys; from runway._cli.main import cli; sys.argv[0] = 'runway'; sys.exit(cli())", "deploy", "--ci"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    cfn = boto3.client("cloudformation")
    theirs = cfn.describe_stack_resources(StackName="wheel-test-theirs")["StackResources"]
    ours = cfn.describe_stack_resources(StackName="wheel-test-ours")["StackResources"]
    assert {resource["ResourceType"] for resource in theirs} == {"AWS::S3::Bucket"}
    assert "AWS::ECR::Repository" in {resource["ResourceType"] for resource in ours}
    assert boto3.client("ecr").describe_repositories()["repositories"][0]["repositoryName"] == "wheel-test-repo"
