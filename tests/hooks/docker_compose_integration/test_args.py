"""The compose hooks' arguments: defaults, one or many services, and bad input as one line naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_compose_integration import StartArgs, StatusArgs, StopArgs, start_containers_hook, stop_containers_hook


@pytest.mark.parametrize(
    ("hook_fn", "raw", "message"),
    [
        (start_containers_hook, {"services": ["-v"]}, "services: invalid service name '-v'"),
        (start_containers_hook, {"project_name": "Shop"}, "project_name: invalid project name 'Shop'"),
        (start_containers_hook, {"wait_timeout": 0}, "wait_timeout: Input should be greater than 0"),
        (start_containers_hook, {"pull": "sometimes"}, "pull: Input should be 'never', 'missing', 'always' or 'policy'"),
        (start_containers_hook, {"compose": "x.yml"}, "compose: unknown argument"),
        (stop_containers_hook, {"cleanup": False, "remove_volumes": True}, "remove_volumes: needs cleanup: true"),
        (stop_containers_hook, {"timeout": -1}, "timeout: Input should be greater than or equal to 0"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(hook_fn: Any, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(HookError) as error:
        hook_fn.parse(raw)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_single_service_may_be_a_string() -> None:
    assert StartArgs(services="api").services == ["api"]  # type: ignore[arg-type]


def test_repeated_services_are_kept_once_in_order() -> None:
    assert StatusArgs(services=["worker", "api", "worker"]).services == ["worker", "api"]


def test_seed_defaults() -> None:
    start, stop = StartArgs(), StopArgs()
    assert (start.compose_file, start.services, start.build, start.wait_timeout, start.health_check, start.env_file) == (
        Path("docker-compose.yml"),
        [],
        False,
        300,
        True,
        None,
    )
    assert (start.pull, start.build_timeout, start.log_lines) == ("never", 1800, 20)
    assert (stop.cleanup, stop.remove_volumes, stop.timeout) == (True, False, 30)
