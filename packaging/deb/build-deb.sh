#!/usr/bin/env bash
# Builds the Debian package of Koine with cargo-deb, offline once the crates are
# in Cargo's cache (or vendored). CI uses the dev profile to stay fast:
#   build-deb.sh [OUTPUT_DIR]            dev profile (default)
#   KOINE_DEB_PROFILE=release build-deb.sh OUTPUT_DIR   what a release uses
# Prints the path of the .deb on its last line.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

out=${1:-$CARGO_TARGET_DIR/debian}
profile=${KOINE_DEB_PROFILE:-dev}

[ -f "$KOINE_REPO/LICENSE" ] || {
    err "FAIL: $KOINE_REPO/LICENSE is missing; the package installs it as usr/share/doc/koine/copyright"
    exit 1
}
ensure_cargo_deb
mkdir -p "$out"
cd "$KOINE_REPO"
cargo build --quiet -p koine --profile "$profile" >&2
# --no-build: package the binary just built. cargo-deb maps the asset path
# target/release/koine to the selected profile's directory.
deb=$(cargo deb -p koine --no-build --profile "$profile" --quiet --output "$out" | tail -n 1)
[ -f "$deb" ] || { err "FAIL: cargo deb made no package (said: $deb)"; exit 1; }
say "$deb"
