"""README's "Use it in your own Runway project", exactly as written: its files taken from the page and deployed locally.

Every ```yaml block of that section whose first line is ``# my-project/PATH`` becomes that file; the real
``runway-ext local deploy`` (real runway, moto stand-in) must deploy its stack and run its hook. Then what
happens when Runway skips modules: the page's project without its env file, a module switched off, an
environment the module does not list, and a deployment where one module runs and one is skipped (a success).
``deploy --serve`` prints the console's address and the console lists the stack.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli_process import RUNWAY_EXT, ServedCli, console_address

REPO = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```yaml\n# my-project/(?P<path>\S+)\n(?P<body>.*?)```", re.DOTALL)

pytestmark = [pytest.mark.runway]


def readme_project(folder: Path) -> Path:
    """Write the section's files under ``folder/my-project``; returns that folder."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it in your own Runway project\n", 1)[1].split("\n## ", 1)[0]
    files = {match.group("path"): match.group("body") for match in _BLOCK.finditer(section)}
    assert set(files) == {"runway.yml", "site.cfn/config.yml", "site.cfn/dev.env"}, files
    project = folder / "my-project"
    for path, body in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(body, encoding="utf-8")
    return project


def local(*args: str, cwd: Path) -> tuple[int, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    done = subprocess.run(
        [RUNWAY_EXT, "local", *args, "--docker", "off"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_readme_project_deploys_as_written(tmp_path: Path) -> None:
    project = readme_project(tmp_path)
    code, output = local("deploy", str(project), cwd=tmp_path)
    assert code == 0, output
    assert "runway-ext local deploy: succeeded" in output and "nothing was deployed" not in output
    assert re.search(r"^  my-project-dev-site: CREATE_COMPLETE$", output, re.MULTILINE), output
    assert re.search(r"^      BucketName = my-project-dev-site-bucket-", output, re.MULTILINE), output
    assert "  env_file_generator: output_file=../.env.local, action=created" in output
    written = (project / ".env.local").read_text(encoding="utf-8")
    assert re.search(r"^SITE_BUCKET='my-project-dev-site-bucket-[a-z0-9]+'$", written, re.MULTILINE) and "OWNER='nobody'" in written


def test_without_its_env_file_nothing_is_deployed_and_local_mode_says_why(tmp_path: Path) -> None:
    project = readme_project(tmp_path)
    (project / "site.cfn" / "dev.env").unlink()
    code, output = local("deploy", str(project), cwd=tmp_path)
    assert code == 1, output
    assert (
        "nothing was deployed: Runway skipped every module: deployment_1.site.cfn (us-east-1): no parameters and environment file not found"
        in output
    )
    assert "runway-ext local deploy: FAILED" in output and "Traceback" not in output


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


CONFIG = "namespace: ${namespace}\ncfngin_bucket: ''\nstacks:\n  - name: queue\n    template_path: templates/queue.json\n"
TEMPLATE = '{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}\n'


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        ("      - path: app.cfn\n        environments: {dev: false}\n", "deployment_1.app.cfn (us-east-1): explicitly disabled"),
        ("      - path: app.cfn\n        environments: {prod: true}\n", "deployment_1.app.cfn (us-east-1): environment not in definition"),
    ],
)
def test_modules_runway_switches_off_are_nothing_deployed(tmp_path: Path, module: str, reason: str) -> None:
    write(tmp_path / "p" / "runway.yml", f"deployments:\n  - modules:\n{module}    regions: [us-east-1]\n")
    write(tmp_path / "p" / "app.cfn" / "config.yml", CONFIG)
    write(tmp_path / "p" / "app.cfn" / "templates" / "queue.json", TEMPLATE)
    write(tmp_path / "p" / "app.cfn" / "dev.env", "namespace: p-dev\n")
    code, output = local("deploy", str(tmp_path / "p"), cwd=tmp_path)
    assert code == 1 and f"nothing was deployed: Runway skipped every module: {reason}" in output, output


def test_one_module_skipped_one_deployed_is_a_success_and_destroy_says_nothing_was_destroyed(tmp_path: Path) -> None:
    runway_yml = "deployments:\n  - modules:\n      - path: skipped.cfn\n      - path: app.cfn\n    regions: [us-east-1]\n"
    write(tmp_path / "p" / "runway.yml", runway_yml)
    for name in ("skipped.cfn", "app.cfn"):
        write(tmp_path / "p" / name / "config.yml", CONFIG)
        write(tmp_path / "p" / name / "templates" / "queue.json", TEMPLATE)
    write(tmp_path / "p" / "app.cfn" / "dev.env", "namespace: p-dev\n")
    code, output = local("deploy", str(tmp_path / "p"), cwd=tmp_path)
    assert code == 0 and "nothing was deployed" not in output and "  p-dev-queue: CREATE_COMPLETE" in output, output
    (tmp_path / "p" / "app.cfn" / "dev.env").unlink()
    code, output = local("destroy", str(tmp_path / "p"), cwd=tmp_path)
    reasons = "deployment_1.app.cfn (us-east-1): no parameters and environment file not found; deployment_1.skipped.cfn (us-east-1): no parameters"
    assert code == 1 and f"nothing was destroyed: Runway skipped every module: {reasons}" in output, output


def test_deploy_serve_starts_the_console_too(tmp_path: Path) -> None:
    project = readme_project(tmp_path)
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    served = ServedCli([RUNWAY_EXT, "local", "deploy", str(project), "--serve", "--docker", "off"], env=env, cwd=tmp_path)
    try:
        served.wait_for_line("serving the sites above", timeout=300)
        console = console_address(served)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(console, timeout=30) as response:
            page = response.read().decode("utf-8")
        assert 'data-stack="my-project-dev-site"' in page and "CREATE_COMPLETE" in page
        assert 'data-hook="env_file_generator"' in page and "action=created" in page
        assert re.search(r'<a class="site-link" href="http://127\.0\.0\.1:\d+/">', page)
    finally:
        code = served.stop()
    assert code == 0
