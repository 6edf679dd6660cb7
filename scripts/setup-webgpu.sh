#!/usr/bin/env bash
# Unpacks a CPU Vulkan driver (Mesa lavapipe ≥ 25 from Debian bookworm-backports) and the Vulkan loader
# into a private folder, .webgpu-mesa/ at the repository root, so the WebGPU backend (Dawn) finds an
# adapter on a machine without a GPU. Nothing is installed system-wide and the system's apt sources,
# lists and dpkg database are left untouched: apt runs with a temporary sources list and private
# state/cache folders; packages are fetched with `apt-get download` and unpacked with `dpkg -x`.
# Idempotent: a second run only re-checks the folder. `--force` rebuilds it.
# Stock bookworm Mesa 22.3 is rejected by Dawn (missing shaderUniform*ArrayDynamicIndexing), hence backports.
# Needs: Debian 12 (bookworm), apt-get, dpkg, network access to deb.debian.org (or $DEBIAN_MIRROR).
set -euo pipefail   # (grep -q reads here-strings, not pipes: an early exit would SIGPIPE the writer)
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
DEST="$ROOT_DIR/.webgpu-mesa"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

die() { echo "setup-webgpu: $*" >&2; exit 1; }

# ---- preconditions ------------------------------------------------------------------------------
command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs a Debian system (apt-get and dpkg not found)."
. /etc/os-release
[ "${VERSION_CODENAME:-}" = "bookworm" ] || die "written for Debian 12 (bookworm); this is '${PRETTY_NAME:-unknown}'. On other distros install Mesa ≥ 25 (mesa-vulkan-drivers) and libvulkan1 with the system package manager instead."
[ -r "$KEYRING" ] || die "Debian archive keyring $KEYRING is missing (package debian-archive-keyring)."
ARCH=$(dpkg --print-architecture)

# Already done? The ICD manifest names the driver relative to itself; the loader sits next to it.
LVP_REL=$(sed -nE 's/.*"library_path": *"([^"]+)".*/\1/p' "$DEST/lvp_icd.json" 2>/dev/null || true)
if [ "$FORCE" = 0 ] && [ -f "$DEST/ready" ] && [ -n "$LVP_REL" ] && [ -f "$DEST/$LVP_REL" ] && [ -e "$(dirname "$DEST/$LVP_REL")/libvulkan.so.1" ]; then
  echo "setup-webgpu: already set up in $DEST ($(tr '\n' ' ' < "$DEST/ready"))"
  echo "setup-webgpu: use --force to rebuild it."
  exit 0
fi

# ---- private apt configuration ------------------------------------------------------------------
WORK="$DEST/.work"
rm -rf "$WORK"
trap 'rm -rf "$WORK"' EXIT   # apt lists and .debs: re-downloadable, ~40 MB
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/sources.list.d" "$WORK/preferences.d" "$WORK/debs"
cat > "$WORK/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [signed-by=$KEYRING] $SECURITY_MIRROR bookworm-security main
EOF
# Only these files are read: the system's sources.list(.d), preferences and lists are never consulted or
# written. Dir::State::status stays the system's dpkg status, read-only, so apt knows what is installed.
APT_OPTS=(
  -o "Dir::Etc::SourceList=$WORK/sources.list" -o "Dir::Etc::SourceParts=$WORK/sources.list.d"
  -o "Dir::Etc::Preferences=$WORK/preferences" -o "Dir::Etc::PreferencesParts=$WORK/preferences.d"
  -o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache=$WORK/cache"
  -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)"
)

echo "setup-webgpu: reading package lists of bookworm + bookworm-backports from $MIRROR (private apt state in $WORK)"
UPDATE_RC=0
apt-get "${APT_OPTS[@]}" -q update > "$WORK/update.log" 2>&1 || UPDATE_RC=$?
if ! grep -q "bookworm-backports_main_binary-${ARCH}_Packages" <<< "$(ls "$WORK/lists/")"; then
  grep -E "^(Err|W:|E:)" "$WORK/update.log" >&2 || true
  die "bookworm-backports is not reachable from here ($MIRROR/dists/bookworm-backports): no package list was fetched. Stopping: stock bookworm Mesa 22.3 does not work with Dawn."
fi
if [ "$UPDATE_RC" != 0 ]; then
  cat "$WORK/update.log" >&2
  die "apt-get update with the private sources list failed (exit $UPDATE_RC, see above)."
fi
if ! grep -q "bookworm-backports" <<< "$(apt-cache "${APT_OPTS[@]}" madison mesa-vulkan-drivers)"; then
  die "bookworm-backports has no mesa-vulkan-drivers for $ARCH."
fi

