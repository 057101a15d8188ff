"""The blueprints as an IaC security scanner (checkov) sees them.

Contract: rendered with every security option on, both blueprints leave checkov no failed check; rendered
with the defaults, the failed checks are exactly :data:`DEFAULT_FINDINGS`, the opt-ins the "Scanner checks"
tables of docs/blueprints/*.md document (each with the variable that satisfies it and what it costs). A new
finding, from a blueprint change or a new checkov version, fails here until it is fixed or documented.

checkov runs from its own virtualenv ``.venv-checkov`` (``bash .ci/checkov-install.sh``, pinned version),
offline: ``--skip-download`` plus :data:`OFFLINE_ENVIRONMENT`. Without it these tests skip saying so, or
fail when ``RUNWAY_EXT_REQUIRE_CHECKOV=1`` (CI).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from blueprint_support import lint_findings, render

REPOSITORY = Path(__file__).resolve().parents[2]
CHECKOV = REPOSITORY / ".venv-checkov" / "bin" / "checkov"
INSTALLER = REPOSITORY / ".ci" / "checkov-install.sh"
REQUIRE_CHECKOV = "RUNWAY_EXT_REQUIRE_CHECKOV"
OFFLINE_ENVIRONMENT = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
"""With ``--skip-download``: no mapping download from the vendor platform, no version check against PyPI."""
PLATFORM_CREDENTIALS = ("BC_API_KEY", "PRISMA_API_URL")
"""Variables that would make checkov talk to its vendor platform; never passed on."""

CLASS_PATHS = {"cdn": "runway_ext.blueprints.cdn.StaticSiteCdn", "ecr": "runway_ext.blueprints.ecr.EcrRepository"}
ALL_SECURITY_OPTIONS: dict[str, dict[str, Any]] = {
    "cdn": {
        "Versioning": True,
        "ServerAccessLogBucket": "example-logs",
        "ServerAccessLogPrefix": "site-bucket/",
        "Aliases": ["www.example.com"],
        "PreviewDomain": "preview.example.com",
        "AcmCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "LoggingBucket": "example-logs",
        "LoggingPrefix": "cdn/",
        "WebAclArn": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/site-acl/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    },
    "ecr": {"EncryptionType": "KMS", "MutabilityExceptions": []},
}
VARIANTS = {"defaults": {"cdn": {}, "ecr": {}}, "all-options": ALL_SECURITY_OPTIONS}

Finding = tuple[str, str, str]
"""(blueprint, check id, logical id of the resource)."""

DEFAULT_FINDINGS: set[Finding] = {
    ("cdn", "CKV_AWS_18", "Bucket"),  # S3 server access logging: ServerAccessLogBucket
    ("cdn", "CKV_AWS_68", "Distribution"),  # WAF: WebAclArn
    ("cdn", "CKV_AWS_86", "Distribution"),  # CloudFront access logging: LoggingBucket
    ("cdn", "CKV_AWS_174", "Distribution"),  # viewer TLS >= 1.2: Aliases + AcmCertificateArn
    ("ecr", "CKV_AWS_136", "Repository"),  # KMS encryption: EncryptionType KMS
    ("ecr", "CKV_AWS_51", "Repository"),  # fully immutable tags: MutabilityExceptions []
}
"""The checks the defaults fail on purpose; mirrors the rows marked "fails" in the docs tables."""

_DOCS_ROW = re.compile(
    r"^\| `(?P<check>CKV2?_[A-Z0-9_]+)`[^|]*\| `(?P<resource>[A-Za-z0-9]+)` \| (?P<default>passes|fails) \|", re.MULTILINE
)


@dataclass(frozen=True)
class Scan:
    """One checkov run over every variant: findings by variant, and the version that ran."""

    failed: dict[str, set[Finding]]
    passed: dict[str, set[Finding]]
    version: str


def pinned_version() -> str:
    """The checkov version ``.ci/checkov-install.sh`` installs (its ``CHECKOV_VERSION=`` line)."""
    found = re.search(r"^CHECKOV_VERSION=(\S+)$", INSTALLER.read_text(), re.MULTILINE)
    assert found, f"{INSTALLER} has no CHECKOV_VERSION= line"
    return found.group(1)


def checkov_executable() -> Path:
    """``.venv-checkov/bin/checkov``; skips (or fails under ``RUNWAY_EXT_REQUIRE_CHECKOV=1``) when it is missing."""
    if CHECKOV.is_file():
        return CHECKOV
    reason = f"checkov is not installed in {CHECKOV.parents[1].name} (bash .ci/checkov-install.sh)"
    if os.environ.get(REQUIRE_CHECKOV) == "1":
        pytest.fail(f"{REQUIRE_CHECKOV}=1 but {reason}")
    pytest.skip(reason)


def documented_checks(blueprint: str) -> dict[tuple[str, str], str]:
    """The "Scanner checks" table of ``docs/blueprints/<blueprint>.md``: (check id, resource) → passes/fails."""
    text = (REPOSITORY / "docs" / "blueprints" / f"{blueprint}.md").read_text()
    return {(row["check"], row["resource"]): row["default"] for row in _DOCS_ROW.finditer(text)}


def _finding(result: dict[str, Any], root: Path) -> tuple[str, Finding]:
    """(variant, finding) of one checkov result, from its file ``<root>/<variant>/<blueprint>.json``."""
    variant, file_name = Path(result["file_abs_path"]).relative_to(root).parts
    return variant, (Path(file_name).stem, result["check_id"], result["resource"].rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """Render every variant of both blueprints, run checkov once over all of them, offline."""
    checkov = checkov_executable()
    work_dir = tmp_path_factory.mktemp("cfngin")
    root = tmp_path_factory.mktemp("scanned").resolve()
    files: list[Path] = []
    for variant, variables_by_blueprint in VARIANTS.items():
        (root / variant).mkdir()
        for blueprint, variables in variables_by_blueprint.items():
            path = root / variant / f"{blueprint}.json"
            path.write_text(render(CLASS_PATHS[blueprint], work_dir, **variables))
            files.append(path)
    environment = {name: value for name, value in os.environ.items() if name not in PLATFORM_CREDENTIALS} | OFFLINE_ENVIRONMENT
    command = [str(checkov), "--framework", "cloudformation", "--skip-download", "--soft-fail", "--output", "json"]
    for path in files:
        command += ["--file", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, cwd=root, check=False)
    assert run.returncode == 0, f"checkov exited {run.returncode}:\n{run.stderr[-3000:]}"
    reports = json.loads(run.stdout)
    (report,) = [item for item in (reports if isinstance(reports, list) else [reports]) if item.get("check_type") == "cloudformation"]
    summary = report["summary"]
    assert summary["parsing_errors"] == 0 and summary["resource_count"] > 0, summary

    failed: dict[str, set[Finding]] = {variant: set() for variant in VARIANTS}
    passed: dict[str, set[Finding]] = {variant: set() for variant in VARIANTS}
    for outcome, by_variant in (("failed_checks", failed), ("passed_checks", passed)):
        for result in report["results"][outcome]:
            variant, finding = _finding(result, root)
            by_variant[variant].add(finding)
    scanned = {(variant, blueprint) for variant, findings in [*failed.items(), *passed.items()] for blueprint, _, _ in findings}
    assert scanned == {(variant, blueprint) for variant in VARIANTS for blueprint in CLASS_PATHS}, "checkov skipped a template"
    return Scan(failed=failed, passed=passed, version=summary["checkov_version"])


def test_scanner_is_the_pinned_version(scan: Scan) -> None:
    """The expected findings hold for the pinned version; another one must be installed by the script first."""
    assert scan.version == pinned_version(), f"checkov {scan.version} ran, {pinned_version()} is pinned: bash .ci/checkov-install.sh"


def test_every_security_option_on_leaves_no_failed_check(scan: Scan) -> None:
    assert scan.failed["all-options"] == set()
    assert scan.passed["all-options"] >= DEFAULT_FINDINGS, "a documented check no longer runs on the all-options render"


def test_defaults_fail_exactly_the_documented_opt_ins(scan: Scan) -> None:
    assert scan.failed["defaults"] == DEFAULT_FINDINGS


def test_checks_documented_as_passing_pass_with_the_defaults(scan: Scan) -> None:
    for blueprint in CLASS_PATHS:
        passing = {
            (blueprint, check, resource) for (check, resource), default in documented_checks(blueprint).items() if default == "passes"
        }
        assert passing <= scan.passed["defaults"]


def test_docs_tables_mirror_the_default_findings() -> None:
    """No scanner needed: the docs' "fails" rows are exactly :data:`DEFAULT_FINDINGS`."""
    documented = {
        (blueprint, check, resource)
        for blueprint in CLASS_PATHS
        for (check, resource), default in documented_checks(blueprint).items()
        if default == "fails"
    }
    assert documented == DEFAULT_FINDINGS


@pytest.mark.parametrize("blueprint", sorted(CLASS_PATHS))
def test_all_options_render_passes_cfn_lint(blueprint: str, tmp_path: Path) -> None:
    assert lint_findings(render(CLASS_PATHS[blueprint], tmp_path, **ALL_SECURITY_OPTIONS[blueprint])) == []
