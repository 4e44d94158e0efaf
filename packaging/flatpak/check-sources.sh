#!/usr/bin/env bash
# Checks that cargo-sources.json is exactly what update-sources.sh makes from
# Cargo.lock today (regenerated into a temporary file and compared).
#   check-sources.sh [CARGO_LOCK [CARGO_SOURCES_JSON]]
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

lock=${1:-$KOINE_REPO/Cargo.lock}
committed=${2:-$KOINE_REPO/packaging/flatpak/cargo-sources.json}

[ -f "$committed" ] || { err "FAIL: $committed is missing: run packaging/flatpak/update-sources.sh"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$KOINE_REPO/packaging/flatpak/update-sources.sh" "$lock" "$tmp/fresh.json" >/dev/null
if ! diff -u "$committed" "$tmp/fresh.json" >"$tmp/diff"; then
    head -n 40 "$tmp/diff" >&2
    err "FAIL: $committed does not match $lock: run packaging/flatpak/update-sources.sh and commit the result"
    exit 1
fi
say "ok: $committed matches $lock ($(grep -c '"type": "archive"' "$committed") crates)"
