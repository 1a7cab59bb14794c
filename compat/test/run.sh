#!/usr/bin/env bash
# Installs the pinned client libraries and runs them against comfyd.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 test/*.test.mjs
