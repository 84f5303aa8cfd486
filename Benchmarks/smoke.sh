#!/usr/bin/env bash
# Smoke mode of the performance suite (issue 5): every scenario at tiny sizes on the debug
# build, in seconds, so the suite cannot rot. It checks that every row prints (the suite exits
# non-zero when a scenario fails to run); it asserts no timing. The full suite and how to read
# it: docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# The baselines need the sqlite3 command and python3 (its sqlite3 module); CI starts clean.
missing=()
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "smoke: installing ${missing[*]}"
  apt-get install -y "${missing[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
fi

swift build --product logbook        # the scenarios spawn the CLI
swift build --product logbook-bench
time .build/debug/logbook-bench --smoke
