#!/bin/sh
# Runs the web UI's tests: unit tests of the page's modules and browser tests that drive
# Debian's Chromium (through playwright-core) against a freshly built comfyd.
# Installs what is missing: node modules (npm ci) and, when /usr/bin/chromium is absent,
# the chromium package. Under CI=true a missing browser or comfyd fails instead of skipping.
# Screenshots land in web/test/artifacts/.
set -eu
cd "$(dirname "$0")/.."

if [ ! -d node_modules/playwright-core ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi

mkdir -p test/artifacts
exec node --test --test-concurrency=1 test/unit.test.mjs test/browser.test.mjs "$@"
