#!/usr/bin/env bash
# Installs what the end-to-end tests need: Debian packages (only the missing ones), and the pinned
# harness (code-server 4.100.3 + playwright-core) into test/e2e/.harness. Idempotent; prints timings.
# Works offline except for Debian apt and the npm registry.
set -euo pipefail
E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESS_SRC=$E2E/harness
DEST=${GAN_E2E_HARNESS_DIR:-$E2E/.harness}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
T0=$(now)

# 1. Debian packages: native-build deps of code-server's modules (kerberos/argon2 fall back to a source
#    build when their prebuilt download fails, needing libkrb5-dev), ripgrep (stands in for the GitHub
#    download of @vscode/ripgrep), chromium (the browser the tests drive).
PKGS=(build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium)
MISSING=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
T=$(now)
if ((${#MISSING[@]})); then
  echo "[e2e-setup] apt: installing ${MISSING[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${MISSING[@]}" >/dev/null
  echo "[e2e-setup] apt: $(since "$T")"
else
  echo "[e2e-setup] apt: all ${#PKGS[@]} packages present"
fi
command -v chromium >/dev/null || { echo "[e2e-setup] chromium not found after apt" >&2; exit 1; }

# 2. Harness npm project. Skip when the installed tree came from the same lockfile.
mkdir -p "$DEST/tmp"
LOCK=$HARNESS_SRC/package-lock.json
HASH_FILE=$DEST/.installed-lock.sha256
if [ -f "$LOCK" ] && [ -f "$HASH_FILE" ] && [ -x "$DEST/node_modules/.bin/code-server" ] &&
   [ "$(sha256sum "$LOCK" "$HARNESS_SRC/package.json" | sha256sum | cut -d' ' -f1)" = "$(cat "$HASH_FILE")" ]; then
  echo "[e2e-setup] harness: up to date ($DEST)"
else
  T=$(now)
  # @vscode/ripgrep's postinstall looks in $TMPDIR/vscode-ripgrep-cache-<ver>/ before downloading from
  # GitHub; a tarball of Debian's rg under the expected name is unpacked instead.
  export TMPDIR=$DEST/tmp
  RGC=$TMPDIR/vscode-ripgrep-cache-1.15.11
  mkdir -p "$RGC"
  tar -czf "$RGC/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  cp "$HARNESS_SRC/package.json" "$DEST/package.json"
  # unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty's postinstall runs
  # `npx node-gyp`, which aborts without a TTY otherwise.
  export npm_config_unsafe_perm=true npm_config_yes=true
  LOG=$DEST/npm-install.log
  rm -f "$HASH_FILE"
  if [ -f "$LOCK" ]; then
    cp "$LOCK" "$DEST/package-lock.json"
    echo "[e2e-setup] harness: npm ci into $DEST (native builds, ~2 min on 2 cores)"
    (cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error) >"$LOG" 2>&1 || { tail -40 "$LOG"; exit 1; }
  else
    # First time only: resolve and write the lockfile, then keep it next to package.json.
    echo "[e2e-setup] harness: no lockfile yet; npm install to create it"
    rm -f "$DEST/package-lock.json"
    (cd "$DEST" && npm install --no-audit --no-fund --loglevel=error) >"$LOG" 2>&1 || { tail -40 "$LOG"; exit 1; }
    cp "$DEST/package-lock.json" "$LOCK"
  fi
  sha256sum "$LOCK" "$HARNESS_SRC/package.json" | sha256sum | cut -d' ' -f1 >"$HASH_FILE"
  echo "[e2e-setup] harness: installed in $(since "$T")"
fi
echo "[e2e-setup] code-server $(node -p "require('$DEST/node_modules/code-server/package.json').version"), playwright-core $(node -p "require('$DEST/node_modules/playwright-core/package.json').version"); total $(since "$T0")"
