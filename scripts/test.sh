#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs the whole suite.
# Used by the README and by .ci/run. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

# Headless Chromium for the browser tests (Debian package; Playwright drives it).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    echo "warning: /usr/bin/chromium missing and not root; browser tests will be skipped" >&2
  fi
fi

"$PYTHON" -m pip install -q --disable-pip-version-check -e '.[test]'

# Browser SDK for the collector's browser test (npm registry).
if [ -f tests/collector/shop/package.json ] && [ ! -d tests/collector/shop/node_modules ]; then
  if command -v npm >/dev/null; then
    (cd tests/collector/shop && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

"$PYTHON" -m ruff check src tests benchmarks
"$PYTHON" -m ruff format --check src tests benchmarks
"$PYTHON" -m mypy src
PYTHON="$PYTHON" bash scripts/collect.sh "$@"
exec "$PYTHON" -m pytest -n 2 "$@"
