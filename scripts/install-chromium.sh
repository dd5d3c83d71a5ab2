#!/usr/bin/env bash
# Install Debian's chromium for the browser tests of kgraph.viz (Playwright drives the chromium
# found on PATH, or $KGRAPH_CHROMIUM; `playwright install` is never used: it downloads a browser
# build from a CDN at test time). Idempotent: does nothing when chromium is already there.
# Runs as root (CI) or through sudo when available.
set -euo pipefail

find_chromium() { echo "${KGRAPH_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"; }
CHROMIUM=$(find_chromium)

if [ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ]; then
    echo "install-chromium: $CHROMIUM already present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-chromium: chromium is missing and this user is not root (and sudo is not available)." >&2
    echo "install-chromium: run as root: apt-get update && apt-get install -y chromium" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found: install Debian's chromium package by hand (or set KGRAPH_CHROMIUM)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: chromium is missing; running: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-chromium: running: apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

CHROMIUM=$(find_chromium)
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: apt-get finished but chromium is still not on PATH" >&2
    exit 1
fi
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
