"""The docker compose hooks, both faces: start/stop/status against the real engine, the CLI, real Runway.

The ``docker`` tests build two services from the locally imported busybox base image (see
:mod:`.projects`): nothing is ever pulled.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from runway_ext.docs_tables import discover_hooks
from runway_ext.hooks.docker_compose_integration import COMMAND, start_containers_hook, status_hook, stop_containers_hook
from runway_ext.hooks.docker_compose_integration.hook import render_start, render_status, render_stop
from runway_ext.hooks.docker_compose_integration.plan import project_name_from_folder
from runway_ext.local.moto_server import MotoServer
from runway_ext.testing.runway_cli import run_runway
from tests.hooks.docker_compose_integration.projects import NEVER_HEALTHY, stand_in_docker, write_project
from tests.support.docker_engine import DockerEngine, compose_unavailable_reason

MODULE = "runway_ext.hooks.docker_compose_integration"
HOOKS = f"{MODULE}"
HOOK_ERROR = re.compile(r"docker_compose_(start|stop|status): ")
ROOT = Path(__file__).resolve().parents[3]


def docker(*args: str, timeout: float = 120) -> str:
    """Run ``docker`` from PATH (the test engine's client, via ``docker_env``) and return its stdout."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout


def project_containers(project: str) -> dict[str, str]:
    """Container name -> docker state, for every container of a compose project (what docker itself says)."""
    out = docker("ps", "--all", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Names}} {{.State}}")
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def project_volumes(project: str) -> list[str]:
    out = docker("volume", "ls", "--quiet", "--filter", f"label=com.docker.compose.project={project}")
    return sorted(out.split())


def health(container: str) -> str:
    return docker("inspect", "--format", "{{.State.Health.Status}}", container).strip()


def down(project_dir: Path) -> None:
    """Clean up whatever a test left (plain compose, not the hook under test)."""
    subprocess.run(
        ["docker", "compose", "--env-file", ".env.compose", "down", "--volumes", "--timeout", "1"],
        cwd=project_dir,
        capture_output=True,
        timeout=120,
        check=False,
    )


# -- the faces (no engine needed) --------------------------------------------------------------------
def test_renderings() -> None:
    row = {"service": "api", "state": "healthy", "health": "healthy", "ready": True, "containers": 1, "exit_code": None, "status": "Up"}
    start = render_start({"project": "p", "action": "started", "changed": ["api"], "elapsed_seconds": 2.345, "services": [row]})
    assert start.splitlines()[0] == "project p: started api in 2.3s"
    assert start.splitlines()[1].split() == ["SERVICE", "STATE", "READY", "CONTAINERS", "STATUS"]
    assert render_start({"project": "p", "action": "unchanged", "changed": [], "elapsed_seconds": 1, "services": [row]}).startswith(
        "project p: already up; nothing changed"
    )
    stop = render_stop({"project": "p", "action": "removed", "services": ["api"], "elapsed_seconds": 0.5, "volumes_removed": ["p_data"]})
    assert stop == "project p: api: stopped and removed in 0.5s; volumes removed: p_data"
    absent = render_stop({"project": "p", "action": "absent", "services": ["api"], "elapsed_seconds": 0.1, "volumes_removed": []})
    assert absent == "project p: api: nothing to stop (no containers) in 0.1s"
    status = render_status({"project": "p", "ready": False, "not_ready": ["db"], "services": [row]})
    assert status.splitlines()[-1] == "project p: not ready: db"


def test_the_cli_is_a_group_of_three() -> None:
    assert COMMAND.name == "docker_compose_integration"
    assert list(COMMAND.hooks) == ["start", "stop", "status"]
    assert [hook.name for hook in COMMAND.hooks.values()] == ["docker_compose_start", "docker_compose_stop", "docker_compose_status"]


def test_the_hooks_are_found_under_their_config_yml_paths() -> None:
    hooks = discover_hooks()
    for name in ("start_containers_hook", "stop_containers_hook", "status_hook"):
        assert hooks[f"{MODULE}.{name}"] is getattr(sys.modules[MODULE], name)


