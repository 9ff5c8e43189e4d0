#!/usr/bin/env bash
# What the GraphiQL browser test needs beyond the Python packages: Debian's chromium, and
# GraphiQL's files fetched from the npm registry so /graphql works without the CDN.
# Usage: bash scripts/ensure_browser.sh [PYTHON]   (default .venv/bin/python)
#
# Best effort, and quick when everything is there: what cannot be installed is reported and the
# browser test then skips (or fails, under CASETASKS_REQUIRE_SERVICES=1).
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON=${1:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "ensure_browser: installing Debian's chromium (a minute or two, once)"
        log=$(mktemp)
        if {
            apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                    -o DPkg::Lock::Timeout=300 --no-install-recommends chromium fonts-liberation
        } >"$log" 2>&1; then
            echo "ensure_browser: $("$CHROMIUM" --version 2>/dev/null)"
        else
            tail -n 20 "$log" >&2
            echo "ensure_browser: could not install chromium; the browser test will skip" >&2
        fi
        rm -f "$log"
    else
        echo "ensure_browser: $CHROMIUM is missing and we are not root to apt-get it;" \
            "the browser test will skip" >&2
    fi
fi

if ! "$PYTHON" -m casetasks.graphiql; then
    echo "ensure_browser: GraphiQL's files are not fetched; /graphql uses the CDN and" \
        "the browser test will skip" >&2
fi
exit 0