# ---- which packages: what `apt-get install` would add or upgrade on THIS system -----------------
# Simulating the install (no root needed, nothing changes) lets apt work out which of lavapipe's
# dependencies the system lacks or has too old (on a stock bookworm: libdrm2/libdrm-amdgpu1 ≥ 2.4.121).
# Only packages in lavapipe's Depends closure are kept: the simulation may also upgrade unrelated Mesa
# packages because of Breaks, which a private copy does not need.
SIM=$(apt-get "${APT_OPTS[@]}" -s -q install --no-install-recommends mesa-vulkan-drivers/bookworm-backports libvulkan1 2>&1) ||
  { echo "$SIM" >&2; die "apt cannot resolve mesa-vulkan-drivers from bookworm-backports (see above)."; }
CLOSURE=$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances mesa-vulkan-drivers libvulkan1 | grep -v '^ ' | sed 's/:.*//' | sort -u)
PKGS=()
while read -r name ver; do
  if grep -qx "$name" <<< "$CLOSURE"; then PKGS+=("$name=$ver"); fi
done < <(sed -nE 's/^Inst ([^ :]+)(:[a-z0-9]+)? (\[[^]]*\] )?\(([^ ]+) .*/\1 \4/p' <<< "$SIM")
# libvulkan1 may already be installed system-wide; the private tree still needs its own loader copy.
grep -q '^libvulkan1=' <<< "$(printf '%s\n' "${PKGS[@]}")" ||
  PKGS+=("libvulkan1=$(apt-cache "${APT_OPTS[@]}" policy libvulkan1 | sed -nE 's/^ +Candidate: (.*)/\1/p')")
grep -q '^mesa-vulkan-drivers=' <<< "$(printf '%s\n' "${PKGS[@]}")" || die "apt did not select mesa-vulkan-drivers; simulation output:
$SIM"
echo "setup-webgpu: downloading ${PKGS[*]}"
(cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" -q download "${PKGS[@]}" > "$WORK/download.log" 2>&1) ||
  { cat "$WORK/download.log" >&2; die "apt-get download failed (see above)."; }

# ---- unpack into a fresh tree, then swap it in ----------------------------------------------------
NEWROOT="$WORK/root"
mkdir -p "$NEWROOT"
for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$NEWROOT"; done
LVP=$(find "$NEWROOT/usr/lib" -name libvulkan_lvp.so -type f | head -1)
[ -n "$LVP" ] || die "libvulkan_lvp.so not found in the unpacked mesa-vulkan-drivers ($NEWROOT/usr/lib)."
NEWLIB=$(dirname "$LVP")
[ -e "$NEWLIB/libvulkan.so.1" ] || die "libvulkan.so.1 not found in the unpacked libvulkan1 ($NEWLIB)."

# Every library lavapipe links must resolve, with all symbols, from the private tree + the system.
if grep -E "not found|undefined symbol" >&2 <<< "$(LD_LIBRARY_PATH="$NEWLIB" ldd -r "$NEWLIB/libvulkan_lvp.so" 2>&1)"; then
  die "libvulkan_lvp.so has unresolved libraries/symbols (above) even with the private libraries."
fi

# Only lavapipe is used: drop mesa-vulkan-drivers' hardware drivers and their manifests (~50 MB).
for drv in intel intel_hasvk radeon virtio gfxstream; do rm -f "$NEWLIB/libvulkan_$drv.so"; done
find "$NEWROOT/usr/share/vulkan/icd.d" -type f ! -name 'lvp_icd*' -delete

rm -f "$DEST/ready"   # not "ready" while the tree is swapped
rm -rf "$DEST/root"
mv "$NEWROOT" "$DEST/root"
# The ICD manifest: library_path relative to this json (supported by the Vulkan loader), so the folder
# can move with the repository.
LVP_REL="./root/${NEWLIB#"$NEWROOT/"}/libvulkan_lvp.so"
API_VERSION=$(cat "$DEST"/root/usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | sed -nE 's/.*"api_version": *"([^"]+)".*/\1/p' | head -1 || true)
cat > "$DEST/lvp_icd.json.tmp" <<EOF
{
    "ICD": {
        "api_version": "${API_VERSION:-1.4.305}",
        "library_path": "$LVP_REL"
    },
    "file_format_version": "1.0.0"
}
EOF
mv "$DEST/lvp_icd.json.tmp" "$DEST/lvp_icd.json"
printf '%s\n' "${PKGS[@]}" > "$DEST/ready.tmp"
mv "$DEST/ready.tmp" "$DEST/ready"
echo "setup-webgpu: done. Lavapipe is in $DEST; the webgpu backend picks it up (see docs/webgpu.md)."
