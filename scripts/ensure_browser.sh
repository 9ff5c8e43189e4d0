#!/usr/bin/env bash
# What the browser tests need beyond the Python packages: Debian's chromium. (GraphiQL's files
# ship with the package: casetasks/static/graphiql/.)
# Usage: bash scripts/ensure_browser.sh
#
# Best effort, and quick when everything is there: what cannot be installed is reported and the
# browser test then skips (or fails, under CASETASKS_REQUIRE_SERVICES=1).
set -uo pipefail

cd "$(dirname "$0")/.."
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

exit 0
