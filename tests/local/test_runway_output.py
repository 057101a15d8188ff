"""The failure summary names the failed step and its cause in one line; stacks show what this run did to them.

The Runway lines here are copied from real ``runway deploy --ci`` runs (the format of Runway 2.8's step log
and hook errors); the last test runs Runway for real against a plain moto server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.hook import one_line_cause
from runway_ext.local.moto_server import free_port
from runway_ext.local.runway_output import TracebackFolder, failure_cause, step_verdicts
from runway_ext.local.summary import render_summary
from tests.local.tiny_project import RUNWAY_EXT, cli_environment, tiny_project

ENDPOINT = "http://127.0.0.1:4566"
HTTP_500_LINES = [
    "[runway] store:submitted (creating new stack)",
    "Traceback (most recent call last):",
    '  File "/x/botocore/parsers.py", line 505, in _parse_xml_string_to_dom',
    "    parser.feed(xml_string)",
    "xml.etree.ElementTree.ParseError: syntax error: line 1, column 0",
    "[runway] site:failed (Unable to parse response (syntax error: line 1, column 0), invalid XML received. Further retries may succeed:",
    "b'<!doctype html>\\n<html lang=en>\\n<title>500 Internal Server Error</title>\\n')",
    "[runway] store:complete (creating new stack)",
    "[runway] The following steps failed: site",
]


def test_a_failed_hook_in_the_journal_is_the_cause() -> None:
    entries = [
        {"hook": "npm_build", "ok": True, "result": {}},
        {"hook": "sam_deploy", "ok": False, "error": "sam deploy failed: Error: boom"},
    ]
    assert failure_cause(HTTP_500_LINES, entries, endpoint=ENDPOINT) == "hook sam_deploy: sam deploy failed: Error: boom"


def test_a_failed_stack_step_names_the_stack_and_a_plain_moto_is_named() -> None:
    cause = failure_cause(HTTP_500_LINES, [], endpoint=ENDPOINT, is_serve=False)
    assert cause.startswith("stack site: the AWS stand-in at http://127.0.0.1:4566 answered HTTP 500: it is not a `runway-ext local serve`")
    assert cause.endswith("start `runway-ext local serve --port 4566`")
    assert "\n" not in cause


def test_a_required_hook_that_failed_is_named_with_the_line_before_it() -> None:
    lines = [
        "[runway] executing pre_deploy hooks: runway.cfngin.hooks.command.run_command",
        "[runway] running command: ['false']",
        "[runway] command failed with returncode 1",
        "[runway] required hook runway.cfngin.hooks.command.run_command failed; return value: {}",
    ]
    assert failure_cause(lines, [], endpoint=ENDPOINT) == "hook runway.cfngin.hooks.command.run_command: command failed with returncode 1"


def test_an_exception_is_the_cause_when_nothing_else_is() -> None:
    lines = ["[runway] config.yml:init (in progress)", "Traceback (most recent call last):", '  File "x", line 1', "KeyError: 'bucket'"]
    assert failure_cause(lines, [], endpoint=ENDPOINT) == "runway: KeyError: 'bucket'"


def test_step_verdicts_keep_the_last_status_of_each_stack_and_skip_modules() -> None:
    verdicts = step_verdicts([*HTTP_500_LINES, "[runway] tiny.app.cfn:processing module in us-east-1 (complete)"])
    assert {name: verdict.status for name, verdict in verdicts.items()} == {"store": "complete", "site": "failed"}
    assert verdicts["site"].reason == "the stand-in answered HTTP 500"


def test_the_summary_says_which_stack_failed_beside_its_status() -> None:
    stacks = [{"StackName": "tiny-store", "StackStatus": "CREATE_COMPLETE"}, {"StackName": "tiny-site", "StackStatus": "CREATE_COMPLETE"}]
    lines = [line.replace("site:failed", "site:failed", 1) for line in HTTP_500_LINES]
    summary = render_summary("deploy", ENDPOINT, stacks, [], False, failure="stack site: x", verdicts=step_verdicts(lines))
    assert summary.splitlines()[1] == "failed: stack site: x"
    assert "  tiny-site: CREATE_COMPLETE (this run: failed: the stand-in answered HTTP 500)" in summary
    assert "  tiny-store: CREATE_COMPLETE\n" in summary


def test_a_failed_step_without_a_stack_gets_its_own_line() -> None:
    summary = render_summary("deploy", ENDPOINT, [], [], False, failure="stack site: x", verdicts=step_verdicts(HTTP_500_LINES))
    assert "  site: not created (this run: failed: the stand-in answered HTTP 500)" in summary


def test_a_traceback_is_folded_into_one_line_naming_its_exception() -> None:
    shown: list[str] = []
    folder = TracebackFolder(shown.append, "/tmp/run.log")
    for line in HTTP_500_LINES[:5] + ["[runway] next"]:
        folder(line)
    assert shown == [
        "[runway] store:submitted (creating new stack)",
        "[runway] xml.etree.ElementTree.ParseError: syntax error: line 1, column 0 (a traceback of 3 lines folded; full output: /tmp/run.log)",
        "[runway] next",
    ]


def test_a_program_failure_is_one_line_with_the_output_line_that_says_why() -> None:
    error = HookError(
        "sam deploy failed (exit code 1); last output:\n    Deploying with following values\n    Error: Failed to create changeset for the stack: api\n    bye"
    )
    assert one_line_cause(error) == "sam deploy failed (exit code 1): Error: Failed to create changeset for the stack: api"
    assert one_line_cause(HookError("bucket_name: field required")) == "bucket_name: field required"


CDN_STACK = """  - name: site
    class_path: runway_ext.blueprints.cdn.StaticSiteCdn
    variables:
      Comment: tiny site
