#!/usr/bin/env bash
# Install Debian's chromium for the browser tests of kgraph.viz (Playwright drives it with
# executable_path=/usr/bin/chromium; `playwright install` is never used: it downloads a browser
# build from a CDN at test time). Idempotent: does nothing when /usr/bin/chromium exists.
# Runs as root (CI) or through sudo when available.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install-chromium: $CHROMIUM already present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-chromium: $CHROMIUM is missing and this user is not root (and sudo is not available)." >&2
    echo "install-chromium: run as root: apt-get update && apt-get install -y chromium" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found: install Debian's chromium package by hand so that $CHROMIUM exists" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: $CHROMIUM is missing; running: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-chromium: running: apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
