#!/usr/bin/env bash
# Install the AWS SAM CLI in its own virtualenv (.venv-sam): it pins many packages, so it stays out of
# the project's environment. Only `sam` is exposed, through .venv-sam/bin-exposed (put that on PATH),
# so the virtualenv's own python does not shadow the system one. Idempotent: a no-op when installed.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
if [ -x .venv-sam/bin/sam ] && .venv-sam/bin/sam --version >/dev/null 2>&1; then
    echo "sam-install: $(.venv-sam/bin/sam --version) already installed"
else
    python3 -m venv .venv-sam
    .venv-sam/bin/pip install --quiet --disable-pip-version-check 'aws-sam-cli>=1.170,<2'
    echo "sam-install: $(.venv-sam/bin/sam --version) installed in $(( $(date +%s) - started ))s"
fi
mkdir -p .venv-sam/bin-exposed
ln -sfn ../bin/sam .venv-sam/bin-exposed/sam
