"""The site commands' arguments: one bucket field, ``bucket_name``, with ``bucket`` (its first name) still accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runway_ext.core.args import describe_validation_error
from runway_ext.hooks.site.args import DiffArgs, ReleasesArgs, RollbackArgs, RollbackResult


@pytest.mark.parametrize("model", [ReleasesArgs, RollbackArgs])
@pytest.mark.parametrize("key", ["bucket_name", "bucket"])
def test_bucket_name_or_its_older_name(model: type[ReleasesArgs], key: str) -> None:
    assert model.model_validate({key: "my-site", "prefix": "docs"}).bucket_name == "my-site"


def test_both_names_at_once_are_refused_in_one_line() -> None:
    with pytest.raises(ValidationError) as caught:
        RollbackArgs.model_validate({"bucket_name": "a-site", "bucket": "b-site"})
    assert describe_validation_error(caught.value, RollbackArgs) == ["bucket_name: give bucket_name or bucket (its older name), not both"]


def test_a_bad_bucket_is_named_by_the_one_field_name_whichever_key_gave_it() -> None:
    for key in ("bucket", "bucket_name"):
        with pytest.raises(ValidationError) as caught:
            DiffArgs.model_validate({key: "Bad_Bucket", "release_a": "r1", "release_b": "r2"})
        (line,) = describe_validation_error(caught.value, DiffArgs)
        assert line.startswith("bucket_name: invalid bucket name 'Bad_Bucket'")


def test_results_carry_the_bucket_under_both_hook_data_keys() -> None:
    dumped = RollbackResult(bucket_name="my-site", prefix="", region="us-east-1", target="r1").model_dump()
    assert dumped["bucket_name"] == dumped["bucket"] == "my-site"
