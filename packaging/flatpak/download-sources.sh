#!/usr/bin/env bash
# Downloads every source of the Flatpak manifest with flatpak-builder
# --download-only and lets it verify each sha256 (no SDK needed). The
# downloads are kept in ~/.cache/koine/flatpak-builder, so later runs only fetch
# new crates. Needs network access to crates.io.
#   download-sources.sh [MANIFEST]
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

manifest=${1:-$KOINE_REPO/packaging/flatpak/$KOINE_APP_ID.yml}
state=${KOINE_FLATPAK_STATE:-$KOINE_CACHE/flatpak-builder}
mkdir -p "$state"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
manifest=$(realpath "$manifest")
if ! (cd "$tmp" && flatpak-builder --download-only --state-dir="$state" "$tmp/build" "$manifest") \
        >"$tmp/log" 2>&1; then
    grep -v -e '% Total' -e 'Dload' -e '^ *[0-9]' "$tmp/log" | tail -n 20 >&2
    err "FAIL: flatpak-builder could not download the sources of $manifest"
    exit 1
fi
say "ok: all $(grep -c '"type": "archive"' "$KOINE_REPO/packaging/flatpak/cargo-sources.json") crates of cargo-sources.json downloaded and verified"
