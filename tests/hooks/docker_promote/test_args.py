"""The promotion hook's arguments: bad references are one line naming the field, before anything runs."""

from __future__ import annotations

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_promote import cfngin_hook


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ({"source": "app", "destination": "prod:v1"}, "source: 'app' is not REPOSITORY:TAG"),
        ({"source": "App:v1", "destination": "prod:v1"}, "source: invalid repository name 'App'"),
        ({"source": "app:v1", "destination": "prod:-bad"}, "destination: invalid image tag '-bad'"),
        ({"source": "app:v1"}, "destination: field required"),
        ({"source": "app:v1", "destination": "prod:v1", "destination_registry_id": "12"}, "destination_registry_id: "),
    ],
)
def test_bad_references_are_one_line(args: dict, line: str) -> None:
    with pytest.raises(HookError) as raised:
        cfngin_hook.parse(args)
    [message] = str(raised.value).splitlines()
    assert message.startswith(line)


def test_the_cli_takes_from_and_to() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    cfngin_hook.configure_parser(parser)
    namespace = parser.parse_args(["--from", "app:v1", "--to", "prod:v1", "--destination-region", "eu-west-1"])
    assert (namespace.source, namespace.destination, namespace.destination_region) == ("app:v1", "prod:v1", "eu-west-1")
