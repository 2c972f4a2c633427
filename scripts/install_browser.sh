#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/ui) and the UI benchmark.
# Idempotent: does nothing when /usr/bin/chromium already exists. Never runs `playwright install`:
# the tests drive the system browser through the Python playwright package.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser.sh: must run as root (or with sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-noto-cjk
/usr/bin/chromium --version || true
