#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (npm packages; for the real-VS-Code
# suite also Debian packages and code-server), type-checks, builds, runs unit tests and the e2e suite.
# Env: SKIP_E2E=1 skips the code-server suite (it needs apt + ~2 min of installs on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
step() { echo; echo "=== $* ($(( $(date +%s) - t0 ))s)"; }

step "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "node_modules up to date"
fi

step "Debian packages for cross-checks (numpy/scipy/torch in the system Python)"
need=()
/usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null || need+=(python3-numpy python3-scipy)
# PyTorch 1.13: writes the real pickles the unpickler tests read (test/unit/official/make_pickles.py).
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; })
  else
    echo "Missing ${need[*]}: install them (sudo apt-get install ${need[*]}); the metric cross-check tests need them." >&2
  fi
fi
/usr/bin/python3 -c 'import numpy, scipy, torch; print("numpy", numpy.__version__, "scipy", scipy.__version__, "torch", torch.__version__)' || true

step "type-check"
npm run -s check-types

step "build"
node esbuild.mjs

step "unit tests (plain Node, tfjs fallback backend)"
node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  $(find test/unit -name '*.test.ts' | sort) | tee "$logs/unit.log"

if [ "${SKIP_E2E:-0}" != "1" ]; then
  step "end-to-end tests in a real VS Code (code-server + headless Chromium)"
  bash test/e2e/run.sh | tee "$logs/e2e.log"
fi

step "@vscode/test-electron suite"
rc=0; node test/vscode/runTest.mjs || rc=$?
# 3 = VS Code could not be downloaded here: reported as NOT RUN above, not counted as a pass or a failure.
if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then exit "$rc"; fi

step "done in $(( $(date +%s) - t0 ))s"
# One closing line over every suite that ran (node's runner prints 'ℹ pass N' / 'ℹ fail N' per suite).
sum() { cat "$logs"/*.log 2>/dev/null | sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" | awk '{s+=$1} END {print s+0}'; }
echo "total: $(sum pass) passed, $(sum fail) failed, $(sum skipped) skipped"
