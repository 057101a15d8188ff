"""Parameters for sam: read, merged, checked and written (pure, no sam needed)."""

from __future__ import annotations

import json

import pytest
import yaml

from runway_ext.hooks.sam_deploy.parameters import (
    ParameterError,
    check_parameter,
    merge_parameters,
    overrides_document,
    parameter_text,
    parse_param_file,
    secret_parameter_names,
)

# -- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (None, ""), (3, "3"), (1.5, "1.5"), (["a", "b", 1], "a,b,1"), ("x y", "x y")],
)
def test_parameter_text(value: object, text: str) -> None:
    assert parameter_text(value) == text


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "with spaces",
        "a=b=c",
        'say "hi"',
        "it's",
        '"wrapped"',
        "'wrapped'",
        "",
        "back\\slash",
        "ends\\",
        "C:\\\\dir",
        "multi\nline",
        "é ü 日本",
    ],
)
def test_passable_values_are_accepted(value: str) -> None:
    check_parameter("Name1", value)


@pytest.mark.parametrize("value", ["a\\ b", 'a\\"b', "a\\'b", "nul\x00"])
def test_values_sam_would_alter_are_refused(value: str) -> None:
    with pytest.raises(ParameterError, match="Name1"):
        check_parameter("Name1", value)


@pytest.mark.parametrize("key", ["with-dash", "with space", "", "under_score", "x" * 256])
def test_bad_parameter_names_are_refused(key: str) -> None:
    with pytest.raises(ParameterError, match="parameter name"):
        check_parameter(key, "v")


def test_overrides_document_wraps_every_value_once() -> None:
    values = {"A": 'say "hi" a=b', "B": "", "C": '"already quoted"', "D": "é"}
    document = overrides_document(values)
    as_yaml = yaml.safe_load(document)
    assert as_yaml == json.loads(document)
    assert as_yaml == {key: f'"{value}"' for key, value in values.items()}
    assert document.isascii()


def test_param_file_object() -> None:
    assert parse_param_file('{"A": "x", "B": 2, "C": true, "D": ["p", "q"], "E": null}', "p.json") == {
        "A": "x",
        "B": "2",
        "C": "true",
        "D": "p,q",
        "E": "",
    }


def test_param_file_cloudformation_list() -> None:
    text = json.dumps([{"ParameterKey": "A", "ParameterValue": "x"}, {"ParameterKey": "B", "ParameterValue": "y z"}])
    assert parse_param_file(text, "p.json") == {"A": "x", "B": "y z"}


def test_param_file_codepipeline_configuration() -> None:
    text = json.dumps({"Parameters": {"A": "x"}, "Tags": {"T": "1"}})
    assert parse_param_file(text, "p.json") == {"A": "x"}


def test_a_parameter_named_parameters_is_a_parameter() -> None:
    assert parse_param_file('{"Parameters": "x", "B": "y"}', "p.json") == {"Parameters": "x", "B": "y"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "invalid JSON"),
        ('"just a string"', "expected a JSON object"),
        ('{"A": {"nested": 1}}', "must be a string"),
        ('[{"Key": "A"}]', "item 0"),
        ('[{"ParameterKey": "A", "UsePreviousValue": true}]', "UsePreviousValue"),
    ],
)
def test_bad_param_files(text: str, problem: str) -> None:
    with pytest.raises(ParameterError, match=problem) as caught:
        parse_param_file(text, "params.json")
    assert "params.json" in str(caught.value)


def test_dict_parameters_win_over_the_file() -> None:
    assert merge_parameters({"A": "file", "B": "file"}, {"B": "dict", "C": 1}) == {"A": "file", "B": "dict", "C": "1"}


def test_merge_checks_values_from_the_file_too() -> None:
    with pytest.raises(ParameterError, match="A"):
        merge_parameters({"A": "x\\ y"}, {})


def test_secret_parameter_names_read_short_tags() -> None:
    template = """
Parameters:
  Password: {Type: String, NoEcho: true}
  Token: {Type: String, NoEcho: "true"}
  Plain: {Type: String}
Resources:
  X:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${Plain}-topic"
      DisplayName: !GetAtt Other.Name
"""
    assert secret_parameter_names(template) == {"Password", "Token"}


def test_secret_parameter_names_of_json_and_of_garbage() -> None:
    assert secret_parameter_names(json.dumps({"Parameters": {"K": {"Type": "String", "NoEcho": True}}})) == {"K"}
    assert secret_parameter_names("{unbalanced") == set()
    assert secret_parameter_names("just text") == set()
