"""Start, stop and report a Docker Compose project (the ``docker compose`` v2 CLI plugin).

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.docker_compose_integration.start_containers_hook
        enabled: ${docker_compose_enabled}
        args:
          compose_file: docker-compose.yml
          services: [api-public, worker]
          env_file: .env.compose
          wait_timeout: 300
    post_deploy:
      - path: runway_ext.hooks.docker_compose_integration.status_hook
    post_destroy:
      - path: runway_ext.hooks.docker_compose_integration.stop_containers_hook
        enabled: ${docker_compose_enabled}
        args:
          remove_volumes: true

Start runs ``docker compose up -d --pull never --wait --wait-timeout N``: compose leaves containers
whose configuration is unchanged alone, so starting a healthy project is a no-op (reported as
``unchanged``). When services do not become healthy in time, the error names each of them with its
state and last log lines. Stop runs ``down`` (``cleanup``, with ``-v`` for ``remove_volumes``) or
``stop``. The project name is fixed (``project_name``, else the compose file's folder normalised as
compose does), so start, stop and status always address the same containers. Results are stored in
hook_data as ``runway_ext.docker_compose_start``, ``…_stop`` and ``…_status``. CLI::

    python -m runway_ext.hooks.docker_compose_integration start --services api-public worker --build --wait-timeout 600
    python -m runway_ext.hooks.docker_compose_integration stop --cleanup --remove-volumes
    python -m runway_ext.hooks.docker_compose_integration status

Modules: :mod:`.args` (arguments and results), :mod:`.plan` (pure decisions), :mod:`.compose`
(running ``docker compose``), :mod:`.hook` (the hook bodies and their CLI output).
"""

from runway_ext.hooks.docker_compose_integration.args import (
    ComposeArgs,
    StartArgs,
    StartResult,
    StatusArgs,
    StatusResult,
    StopArgs,
    StopResult,
)
from runway_ext.hooks.docker_compose_integration.hook import COMMAND, start_containers_hook, status_hook, stop_containers_hook

__all__ = [
    "COMMAND",
    "ComposeArgs",
    "StartArgs",
    "StartResult",
    "StatusArgs",
    "StatusResult",
    "StopArgs",
    "StopResult",
    "start_containers_hook",
    "status_hook",
    "stop_containers_hook",
]
