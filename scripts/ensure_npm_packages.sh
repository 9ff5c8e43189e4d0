#!/usr/bin/env bash
# What the tests that run real JavaScript clients need beyond the Python packages: node, and the
# pinned npm packages of each tests/<folder>/package.json (installed there, outside git):
# tests/apollo_client (Apollo Client's persisted queries link) and tests/graphql_http
# (graphql-http's server audits).
# Best effort, and quick when everything is there: without them those tests skip (or fail,
# under CASETASKS_REQUIRE_SERVICES=1).
set -uo pipefail

cd "$(dirname "$0")/../tests"
if ! command -v npm >/dev/null; then
    echo "ensure_npm_packages: npm is missing; the JavaScript client tests will skip" >&2
    exit 0
fi
for manifest in */package.json; do
    folder=$(dirname "$manifest")
    if [ -d "$folder/node_modules" ] && [ "$folder/node_modules/.package-lock.json" -nt "$folder/package-lock.json" ]; then
        continue
    fi
    if ! (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "ensure_npm_packages: npm ci failed in tests/$folder; its tests will skip" >&2
    fi
done
exit 0
