"""The fingerprint covers every input sam itself reads, or the deploy is not skipped.

Each attack changes one input sam build or CloudFormation would use and that the fingerprint once
missed: a file outside ``CodeUri`` under the function's ``ProjectRootDirectory``, the Makefile of a
``makefile`` build's ``ContextPath``, a Dockerfile outside its ``DockerContext``, an environment
variable the build reads (declared in ``build_env``), and an SSM-typed parameter (never provable).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_ext.hooks.sam_deploy import SamDeployArgs
from runway_ext.hooks.sam_deploy.template import artifact_paths, load_template_document
from tests.hooks.sam_deploy.sam_app import digest_of, watched_deploy

MAKEFILE_APP = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  BucketName: {Type: String}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/fn, Handler: app.handler, Runtime: provided.al2023}
    Metadata:
      BuildMethod: makefile
      ProjectRootDirectory: .
      ContextPath: build
"""

IMAGE_APP = """\
Parameters:
  BucketName: {Type: String}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image}
    Metadata: {DockerContext: ./image, Dockerfile: ../docker/Dockerfile.lambda}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_shared_file_under_the_project_root_outside_code_uri_counts(tmp_path: Path) -> None:
    app = write(
        tmp_path, {"template.yaml": MAKEFILE_APP, "functions/fn/app.py": "x = 1\n", "shared/lib.py": "A = 1\n", "build/Makefile": "x:\n"}
    )
    before = digest_of(app)
    assert before is not None and before == digest_of(app)
    (app / "shared" / "lib.py").write_text("A = 2\n")
    assert digest_of(app) != before


def test_the_makefile_in_context_path_counts(tmp_path: Path) -> None:
    template = MAKEFILE_APP.replace("      ProjectRootDirectory: .\n", "")
    app = write(
        tmp_path, {"template.yaml": template, "functions/fn/app.py": "x = 1\n", "build/Makefile": "build-Fn:\n\tcp -r . $(ARTIFACTS_DIR)\n"}
    )
    before = digest_of(app)
    (app / "build" / "Makefile").write_text("build-Fn:\n\tcp -r . $(ARTIFACTS_DIR)\n\ttouch $(ARTIFACTS_DIR)/marker\n")
    assert digest_of(app) not in (None, before)


def test_a_dockerfile_outside_its_docker_context_counts(tmp_path: Path) -> None:
    app = write(tmp_path, {"template.yaml": IMAGE_APP, "image/app.py": "x = 1\n", "docker/Dockerfile.lambda": "FROM scratch\n"})
    document = load_template_document(IMAGE_APP)
    assert artifact_paths(document).paths == ("./image", "image/../docker/Dockerfile.lambda")
    before = digest_of(app)
    (app / "docker" / "Dockerfile.lambda").write_text("FROM scratch\nCOPY app.py /\n")
    assert digest_of(app) not in (None, before)


def test_declared_build_environment_counts_and_nothing_else(tmp_path: Path) -> None:
    app = write(tmp_path, {"template.yaml": MAKEFILE_APP, "functions/fn/app.py": "x = 1\n", "build/Makefile": "x:\n"})
    declared = {"build_env": ["GOFLAGS", "BUILD_TARGET"]}
    base = digest_of(app, environ={"GOFLAGS": "-trimpath"}, **declared)
    assert base == digest_of(app, environ={"GOFLAGS": "-trimpath", "UNDECLARED": "anything"}, **declared)
    seen = {base}
    for environ in ({"GOFLAGS": "-race"}, {"GOFLAGS": "-trimpath", "BUILD_TARGET": ""}, {}):
        digest = digest_of(app, environ=environ, **declared)
        assert digest not in seen, environ  # a changed, a newly set (even empty) and an unset variable each count
        seen.add(digest)
    assert digest_of(app, environ={"GOFLAGS": "-trimpath"}) != base  # not declared: the same values do not count
    assert "-trimpath" not in str(base)


def test_build_env_names_are_checked() -> None:
    with pytest.raises(ValueError, match="'A=B' is not an environment variable name"):
        SamDeployArgs.model_validate({"template_file": "t.yaml", "stack_name": "s", "build_env": ["A=B"]})


@pytest.mark.parametrize("kind", ["AWS::SSM::Parameter::Value<String>", "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"])
def test_an_ssm_typed_parameter_makes_the_skip_unprovable_and_names_it(tmp_path: Path, kind: str) -> None:
    template = (
        f"Parameters:\n  BucketName: {{Type: String}}\n  LatestAmi:\n    Type: '{kind}'\n    Default: /images/latest\nResources: {{}}\n"
    )
    app = write(tmp_path, {"template.yaml": template})
    assert digest_of(app) is None
    reason = artifact_paths(load_template_document(template)).unprovable
    assert reason == f"parameter LatestAmi is of type {kind}: CloudFormation reads its value from SSM when it deploys"


# -- with the real sam -------------------------------------------------------------------------------

MAKEFILE = "build-Fn:\n\tcp functions/fn/app.py shared/lib.py $(ARTIFACTS_DIR)/\n"


@pytest.mark.sam
def test_real_sam_makefile_build_redeploys_when_its_makefile_or_shared_code_changes(sam: str, tmp_path: Path, aws_change_set_tags) -> None:  # type: ignore[no-untyped-def]
    """``sam build`` runs the ContextPath's Makefile from the ProjectRootDirectory, so both count; an unchanged rerun is skipped."""
    template = MAKEFILE_APP.replace("ContextPath: build", "ContextPath: .").replace("Parameters:\n  BucketName: {Type: String}\n", "")
    app = write(tmp_path / "app", {"template.yaml": template, "functions/fn/app.py": "x = 1\n", "shared/lib.py": "A = 1\n", "Makefile": MAKEFILE})
    arguments = {"skip_build": False, "parameters": {}}
    first, seen = watched_deploy(sam, app, "makefile-app", **arguments)
    assert first and first["skipped"] is False and seen
    assert (app / ".aws-sam" / "build" / "Fn" / "lib.py").read_text() == "A = 1\n"  # sam copied the shared file in
    again, seen = watched_deploy(sam, app, "makefile-app", **arguments)
    assert again["skipped"] is True and seen == []

    (app / "shared" / "lib.py").write_text("A = 2\n")
    changed, seen = watched_deploy(sam, app, "makefile-app", **arguments)
    assert changed["skipped"] is False and seen
    assert (app / ".aws-sam" / "build" / "Fn" / "lib.py").read_text() == "A = 2\n"

    (app / "Makefile").write_text(MAKEFILE + "\techo built > $(ARTIFACTS_DIR)/marker\n")
    rebuilt, seen = watched_deploy(sam, app, "makefile-app", **arguments)
    assert rebuilt["skipped"] is False and seen
    assert (app / ".aws-sam" / "build" / "Fn" / "marker").is_file()
