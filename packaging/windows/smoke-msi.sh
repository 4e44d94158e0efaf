#!/usr/bin/env bash
# Smoke-builds an MSI from main.wxs with Debian's wixl and checks its tables
# with msiinfo. The real installer is built on Windows with cargo-wix (WiX 3);
# wixl has no WixUI dialogs, so the lines between the wixl-skip-begin and
# wixl-skip-end markers of the source are cut out first.
# koine.exe here is a PLACEHOLDER file made in a temporary directory: the smoke
# MSI checks the installer's structure, not the program inside it.
#   smoke-msi.sh [WXS]
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

wxs=$(realpath "${1:-$KOINE_REPO/packaging/windows/main.wxs}")
version=$(workspace_version)
upgrade_code="{$KOINE_UPGRADE_CODE}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# wixl takes only relative source paths, so it runs in a staging directory that
# mirrors the repository.
stage="$tmp/stage"
mkdir -p "$stage/bin"
ln -s "$KOINE_REPO/assets" "$stage/assets"
ln -s "$KOINE_REPO/packaging" "$stage/packaging"
printf 'placeholder for koine.exe, smoke MSI only\n' >"$stage/bin/koine.exe"
msi="$tmp/koine-smoke.msi"

sed '/<!-- wixl-skip-begin -->/,/<!-- wixl-skip-end -->/d' "$wxs" >"$stage/main.wxs"
if ! (cd "$stage" && wixl --arch x64 -D Version="$version" -D Platform=x64 \
        -D CargoTargetBinDir=bin -o "$msi" main.wxs) >"$tmp/wixl.log" 2>&1 \
        || [ ! -s "$msi" ]; then
    cat "$tmp/wixl.log" >&2
    err "FAIL: wixl could not build an MSI from $wxs"
    exit 1
fi

# msiinfo writes binary columns (the Icon table) to files in its working directory.
table() { (cd "$tmp" && msiinfo export "$msi" "$1") | tr -d '\r' | tail -n +4; }
fails=0
expect_row() {  # expect_row TABLE DESCRIPTION AWK-CONDITION
    if ! table "$1" | awk -F '\t' "$3 { found = 1 } END { exit !found }"; then
        err "  $1 table: $2 is missing"
        fails=$((fails + 1))
    fi
}

expect_row Property "UpgradeCode $upgrade_code" "\$1 == \"UpgradeCode\" && \$2 == \"$upgrade_code\""
expect_row Property "ProductName Koine" '$1 == "ProductName" && $2 == "Koine"'
expect_row Property "ProductVersion $version" "\$1 == \"ProductVersion\" && \$2 == \"$version\""
expect_row Property "ALLUSERS 1 (per-machine install)" '$1 == "ALLUSERS" && $2 == "1"'
expect_row Property "ARPPRODUCTICON" '$1 == "ARPPRODUCTICON" && $2 != ""'
expect_row Upgrade "a major-upgrade row for older versions" \
    "\$1 == \"$upgrade_code\" && \$3 == \"$version\" && \$7 == \"WIX_UPGRADE_DETECTED\""
expect_row File "koine.exe" '$3 == "koine.exe"'
expect_row File "License.rtf" '$3 == "License.rtf"'
expect_row Directory "the install folder Koine under Program Files (64-bit)" \
    '$1 == "APPLICATIONFOLDER" && $2 == "ProgramFiles64Folder" && $3 == "Koine"'
expect_row Shortcut "the Start-menu shortcut to koine.exe with its icon" \
    '$2 == "ProgramMenuFolder" && $3 == "Koine" && $5 ~ /koine\.exe$/ && $9 != ""'
expect_row Icon "the application icon" '$1 != ""'
for scheme in xmpp matrix sms; do
    key="Software\\\\Classes\\\\$scheme\\\\"
    # Root 2 is HKEY_LOCAL_MACHINE: the handlers are registered for all users.
    expect_row Registry "the $scheme: URL protocol marker" \
        "\$2 == 2 && \$3 == \"$key\" && \$4 == \"URL Protocol\""
    expect_row Registry "the $scheme: open command" \
        "\$2 == 2 && \$3 == \"${key}shell\\\\open\\\\command\" && index(\$5, \"koine.exe\\\" \\\"%1\\\"\") > 0"
done

if [ "$fails" -ne 0 ]; then
    err "FAIL: the smoke MSI from $wxs lacks $fails expected table rows"
    exit 1
fi
say "ok: smoke MSI from $wxs (wixl; placeholder koine.exe) has the expected tables"
