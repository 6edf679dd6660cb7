#!/usr/bin/env bash
# End-to-end tests in a real VS Code (code-server) driven by headless Chromium.
# Usage: bash test/e2e/run.sh [SPEC.e2e.ts ...]   (default: every test/e2e/*.e2e.ts, one after another)
# Output: test-output/e2e/ (per-spec server state, logs, timings.json), screenshots in test-output/e2e/screenshots/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
T0=$(now)

[ -x node_modules/.bin/tsx ] || { echo "[e2e] node_modules missing (tsx); run npm ci first" >&2; exit 1; }
bash test/e2e/setup.sh

T=$(now)
if [ -f esbuild.mjs ]; then
  node esbuild.mjs
  echo "[e2e] build: $(since "$T")"
else
  echo "[e2e] esbuild.mjs not found; testing the extension as it is in dist/" >&2
fi
MAIN=$(node -p "require('./package.json').main || ''")
[ -z "$MAIN" ] || [ -f "$MAIN" ] || [ -f "$MAIN.js" ] || echo "[e2e] warning: package.json main ($MAIN) does not exist; the extension cannot activate" >&2

if (($#)); then SPECS=("$@"); else SPECS=(test/e2e/*.e2e.ts); fi
# The whole suite starts from an empty folder; a run of chosen specs replaces only their pictures
# (so specs run one by one, or side by side, keep each other's screenshots).
(($#)) || rm -rf test-output/e2e/screenshots
mkdir -p test-output/e2e/screenshots
for spec in "${SPECS[@]}"; do
  name=$(basename "$spec" .e2e.ts)
  rm -f test-output/e2e/screenshots/"$name"-*.png
done
T=$(now)
set +e
# One spec file at a time: each starts its own code-server + Chromium, and the machine has 2 cores.
timeout --kill-after=15 "${GAN_E2E_TIMEOUT_S:-1200}" \
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "${SPECS[@]}"
RC=$?
set -e
[ $RC = 124 ] && echo "[e2e] TIMED OUT after ${GAN_E2E_TIMEOUT_S:-1200}s" >&2
echo "[e2e] specs: $(since "$T"); total $(since "$T0"); exit $RC"
ls test-output/e2e/screenshots/*.fail.png 2>/dev/null | sed 's/^/[e2e] failure screenshot: /' || true
exit $RC
