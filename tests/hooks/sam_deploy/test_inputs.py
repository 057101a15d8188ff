"""The deploy's local inputs: paths resolved against working_directory, parameters merged, NoEcho names read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.sam_deploy import SamDeployArgs
from runway_ext.hooks.sam_deploy.inputs import read_deploy_inputs

TEMPLATE = """\
Parameters:
  ApiToken: {Type: String, NoEcho: true}
  Greeting: {Type: String}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Ref Greeting
"""


def make_args(**kwargs: object) -> SamDeployArgs:
    return SamDeployArgs.model_validate({"template_file": "template.yaml", "stack_name": "app", **kwargs})


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "samconfig.toml").write_text("version = 0.1\n")
    (folder / "parameters.json").write_text(json.dumps({"Greeting": "from file", "ApiToken": "t0k3n-value"}))
    return folder


def test_paths_are_relative_to_the_working_directory(app: Path, tmp_path: Path) -> None:
    args = make_args(working_directory="app", config_file="samconfig.toml", param_file="parameters.json", parameters={"Greeting": "hi"})
    inputs = read_deploy_inputs(args, tmp_path)
    assert (inputs.workdir, inputs.template, inputs.config_file) == (app.resolve(), app / "template.yaml", app / "samconfig.toml")
    assert inputs.parameters == {"Greeting": "hi", "ApiToken": "t0k3n-value"}  # the dict wins over the file
    assert inputs.no_echo == {"ApiToken"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template_file": "missing.yaml"}, "template_file: "),
        ({"config_file": "missing.toml"}, "config_file: "),
        ({"param_file": "missing.json"}, "param_file: "),
        ({"working_directory": "nowhere"}, "working_directory: "),
    ],
)
def test_missing_paths_name_the_argument(app: Path, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(HookError, match=f"^{message}.* is not a (file|folder)$"):
        read_deploy_inputs(make_args(**kwargs), app)


def test_bad_param_file_names_the_argument(app: Path) -> None:
    (app / "parameters.json").write_text('{"Greeting": "a\\\\ b"}')
    with pytest.raises(HookError, match="^param_file: Greeting: value contains"):
        read_deploy_inputs(make_args(param_file="parameters.json"), app)
    (app / "parameters.json").write_text("{not json")
    with pytest.raises(HookError, match="^param_file: parameters.json: invalid JSON"):
        read_deploy_inputs(make_args(param_file="parameters.json"), app)


def test_unreadable_template_has_no_secret_names(app: Path) -> None:
    (app / "template.yaml").write_bytes(b"\xff\xfe not utf-8")
    assert read_deploy_inputs(make_args(), app).no_echo == frozenset()
