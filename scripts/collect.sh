#!/usr/bin/env bash
# Collects the test suite without running a test: every test module imported, every fixture
# and parameter resolved. scripts/test.sh runs it before the suite, so a module that does not
# import fails the run in seconds with its error instead of after the whole suite.
# Arguments go to pytest (e.g. a folder); exit 0 with the count, or 1 with the errors.
set -euo pipefail

PYTHON=${PYTHON:-python3}
collected=$(mktemp)
if ! "$PYTHON" -m pytest --collect-only -q -p no:cacheprovider "$@" >"$collected" 2>&1; then
  # the errors, without the list of tests that did collect
  grep -v '^[^ ]*::' "$collected" | tail -n 80 >&2
  rm -f "$collected"
  echo "error: the test suite does not collect (above); no test was run" >&2
  exit 1
fi
tail -n 1 "$collected"
rm -f "$collected"