@pytest.mark.parametrize("how", ["module", "folder", "file"])
def test_help_runs_as_a_module_and_by_path(how: str) -> None:
    command = {
        "module": ["-m", MODULE],
        "folder": ["runway_ext/hooks/docker_compose_integration"],
        "file": ["runway_ext/hooks/docker_compose_integration/__main__.py"],
    }[how]
    for argv in ([], ["start"]):
        done = subprocess.run(
            [sys.executable, *command, *argv, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"usage: python -m {MODULE} {' '.join(argv)}".rstrip())
        assert "Error" not in done.stderr


# -- no daemon / no plugin (real docker client, no engine) ------------------------------------------
def cli(cwd: Path, *argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.skipif(compose_unavailable_reason() is not None, reason=str(compose_unavailable_reason()))
def test_no_daemon_is_one_line_saying_how(tmp_path: Path) -> None:
    folder = write_project(tmp_path, "unused", folder="proj")
    done = cli(folder, "start", "--env-file", ".env.compose", env={"DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"})
    assert done.returncode == 1
    socket = f"unix://{tmp_path}/no-daemon.sock"
    assert done.stderr.strip() == (
        f"error: docker daemon unreachable at {socket} (Cannot connect to the Docker daemon at {socket}. Is the docker daemon running?); "
        "start Docker or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST=unix:///var/run/docker.sock)"
    )


def test_no_compose_plugin_is_one_line_saying_how(tmp_path: Path) -> None:
    # A stand-in `docker` answering as a client without the compose plugin does (the real plugin cannot be hidden from the real client).
    bin_dir = stand_in_docker(tmp_path, "echo \"docker: '$1' is not a docker command.\" >&2\nexit 1\n")
    folder = write_project(tmp_path, "unused", folder="proj")
    done = cli(folder, "status", env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: docker compose v2 is not available ('docker compose' is not a docker command): install")
    no_docker = cli(folder, "status", env={"PATH": str(tmp_path / "empty")})
    assert no_docker.returncode == 1
    assert no_docker.stderr.strip().startswith("error: docker not found on PATH; install the Docker CLI with the Compose v2 plugin")


# -- the real engine ----------------------------------------------------------------------------------
@pytest.mark.docker
def test_start_status_stop_keep_then_remove_volumes(docker_env: DockerEngine, tmp_path: Path) -> None:
    folder = write_project(tmp_path, docker_env.base_image)
    name = project_name_from_folder(folder.name)
    common = {"working_directory": str(folder), "env_file": ".env.compose"}
    try:
        started = start_containers_hook(None, None, **common, wait_timeout=120)
        assert started, "start failed"
        assert (started["project"], started["action"], started["ready"], started["changed"]) == (
            name,
            "started",
            True,
            ["api-public", "worker"],
        )
        assert {row["service"]: row["state"] for row in started["services"]} == {"api-public": "healthy", "worker": "running"}
        # what docker itself says
        assert project_containers(name) == {f"{name}-api-public-1": "running", f"{name}-worker-1": "running"}
        assert health(f"{name}-api-public-1") == "healthy"
        first_ids = docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={name}").split()

        again = start_containers_hook(None, None, **common, wait_timeout=120)
        assert (again["action"], again["changed"]) == ("unchanged", [])
        assert sorted(docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={name}").split()) == sorted(first_ids)

        status = status_hook(None, None, **common)
        assert (status["ready"], status["not_ready"]) == (True, [])
        assert [(row["service"], row["state"], row["containers"]) for row in status["services"]] == [
            ("api-public", "healthy", 1),
            ("worker", "running", 1),
        ]

        stopped_only = stop_containers_hook(None, None, **common, cleanup=False, services=["worker"], timeout=5)
        assert (stopped_only["action"], stopped_only["services"]) == ("stopped", ["worker"])
        assert project_containers(name) == {f"{name}-api-public-1": "running", f"{name}-worker-1": "exited"}

        kept = stop_containers_hook(None, None, **common)
        assert (kept["action"], kept["volumes_removed"]) == ("removed", [])
        assert project_containers(name) == {}
        assert project_volumes(name) == [f"{name}_data"]

        # the named volume outlived the containers: a new api container sees the first start's record
        assert start_containers_hook(None, None, **common, services=["api-public"], wait_timeout=120)
        starts = docker("exec", f"{name}-api-public-1", "cat", "/data/starts").splitlines()
        assert len(starts) == 2

        removed = stop_containers_hook(None, None, **common, remove_volumes=True)
        assert (removed["action"], removed["volumes_removed"]) == ("removed", [f"{name}_data"])
        assert project_containers(name) == {}
        assert project_volumes(name) == []

        nothing = stop_containers_hook(None, None, **common)
        assert nothing["action"] == "absent"
    finally:
        down(folder)


@pytest.mark.docker
def test_never_healthy_fails_within_wait_timeout_naming_it_with_its_logs(
    docker_env: DockerEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_project(tmp_path, docker_env.base_image, compose=NEVER_HEALTHY)
    caplog.set_level(logging.INFO, logger="runway_ext")
    wait_timeout = 6
    began = time.monotonic()
    try:
        result = start_containers_hook(
            None, None, working_directory=str(folder), env_file=".env.compose", services=["stuck", "fine"], wait_timeout=wait_timeout
        )
        elapsed = time.monotonic() - began
        assert result is False
        assert wait_timeout <= elapsed < wait_timeout + 20, f"took {elapsed:.1f}s"
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors[0].startswith("docker_compose_start: services not healthy after ")
        assert f"(wait_timeout {wait_timeout}s, project " in errors[0]
        assert "stuck (starting)" in errors[0]
        assert "fine" not in errors[0]
        assert "docker_compose_start: stuck: last 2 log lines:" in errors
        assert "docker_compose_start:     stuck waiting for a database" in errors
        status = status_hook(None, None, working_directory=str(folder), env_file=".env.compose")
        assert status["not_ready"] == ["crashes", "stuck"]  # crashes was never asked for: missing

        caplog.clear()
        crashed = start_containers_hook(
            None, None, working_directory=str(folder), env_file=".env.compose", services=["crashes"], wait_timeout=60
        )
        assert crashed is False
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert "crashes (exited 3)" in errors[0]
        assert "docker_compose_start:     config missing" in errors
    finally:
        down(folder)


@pytest.mark.docker
def test_missing_env_file_or_unknown_service_starts_nothing(
    docker_env: DockerEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_project(tmp_path, docker_env.base_image)
    name = project_name_from_folder(folder.name)
    caplog.set_level(logging.INFO, logger="runway_ext")
    assert start_containers_hook(None, None, working_directory=str(folder), env_file="missing.env") is False
    assert f"docker_compose_start: env_file: {folder.resolve()}/missing.env not found; nothing was started" in caplog.text
    assert start_containers_hook(None, None, working_directory=str(folder), env_file=".env.compose", services=["api-public", "db"]) is False
    assert "docker_compose_start: services: db not in docker-compose.yml (it defines: api-public, worker)" in caplog.text
    # without the env file the compose file cannot even be read (BASE_IMAGE is required)
    assert start_containers_hook(None, None, working_directory=str(folder)) is False
    assert "required variable BASE_IMAGE is missing a value" in caplog.text
    assert project_containers(name) == {}
    assert not [image for image in docker("images", "--format", "{{.Repository}}").split() if image.startswith(f"{name}-")]  # nothing built
    assert name not in docker("network", "ls", "--format", "{{.Name}}")


@pytest.mark.docker
def test_cli_start_status_stop(docker_env: DockerEngine, tmp_path: Path) -> None:
    folder = write_project(tmp_path, docker_env.base_image)
    name = project_name_from_folder(folder.name)
    try:
        start = cli(folder, "start", "--env-file", ".env.compose", "--services", "api-public", "worker", "--build", "--wait-timeout", "600")
        assert start.returncode == 0, start.stderr
        assert start.stdout.splitlines()[0].startswith(f"project {name}: started api-public, worker in ")
        assert "RUN echo built" in start.stderr  # --build ran the build (its output is logged)

        status = cli(folder, "status", "--env-file", ".env.compose")
        assert status.returncode == 0, status.stderr
        lines = status.stdout.splitlines()
        assert lines[0].split() == ["SERVICE", "STATE", "READY", "CONTAINERS", "STATUS"]
        assert lines[1].split()[:4] == ["api-public", "healthy", "yes", "1"]
        assert lines[2].split()[:4] == ["worker", "running", "yes", "1"]
        assert lines[-1] == f"project {name}: all ready"

        as_json = json.loads(cli(folder, "status", "--env-file", ".env.compose", "--json").stdout)
        assert (as_json["project"], as_json["ready"]) == (name, True)

        console = subprocess.run(
            [
                sys.executable,
                "-m",
                "runway_ext",
                "docker-compose-integration",
                "status",
                "--env-file",
                ".env.compose",
                "--services",
                "worker",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert console.returncode == 0, console.stderr
        assert console.stdout.splitlines()[1].split()[:2] == ["worker", "running"]

        stop = cli(folder, "stop", "--env-file", ".env.compose", "--cleanup", "--remove-volumes")
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.strip().endswith(f"volumes removed: {name}_data")
        assert project_containers(name) == {}
        assert project_volumes(name) == []

        bad = cli(folder, "stop", "--no-cleanup", "--remove-volumes")
        assert (bad.returncode, bad.stderr.strip()) == (
            1,
            "error: --remove-volumes: needs cleanup: true (volumes are removed together with the containers)",
        )
    finally:
        down(folder)


# -- through real Runway ------------------------------------------------------------------------------
def write_runway_project(root: Path, base_image: str, *, enabled_source: str) -> tuple[Path, str]:
    """A Runway project whose CFNgin module starts compose in pre_deploy and stops it in post_destroy.

    ``enabled_source`` is ``"true"``/``"false"`` (a variable in ``dev.env``) or ``"env"`` (a runway.yml
    parameter read from the ``RWX_COMPOSE_ENABLED`` environment variable).
    """
    module = root / "app.cfn"
    compose_dir = write_project(module, base_image, folder="local-stack")
    name = f"rwx-{uuid.uuid4().hex[:8]}"
    parameters = ""
    env_lines = "namespace: demo\n"
    if enabled_source == "env":
        parameters = "        parameters:\n          docker_compose_enabled: ${env RWX_COMPOSE_ENABLED::default=false}\n"
    else:
        env_lines += f"docker_compose_enabled: {enabled_source}\n"
    (root / "runway.yml").write_text(
        "deployments:\n  - modules:\n      - path: app.cfn\n" + parameters + "    regions:\n      - us-east-1\n"
    )
    (module / "dev.env").write_text(env_lines)
    (module / "config.yml").write_text(
        f"""namespace: ${{namespace}}
cfngin_bucket: ""
pre_deploy:
  - path: {HOOKS}.start_containers_hook
    enabled: ${{docker_compose_enabled}}
    args:
      working_directory: {compose_dir.name}
      env_file: .env.compose
      project_name: {name}
      wait_timeout: 120
post_deploy:
  - path: {HOOKS}.status_hook
    enabled: ${{docker_compose_enabled}}
    args:
      working_directory: {compose_dir.name}
      env_file: .env.compose
      project_name: ${{hook_data runway_ext.docker_compose_start.project}}
post_destroy:
  - path: {HOOKS}.stop_containers_hook
    enabled: ${{docker_compose_enabled}}
    args:
      working_directory: {compose_dir.name}
      env_file: .env.compose
      project_name: {name}
      remove_volumes: true
      timeout: 5
stacks: []
"""
    )
    return compose_dir, name


@pytest.mark.docker
@pytest.mark.runway
@pytest.mark.parametrize("enabled_source", ["true", "env"])
def test_runway_deploy_starts_and_destroy_stops(docker_env: DockerEngine, aws: MotoServer, tmp_path: Path, enabled_source: str) -> None:
    compose_dir, name = write_runway_project(tmp_path, docker_env.base_image, enabled_source=enabled_source)
    environment = {**aws.environment(), **docker_env.environment(), "PATH": os.environ["PATH"], "RWX_COMPOSE_ENABLED": "true"}
    try:
        deploy = run_runway(tmp_path, ["deploy", "--ci"], environment=environment)
        assert deploy.ok, deploy.output
        ours = [line for line in deploy.output.splitlines() if f"project {name}" in line or HOOK_ERROR.search(line)]
        assert any(f"project {name}: started api-public, worker in " in line for line in ours), ours
        # post_deploy status, its project_name fed by ${hook_data runway_ext.docker_compose_start.project}
        assert any(line.endswith(f"project {name}: api-public healthy, worker running") for line in ours), ours
        assert project_containers(name) == {f"{name}-api-public-1": "running", f"{name}-worker-1": "running"}
        assert health(f"{name}-api-public-1") == "healthy"
        assert project_volumes(name) == [f"{name}_data"]

        destroy = run_runway(tmp_path, ["destroy", "--ci"], environment=environment)
        assert destroy.ok, destroy.output
        assert f"volumes removed: {name}_data" in destroy.output
        assert project_containers(name) == {}
        assert project_volumes(name) == []
        assert "Traceback" not in deploy.output + destroy.output
    finally:
        down(compose_dir)


@pytest.mark.docker
@pytest.mark.runway
@pytest.mark.parametrize("enabled_source", ["false", "env"])
def test_runway_enabled_false_skips_the_hooks(docker_env: DockerEngine, aws: MotoServer, tmp_path: Path, enabled_source: str) -> None:
    compose_dir, name = write_runway_project(tmp_path, docker_env.base_image, enabled_source=enabled_source)
    # with the gate open these hooks would fail: no env file -> proves they did not run at all
    (compose_dir / ".env.compose").unlink()
    environment = {**aws.environment(), **docker_env.environment(), "PATH": os.environ["PATH"]}
    environment.pop("RWX_COMPOSE_ENABLED", None)  # the runway.yml lookup falls back to its default: false
    deploy = run_runway(tmp_path, ["deploy", "--ci"], environment=environment)
    assert deploy.ok, deploy.output
    destroy = run_runway(tmp_path, ["destroy", "--ci"], environment=environment)
    assert destroy.ok, destroy.output
    # Runway names every hook of a stage in "executing ... hooks: ...", then skips the disabled ones
    ours = [line for line in (deploy.output + destroy.output).splitlines() if f"project {name}" in line or HOOK_ERROR.search(line)]
    assert ours == []
    assert project_containers(name) == {}


@pytest.mark.docker
def test_a_missing_image_is_never_pulled(docker_env: DockerEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    compose = "services:\n  db:\n    image: rwx-not-here/postgres:16\n    init: true\n"
    folder = write_project(tmp_path, docker_env.base_image, compose=compose)
    caplog.set_level(logging.INFO, logger="runway_ext")
    try:
        assert start_containers_hook(None, None, working_directory=str(folder), wait_timeout=30) is False
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors[0].startswith("docker_compose_start: docker compose up failed (exit code ")
        assert any("No such image: rwx-not-here/postgres:16" in line for line in errors), errors
        assert "rwx-not-here/postgres" not in docker("images", "--format", "{{.Repository}}")
        assert project_containers(project_name_from_folder(folder.name)) == {}
    finally:
        down(folder)
