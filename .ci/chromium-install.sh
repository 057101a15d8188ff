#!/usr/bin/env bash
# Install Debian's chromium (headless browser for the local edge's browser tests) with apt, as root.
# Idempotent: a no-op when chromium is already installed. Without root or apt it says so and exits 0
# (the browser tests then skip, or fail when RUNWAY_EXT_REQUIRE_CHROMIUM=1).
set -euo pipefail

started=$(date +%s)
if command -v chromium >/dev/null 2>&1; then
    echo "chromium-install: $(chromium --version 2>/dev/null || echo chromium) already installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium-install: skipped (needs root and apt-get); install Debian's chromium package to run the browser tests"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium-install: $(chromium --version) installed in $(( $(date +%s) - started ))s"
