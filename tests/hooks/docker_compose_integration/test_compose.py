"""Locating a compose project on disk and connecting to docker: files, names, the compose plugin, the daemon.

The connection tests use stand-in ``docker`` scripts where a real client cannot show the case (the
real compose plugin is installed machine-wide and cannot be hidden from it), and the real client
pointed at a socket nobody listens on for a missing daemon.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_compose_integration.args import StartArgs
from runway_ext.hooks.docker_compose_integration.compose import connect, locate_project
from tests.hooks.docker_compose_integration.projects import stand_in_docker, write_project
from tests.support.docker_engine import compose_unavailable_reason


class TestLocateProject:
    def test_project_from_folder_and_files(self, tmp_path: Path) -> None:
        folder = write_project(tmp_path, "unused", folder="My Shop.App")
        project = locate_project(StartArgs(env_file=Path(".env.compose"), working_directory=folder))
        assert project.name == "myshopapp"
        assert project.compose_file == folder.resolve() / "docker-compose.yml"
        assert project.env_file == folder.resolve() / ".env.compose"
        assert project.working_directory == folder.resolve()
        argv = project.argv("ps")
        assert argv[argv.index("--project-name") + 1] == "myshopapp"
        assert locate_project(StartArgs(project_name="shop", working_directory=folder)).name == "shop"

    def test_relative_paths_start_from_the_current_folder(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        folder = write_project(tmp_path, "unused", folder="proj")
        monkeypatch.chdir(folder)
        project = locate_project(StartArgs())
        assert (project.name, project.working_directory, project.env_file) == ("proj", folder.resolve(), None)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ({"compose_file": "nope.yml"}, "compose_file: {dir}/nope.yml not found"),
            ({"env_file": "missing.env"}, "env_file: {dir}/missing.env not found; nothing was done"),
            ({"working_directory": "elsewhere"}, "working_directory: {dir}/elsewhere is not a folder"),
        ],
    )
    def test_missing_files_name_the_field(self, tmp_path: Path, raw: dict[str, str], message: str) -> None:
        folder = write_project(tmp_path, "unused", folder="proj")
        with pytest.raises(HookError, match="^" + message.format(dir=folder.resolve())):
            locate_project(StartArgs(**raw), cwd=folder)  # type: ignore[arg-type]

    def test_the_missing_env_file_error_says_what_was_left_undone(self, tmp_path: Path) -> None:
        folder = write_project(tmp_path, "unused", folder="proj")
        with pytest.raises(HookError, match="missing.env not found; nothing was started$"):
            locate_project(StartArgs(env_file=Path("missing.env")), cwd=folder, untouched="nothing was started")

    def test_folder_without_a_usable_name_needs_project_name(self, tmp_path: Path) -> None:
        folder = write_project(tmp_path, "unused", folder="___")
        with pytest.raises(HookError, match="^project_name: folder name '___' gives no valid compose project name"):
            locate_project(StartArgs(working_directory=folder))


class TestConnect:
    def test_no_docker_on_path(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        project = locate_project(StartArgs(working_directory=write_project(tmp_path, "unused", folder="proj")))
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        with pytest.raises(HookError, match="^docker not found on PATH; install the Docker CLI with the Compose v2 plugin"):
            connect(project)

    def test_no_compose_plugin(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        project = locate_project(StartArgs(working_directory=write_project(tmp_path, "unused", folder="proj")))
        bin_dir = stand_in_docker(tmp_path, "echo \"docker: '$1' is not a docker command.\" >&2\nexit 1\n")
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
        with pytest.raises(HookError, match=r"^docker compose v2 is not available \('docker compose' is not a docker command\): install"):
            connect(project)

    def test_compose_v1_is_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        project = locate_project(StartArgs(working_directory=write_project(tmp_path, "unused", folder="proj")))
        bin_dir = stand_in_docker(tmp_path, "echo 1.29.2\n")
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
        with pytest.raises(HookError, match=r"\(found 1\.29\.2\).*the old docker-compose v1 is not supported$"):
            connect(project)

    def test_a_client_with_plugin_and_daemon_is_kept(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        project = locate_project(StartArgs(working_directory=write_project(tmp_path, "unused", folder="proj")))
        bin_dir = stand_in_docker(
            tmp_path, 'case "$1 $2" in\n  "compose version") echo 2.26.1 ;;\n  "version --format") echo 26.1.4 ;;\n  *) exit 1 ;;\nesac\n'
        )
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
        connected = connect(project)
        assert connected.docker == str(bin_dir / "docker")
        assert connected.argv("ps")[0] == str(bin_dir / "docker")
        assert (connected.name, connected.compose_file) == (project.name, project.compose_file)

    @pytest.mark.skipif(compose_unavailable_reason() is not None, reason=str(compose_unavailable_reason()))
    def test_no_daemon_says_where_it_looked_and_how_to_fix_it(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        project = locate_project(StartArgs(working_directory=write_project(tmp_path, "unused", folder="proj")))
        socket = f"unix://{tmp_path}/no-daemon.sock"
        monkeypatch.setenv("DOCKER_HOST", socket)
        with pytest.raises(HookError) as error:
            connect(project)
        assert str(error.value).startswith(f"docker daemon unreachable at {socket} (Cannot connect to the Docker daemon at {socket}.")
        assert str(error.value).endswith(
            "; start Docker or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST=unix:///var/run/docker.sock)"
        )