"""


@pytest.mark.runway
def test_a_plain_moto_endpoint_that_cannot_deploy_the_cdn_says_so_in_one_line(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    config = project / "app.cfn" / "config.yml"
    config.write_text(config.read_text().replace("stacks:\n", "stacks:\n" + CDN_STACK))
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import socket,time\nfor _ in range(100):\n  try: socket.create_connection(('127.0.0.1',{port}),1); break\n  except OSError: time.sleep(0.1)",
            ],
            check=True,
        )
        done = subprocess.run(
            [RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off", "--endpoint", f"http://localhost:{port}"],
            cwd=tmp_path,
            env=cli_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output and '  File "' not in output, output
    assert f"warning: endpoint: http://127.0.0.1:{port} answers but is not a `runway-ext local serve` of this user" in done.stderr
    summary = done.stdout[done.stdout.index("runway-ext local deploy: FAILED") :].splitlines()
    assert summary[1].startswith(
        f"failed: stack site: the AWS stand-in at http://127.0.0.1:{port} answered HTTP 500: it is not a `runway-ext local serve`"
    ), summary
    assert f"start `runway-ext local serve --port {port}`" in summary[1]
    assert "  site: not created (this run: failed: the stand-in answered HTTP 500)" in summary
    assert any(line.startswith("  tiny-store: CREATE_COMPLETE") for line in summary)


def test_an_output_lookup_in_a_pre_deploy_hook_names_the_fix() -> None:
    lines = [  # Runway 2.8's lines for `${output store.BucketName}` in a pre_deploy hook's args
        "[runway] executing pre_deploy hooks: runway_ext.hooks.env_file_generator.cfngin_hook",
        '[runway] lookups that change the order of execution, like "output", can only be used in "post_*" hooks; please '
        "ensure that the hook being used does not rely on a stack, hook_data, or context that does not exist yet",
        "Traceback (most recent call last):",
        "runway.exceptions.OutputDoesNotExist: Output BucketName does not exist on stack tiny-store",
    ]
    assert failure_cause(lines, [], endpoint=ENDPOINT) == (
        "hook runway_ext.hooks.env_file_generator.cfngin_hook (pre_deploy): an ${output …} lookup cannot resolve before its "
        "stack is deployed: move the hook to post_deploy, or read a stack deployed earlier with ${cfn STACK.OUTPUT}"
    )


@pytest.mark.runway
def test_an_output_lookup_in_pre_deploy_fails_the_local_deploy_with_the_fix(tmp_path: Path) -> None:
    hooks = """pre_deploy:
  - path: runway_ext.hooks.env_file_generator.cfngin_hook
    args:
      output_file: ../.env.local
      variables:
        BUCKET: ${output store.BucketName}
"""
    project = tiny_project(tmp_path / "project", hooks=hooks)
    done = subprocess.run(
        [RUNWAY_EXT, "local", "deploy", str(project), "--docker", "off"],
        cwd=tmp_path, env=cli_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    summary = done.stdout[done.stdout.index("runway-ext local deploy: FAILED") :].splitlines()
    assert summary[1].startswith("failed: hook runway_ext.hooks.env_file_generator.cfngin_hook (pre_deploy): an ${output …} lookup")
    assert "move the hook to post_deploy" in summary[1]
    assert "Traceback" not in done.stdout + done.stderr
