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
if ! cmp -s "$committed" "$tmp/fresh.json"; then
    # Name the crates that differ rather than dumping the JSON diff.
    python3 - "$committed" "$tmp/fresh.json" >&2 <<'PY' || true
import json, sys
def crates(path):
    try:
        return {e["dest"].rsplit("/", 1)[-1] + " " + e.get("sha256", "")[:12]
                for e in json.load(open(path)) if e.get("type") == "archive"}
    except (OSError, ValueError, KeyError) as error:
        print(f"  cannot read {path}: {error}")
        return set()
old, new = crates(sys.argv[1]), crates(sys.argv[2])
for c in sorted(new - old):
    print(f"  missing from cargo-sources.json: {c}")
for c in sorted(old - new):
    print(f"  not in Cargo.lock any more:      {c}")
if old == new:
    print("  same crates, other differences (format or cargo config entry)")
PY
    err "FAIL: $committed does not match $lock: run packaging/flatpak/update-sources.sh and commit the result"
    exit 1
fi
say "ok: $committed matches $lock ($(grep -c '"type": "archive"' "$committed") crates)"
