#!/usr/bin/env bash
# Install the checkov IaC scanner in its own virtualenv (.venv-checkov): it pins many packages (boto3 among
# them), so it stays out of the project's environment. tests/blueprints/test_scanner.py runs
# .venv-checkov/bin/checkov, offline. The version is pinned: the test's expected findings hold for this
# version, and the test fails when another one is installed. Idempotent: a no-op when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30

started=$(date +%s)
installed=""
if [ -x .venv-checkov/bin/python ]; then
    installed=$(.venv-checkov/bin/python -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true)
fi
if [ "$installed" = "$CHECKOV_VERSION" ] && [ -x .venv-checkov/bin/checkov ]; then
    echo "checkov-install: checkov $installed already installed"
else
    python3 -m venv .venv-checkov
    .venv-checkov/bin/pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
    echo "checkov-install: checkov $(.venv-checkov/bin/checkov --version) installed in $(( $(date +%s) - started ))s"
fi
