#!/usr/bin/env bash
# What the Apollo Client persisted queries test needs beyond the Python packages: node, and the
# pinned npm packages of tests/apollo_client (installed there, outside git).
# Best effort, and quick when everything is there: without them that test skips (or fails,
# under CASETASKS_REQUIRE_SERVICES=1).
set -uo pipefail

cd "$(dirname "$0")/../tests/apollo_client"
if ! command -v npm >/dev/null; then
    echo "ensure_apollo_client: npm is missing; the Apollo Client test will skip" >&2
    exit 0
fi
if [ -d node_modules/@apollo/client ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    exit 0
fi
if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
    echo "ensure_apollo_client: npm ci failed; the Apollo Client test will skip" >&2
fi
exit 0
