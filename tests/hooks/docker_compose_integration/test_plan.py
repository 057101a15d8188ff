"""The pure decisions: ps output parsing, service states, readiness, what a start or stop did, command lines, project names, texts."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_ext.core.errors import HookError
from runway_ext.hooks.docker_compose_integration.args import StartArgs, StopArgs
from runway_ext.hooks.docker_compose_integration.plan import (
    ComposeOutputError,
    ComposeProject,
    ContainerStatus,
    ServiceStatus,
    changed_services,
    classify,
    clean_log_lines,
    compose_major_version,
    describe_states,
    not_ready,
    not_ready_message,
    parse_ps_output,
    parse_service_list,
    project_name_from_folder,
    removed_volumes,
    render_status_table,
    select_services,
    services_to_blame,
    start_action,
    status_from_dict,
    stop_action,
    stop_argv,
    summarise_services,
    unknown_services,
    up_argv,
    up_timeout,
)
from tests.support.docker_engine import compose_command, compose_unavailable_reason

# Two rows as docker compose 2.26.1 printed them for a healthy service and one without a healthcheck.
API_ROW = {
    "Command": '"sh -c \'touch /tmp/r…"',
    "CreatedAt": "2026-11-23 20:56:02 +0000 UTC",
    "ExitCode": 0,
    "Health": "healthy",
    "ID": "7e9d644ab342",
    "Image": "rwx-test/api:dev",
    "Labels": "com.docker.compose.version=2.26.1,com.docker.compose.oneoff=False,com.docker.compose.project=t1,"
    "com.docker.compose.service=api-public",
    "LocalVolumes": "1",
    "Name": "t1-api-public-1",
    "Project": "t1",
    "Publishers": None,
    "Service": "api-public",
    "State": "running",
    "Status": "Up 1 second (healthy)",
}
WORKER_ROW = {
    **API_ROW,
    "Health": "",
    "ID": "4b5080017b1d",
    "Name": "t1-worker-1",
    "Service": "worker",
    "Status": "Up 1 second",
    "Labels": "com.docker.compose.oneoff=False,com.docker.compose.service=worker",
}


def container(
    service: str, state: str = "running", health: str = "", *, name: str = "", exit_code: int = 0, cid: str = ""
) -> ContainerStatus:
    return ContainerStatus(
        service=service, name=name or f"p-{service}-1", container_id=cid or f"id-{service}", state=state, health=health, exit_code=exit_code
    )


class TestParsePsOutput:
    def test_json_lines_of_compose_2_21_and_later(self) -> None:
        text = json.dumps(API_ROW) + "\n" + json.dumps(WORKER_ROW) + "\n"
        parsed = parse_ps_output(text)
        assert [(c.service, c.state, c.health, c.container_id) for c in parsed] == [
            ("api-public", "running", "healthy", "7e9d644ab342"),
            ("worker", "running", "", "4b5080017b1d"),
        ]
        assert parsed[0].name == "t1-api-public-1"
        assert not parsed[0].one_off

    def test_json_array_of_older_compose(self) -> None:
        assert parse_ps_output(json.dumps([API_ROW, WORKER_ROW])) == parse_ps_output(json.dumps(API_ROW) + "\n" + json.dumps(WORKER_ROW))

    @pytest.mark.parametrize("text", ["", "\n", "  \n", "[]"])
    def test_nothing_running_is_no_container(self, text: str) -> None:
        assert parse_ps_output(text) == []

    def test_exit_code_and_one_off_label(self) -> None:
        row = {**WORKER_ROW, "State": "exited", "ExitCode": 3, "Labels": "com.docker.compose.oneoff=True"}
        (parsed,) = parse_ps_output(json.dumps(row))
        assert (parsed.state, parsed.exit_code, parsed.one_off) == ("exited", 3, True)

    def test_labels_as_mapping(self) -> None:
        (parsed,) = parse_ps_output(json.dumps({**WORKER_ROW, "Labels": {"com.docker.compose.oneoff": "True"}}))
        assert parsed.one_off

    @pytest.mark.parametrize("text", ["not json", '{"Service": "a"', "[1, 2]", json.dumps({"State": "running"})])
    def test_garbage_is_a_clear_error(self, text: str) -> None:
        with pytest.raises(ComposeOutputError, match="docker compose ps"):
            parse_ps_output(text)

    @settings(max_examples=50, deadline=None)
    @given(
        st.lists(
            st.fixed_dictionaries(
                {
                    "Service": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
                    "State": st.sampled_from(["running", "exited", "created", "restarting", "paused", "dead"]),
                    "Health": st.sampled_from(["", "healthy", "unhealthy", "starting"]),
                    "ExitCode": st.integers(0, 255),
                    "ID": st.text("0123456789abcdef", min_size=12, max_size=12),
                }
            ),
            max_size=6,
        )
    )
    def test_lines_and_array_agree(self, rows: list[dict[str, object]]) -> None:
        lines = "\n".join(json.dumps(row) for row in rows)
        assert parse_ps_output(lines) == parse_ps_output(json.dumps(rows))


class TestClassify:
    @pytest.mark.parametrize(
        ("state", "health", "expected"),
        [
            ("running", "healthy", "healthy"),
            ("running", "", "running"),
            ("running", "starting", "starting"),
            ("running", "unhealthy", "unhealthy"),
            ("exited", "", "exited"),
            ("exited", "unhealthy", "exited"),
            ("Running", "Healthy", "healthy"),
            ("restarting", "", "restarting"),
            ("created", "", "created"),
            ("", "", "unknown"),
        ],
    )
    def test_one_word_per_container(self, state: str, health: str, expected: str) -> None:
        assert classify(state, health) == expected


class TestSummariseServices:
    def test_requested_order_and_missing_services(self) -> None:
        summary = summarise_services([container("worker"), container("api", health="healthy")], ["api", "db", "worker"])
        assert [(s.service, s.state, s.containers) for s in summary] == [
            ("api", "healthy", 1),
            ("db", "missing", 0),
            ("worker", "running", 1),
        ]
        assert [s.ready for s in summary] == [True, False, True]

    def test_worst_container_speaks_for_a_scaled_service(self) -> None:
        members = [
            container("web", health="healthy", name="p-web-1", cid="a"),
            container("web", health="starting", name="p-web-2", cid="b"),
        ]
        (web,) = summarise_services(members, ["web"])
        assert (web.state, web.containers, web.container_ids, web.ready) == ("starting", 2, ("a", "b"), False)

    def test_exited_service_keeps_its_exit_code(self) -> None:
        (job,) = summarise_services([container("job", "exited", exit_code=3)], ["job"])
        assert (job.state, job.exit_code, job.describe()) == ("exited", 3, "job (exited 3)")

    def test_running_service_has_no_exit_code(self) -> None:
        (web,) = summarise_services([container("web")], ["web"])
        assert web.exit_code is None
        assert web.describe() == "web (running)"

    def test_one_off_run_containers_are_ignored(self) -> None:
        one_off = ContainerStatus("web", "p-web-run-1", "x", "exited", exit_code=1, one_off=True)
        (web,) = summarise_services([one_off, container("web", health="healthy")], ["web"])
        assert (web.state, web.containers) == ("healthy", 1)

    def test_dict_round_trip(self) -> None:
        (job,) = summarise_services([container("job", "exited", exit_code=2)], ["job"])
        data = job.as_dict()
        assert data["ready"] is False
        again = status_from_dict(data)
        assert (again.service, again.state, again.exit_code, again.containers) == ("job", "exited", 2, 1)


class TestDecisions:
    def test_not_ready(self) -> None:
        summary = summarise_services(
            [container("a", health="healthy"), container("b"), container("c", health="unhealthy"), container("d", "exited")],
            ["a", "b", "c", "d", "e"],
        )
        assert [s.service for s in not_ready(summary)] == ["c", "d", "e"]

    def test_changed_services(self) -> None:
        before = summarise_services(
            [container("a", health="healthy", cid="1"), container("b", "exited", cid="2"), container("c", cid="3")], ["a", "b", "c", "d"]
        )
        after = summarise_services(
            [container("a", health="healthy", cid="1"), container("b", cid="2"), container("c", cid="9"), container("d", cid="4")],
            ["a", "b", "c", "d"],
        )
        # a: same container, was healthy -> unchanged; b: restarted; c: recreated; d: new
        assert changed_services(before, after) == ["b", "c", "d"]
        assert changed_services(after, after) == []

    def test_unknown_services(self) -> None:
        assert unknown_services(["api", "nope", "worker", "x"], ["api", "worker"]) == ["nope", "x"]
        assert unknown_services([], ["api"]) == []

    def test_parse_service_list(self) -> None:
        assert parse_service_list("worker\napi-public\n\n") == ["worker", "api-public"]


class TestProjectName:
    @pytest.mark.parametrize(
        ("folder", "expected"),
        [
            ("app", "app"),
            ("My App", "myapp"),
            ("Shop.API_v2", "shopapi_v2"),
            ("__hidden-dir", "hidden-dir"),
            ("-x-", "x-"),
            ("7up", "7up"),
            ("café", "caf"),
        ],
    )
    def test_compose_normalisation(self, folder: str, expected: str) -> None:
        assert project_name_from_folder(folder) == expected

    @pytest.mark.parametrize("folder", ["___", "...", "", "éé", "-_-"])
    def test_nothing_left_asks_for_project_name(self, folder: str) -> None:
        with pytest.raises(ValueError, match="set project_name"):
            project_name_from_folder(folder)


FOLDER_NAMES = st.text(alphabet=st.sampled_from("abcXYZ019_-. +éßKİ"), min_size=1, max_size=12).filter(lambda name: name not in (".", ".."))


@pytest.mark.skipif(compose_unavailable_reason() is not None, reason=str(compose_unavailable_reason()))
@settings(max_examples=30, deadline=None)
@given(FOLDER_NAMES)
def test_project_name_matches_real_compose(folder: str) -> None:
    """The real ``docker compose config`` (no daemon needed) names the project from the folder as we do."""
    command = compose_command()
    assert command is not None
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / folder
        project.mkdir()
        (project / "docker-compose.yml").write_text("services:\n  web:\n    image: runway-ext/none:never\n")
        env = {"DOCKER_CONFIG": tmp, "DOCKER_HOST": f"unix://{tmp}/no-daemon.sock", "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [*command, "config", "--format", "json"], cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
        )
    try:
        expected = project_name_from_folder(folder)
    except ValueError:
        assert done.returncode != 0
        assert "project name must not be empty" in done.stderr.lower()
    else:
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["name"] == expected


class TestLogsAndTable:
    def test_log_lines_lose_terminal_escapes_and_keep_the_last(self) -> None:
        text = "\x1b[2Kline 1\n\x1b[2Kline 2\r\n\n\x1b[31mline 3\x1b[0m\n"
        assert clean_log_lines(text, 2) == ["line 2", "line 3"]
        assert clean_log_lines(text, 0) == []

    def test_table_is_aligned(self) -> None:
        table = render_status_table(
            [
                ServiceStatus("api-public", "healthy", "healthy", 1, None, "Up 3 seconds (healthy)"),
                ServiceStatus("db", "missing"),
            ]
        )
        lines = table.splitlines()
        assert lines[0].split() == ["SERVICE", "STATE", "READY", "CONTAINERS", "STATUS"]
        assert lines[1].split()[:4] == ["api-public", "healthy", "yes", "1"]
        assert lines[2].split() == ["db", "missing", "no", "0", "-"]
        assert lines[1].index("healthy") == lines[0].index("STATE") == lines[2].index("missing")


class TestCommandLines:
    def test_up_never_pulls_and_waits_bounded(self) -> None:
        args = StartArgs(services=["api-public", "worker"], wait_timeout=600)
        assert up_argv(args, built=False) == [
            "up",
            "--detach",
            "--pull",
            "never",
            "--wait",
            "--wait-timeout",
            "600",
            "api-public",
            "worker",
        ]
        assert up_argv(StartArgs(health_check=False, pull="missing"), built=True) == ["up", "--detach", "--pull", "missing", "--no-build"]

    def test_up_timeout_covers_the_wait_and_a_build_of_missing_images(self) -> None:
        assert up_timeout(StartArgs(wait_timeout=300, build_timeout=1800), grace=120) == 300 + 1800 + 120
        assert up_timeout(StartArgs(wait_timeout=300, build=True), grace=120) == 300 + 120  # built before up
        assert up_timeout(StartArgs(health_check=False, build_timeout=60), grace=10) == 60 + 10  # no wait

    def test_stop_is_down_or_stop(self) -> None:
        assert stop_argv(StopArgs(remove_volumes=True, timeout=5)) == ["down", "--timeout", "5", "--volumes"]
        assert stop_argv(StopArgs(cleanup=False, services=["worker"])) == ["stop", "--timeout", "30", "worker"]

    def test_project_flags_come_first(self) -> None:
        project = ComposeProject("shop", Path("/p/docker-compose.yml"), Path("/p/.env"), Path("/p"), docker="/usr/bin/docker")
        assert project.argv("ps") == [
            "/usr/bin/docker", "compose", "--ansi", "never", "--progress", "plain",
            "--project-name", "shop", "--file", "/p/docker-compose.yml", "--env-file", "/p/.env", "ps",
        ]  # fmt: skip
        assert "--env-file" not in ComposeProject("shop", Path("/p/c.yml"), None, Path("/p")).argv("ps")

    @pytest.mark.parametrize(
        ("text", "major"), [("2.26.1-4\n", 2), ("v2.29.0", 2), ("5.0.1", 5), ("1.29.2", 1), ("", None), ("garbage", None)]
    )
    def test_compose_version(self, text: str, major: int | None) -> None:
        assert compose_major_version(text) == major


class TestWhatHappened:
    def test_select_services_checks_the_requested_ones(self) -> None:
        assert select_services([], ["api", "worker"], "docker-compose.yml") == ["api", "worker"]
        assert select_services(["worker"], ["api", "worker"], "docker-compose.yml") == ["worker"]
        with pytest.raises(HookError, match=r"^services: db, x not in c\.yml \(it defines: api, worker\)$"):
            select_services(["db", "api", "x"], ["api", "worker"], "c.yml")
        with pytest.raises(HookError, match=r"\(it defines: nothing\)"):
            select_services(["api"], [], "c.yml")

    def test_start_action(self) -> None:
        assert (start_action(["api"]), start_action([])) == ("started", "unchanged")

    def test_a_failed_up_blames_the_services_not_ready(self) -> None:
        statuses = summarise_services([container("a", health="healthy"), container("b", health="unhealthy")], ["a", "b", "c"])
        assert [s.service for s in services_to_blame(statuses)] == ["b", "c"]

    def test_a_failed_up_without_any_container_blames_none(self) -> None:
        # compose stopped before creating containers (image, build, config): its own output says why
        assert services_to_blame(summarise_services([], ["a", "b"])) == []
        assert services_to_blame(summarise_services([container("a", health="healthy")], ["a"])) == []

    @pytest.mark.parametrize(
        ("containers", "cleanup", "action"),
        [
            ([], True, "absent"),
            ([], False, "absent"),
            ([container("a"), container("b", "exited")], True, "removed"),
            ([container("a"), container("b", "exited")], False, "stopped"),
            ([container("a", "exited"), container("b", "created")], False, "already-stopped"),
        ],
    )
    def test_stop_action(self, containers: list[ContainerStatus], cleanup: bool, action: str) -> None:
        assert stop_action(summarise_services(containers, ["a", "b"]), cleanup=cleanup) == action

    def test_removed_volumes(self) -> None:
        assert removed_volumes(["p_data", "p_cache", "other"], ["other"]) == ["p_cache", "p_data"]
        assert removed_volumes([], ["x"]) == []

    def test_describe_states(self) -> None:
        statuses = summarise_services([container("api", health="healthy"), container("worker")], ["api", "worker"])
        assert describe_states(statuses) == "api healthy, worker running"
        assert describe_states([]) == "no services"

    def test_not_ready_message_names_each_service_then_its_logs(self) -> None:
        failing = summarise_services(
            [container("stuck", health="starting"), container("crashes", "exited", exit_code=3)], ["stuck", "crashes"]
        )
        message = not_ready_message("shop", failing, wait_timeout=6, elapsed=6.4, logs={"stuck": ["waiting", "still waiting"]})
        assert message.splitlines() == [
            "services not healthy after 6s (wait_timeout 6s, project shop): stuck (starting), crashes (exited 3); "
            "containers left as they are for inspection (stop them with the stop action)",
            "stuck: last 2 log lines:",
            "    waiting",
            "    still waiting",
            "crashes: no log output",
        ]
