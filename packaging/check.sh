#!/usr/bin/env bash
# Runs every packaging check, then (by default) a self-test that feeds each
# check a deliberately broken copy of its file and expects it to fail.
#
#   bash packaging/check.sh                  checks + self-test
#   bash packaging/check.sh --no-self-test   checks only
#   bash packaging/check.sh --self-test-only self-test only
#   KOINE_PACKAGING_OFFLINE=1 bash packaging/check.sh   skip the crate downloads
#
# Installs what it needs (apt packages, a Python venv, cargo-deb) when missing.
# Prints "packaging: N passed, M failed" last and exits non-zero if M > 0.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

run_checks=yes
run_self_test=yes
case "${1:-}" in
    "") ;;
    --no-self-test) run_self_test=no ;;
    --self-test-only) run_checks=no ;;
    *) err "usage: $0 [--no-self-test | --self-test-only]"; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
n=0

# check NAME CMD... : the command must succeed.
check() {
    local name=$1 log start rc=0
    shift
    n=$((n + 1))
    log="$work/log.$n"
    start=$(date +%s)
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        say "PASS  $name ($(($(date +%s) - start)) s)"
    else
        failed=$((failed + 1))
        say "FAIL  $name (exit $rc)"
        sed 's/^/      | /' "$log" | tail -n 40
    fi
}

# must_fail NAME PATTERN CMD... : the command must fail, and its output must
# contain PATTERN, which shows that it failed for the reason under test.
must_fail() {
    local name=$1 pattern=$2 log rc=0
    shift 2
    n=$((n + 1))
    log="$work/log.$n"
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] && grep -qF -- "$pattern" "$log"; then
        passed=$((passed + 1))
        say "PASS  self-test: $name (rejected: $pattern)"
    else
        failed=$((failed + 1))
        if [ "$rc" -eq 0 ]; then
            say "FAIL  self-test: $name (the check accepted a broken file)"
        else
            say "FAIL  self-test: $name (failed, but without saying: $pattern)"
        fi
        sed 's/^/      | /' "$log" | tail -n 20
    fi
}

summary() {
    say "packaging: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- tools
# check() runs its command where `set -e` does not apply: each step says `|| return 1`.
setup() {
    ensure_apt desktop-file-utils appstream librsvg2-bin wixl msitools flatpak-builder \
        python3 python3-venv dpkg-dev || return 1
    ensure_venv || return 1
}
check "tools: apt packages and the packaging venv" setup || true
if [ "$failed" -ne 0 ]; then
    summary
    exit 1
fi

linux="$KOINE_REPO/packaging/linux"
flatpak="$KOINE_REPO/packaging/flatpak"
windows="$KOINE_REPO/packaging/windows"
deb_dir="$work/deb"
deb=""

build_deb() {
    local made
    made=$(bash "$KOINE_REPO/packaging/deb/build-deb.sh" "$deb_dir") || return 1
    deb=$(printf '%s\n' "$made" | tail -n 1)
    say "built $deb"
    bash "$KOINE_REPO/packaging/deb/check-deb.sh" "$deb" || return 1
}

# ---------------------------------------------------------------- checks
if [ "$run_checks" = yes ]; then
    check "linux: desktop file" bash "$linux/validate.sh" desktop "$linux/$KOINE_APP_ID.desktop"
    check "linux: AppStream metainfo" bash "$linux/validate.sh" metainfo "$linux/$KOINE_APP_ID.metainfo.xml"
    check "assets: icons and badges" bash "$linux/validate.sh" icons "$KOINE_REPO/assets"
    check "flatpak: manifest" bash "$flatpak/check-manifest.sh"
    check "flatpak: cargo-sources.json matches Cargo.lock" bash "$flatpak/check-sources.sh"
    if [ "${KOINE_PACKAGING_OFFLINE:-0}" != 1 ]; then
        check "flatpak: every vendored crate downloads and matches its sha256" \
            bash "$flatpak/download-sources.sh"
    fi
    check "windows: smoke MSI (wixl, placeholder koine.exe) and its tables" bash "$windows/smoke-msi.sh"
    check "deb: cargo-deb package, installed koine --version" build_deb
fi

# ---------------------------------------------------------------- self-test
if [ "$run_self_test" = yes ]; then
    bad="$work/broken"
    mkdir -p "$bad"

    # Desktop file without Exec (desktop-file-validate alone accepts that).
    mkdir -p "$bad/no-exec"
    grep -v '^Exec=' "$linux/$KOINE_APP_ID.desktop" >"$bad/no-exec/$KOINE_APP_ID.desktop"
    must_fail "desktop file missing Exec" "Exec must be 'koine %u'" bash "$linux/validate.sh" desktop "$bad/no-exec/$KOINE_APP_ID.desktop"

    # An error that desktop-file-validate prints while exiting 0.
    mkdir -p "$bad/action-icon"
    sed 's/^Type=Application$/Type=Application\nActions=compose;/' "$linux/$KOINE_APP_ID.desktop" \
        >"$bad/action-icon/$KOINE_APP_ID.desktop"
    printf '\n[Desktop Action compose]\nName=Compose\nExec=koine\nIcon=compose.png\n' \
        >>"$bad/action-icon/$KOINE_APP_ID.desktop"
    must_fail "desktop file with an error printed under exit status 0" "desktop-file-validate reported errors" \
        bash "$linux/validate.sh" desktop "$bad/action-icon/$KOINE_APP_ID.desktop"

    # Metainfo with an unknown project license (appstreamcli warning -> failure).
    mkdir -p "$bad/license"
    sed 's|<project_license>AGPL-3.0-or-later</project_license>|<project_license>Koine-Own-License</project_license>|' \
        "$linux/$KOINE_APP_ID.metainfo.xml" >"$bad/license/$KOINE_APP_ID.metainfo.xml"
    must_fail "metainfo with a bad project license" "spdx-license-unknown" \
        bash "$linux/validate.sh" metainfo "$bad/license/$KOINE_APP_ID.metainfo.xml"

    # Metainfo whose content rating lost social-chat (valid AppStream, project rule).
    mkdir -p "$bad/rating"
    grep -v 'id="social-chat"' "$linux/$KOINE_APP_ID.metainfo.xml" >"$bad/rating/$KOINE_APP_ID.metainfo.xml"
    must_fail "metainfo without the social-chat rating" "social-chat must be intense" \
        bash "$linux/validate.sh" metainfo "$bad/rating/$KOINE_APP_ID.metainfo.xml"

    # An icon rendered at the wrong size.
    mkdir -p "$bad/assets"
    cp -r "$KOINE_REPO/assets/icons" "$KOINE_REPO/assets/badges" "$bad/assets/"
    cp "$bad/assets/icons/hicolor/16x16/apps/$KOINE_APP_ID.png" \
        "$bad/assets/icons/hicolor/48x48/apps/$KOINE_APP_ID.png"
    must_fail "48x48 icon of the wrong size" "is 16x16, expected 48x48" bash "$linux/validate.sh" icons "$bad/assets"

    # Flatpak manifests asking for what Flathub forbids. They stay beside the
    # real manifest's relative sources, so they live in a copy of the directory.
    mkdir -p "$bad/flatpak/packaging/flatpak"
    cp "$flatpak/cargo-sources.json" "$bad/flatpak/packaging/flatpak/"
    sed 's|^  - --share=network$|  - --share=network\n  - --socket=session-bus|' "$flatpak/$KOINE_APP_ID.yml" \
        >"$bad/flatpak/packaging/flatpak/session-bus.yml"
    must_fail "flatpak manifest with --socket=session-bus" "--socket=session-bus is not allowed" \
        bash "$flatpak/check-manifest.sh" "$bad/flatpak/packaging/flatpak/session-bus.yml"
    sed 's|^  - --share=network$|  - --share=network\n  - --talk-name=org.freedesktop.secrets|' "$flatpak/$KOINE_APP_ID.yml" \
        >"$bad/flatpak/packaging/flatpak/secrets.yml"
    must_fail "flatpak manifest talking to org.freedesktop.secrets" "org.freedesktop.secrets is not allowed" \
        bash "$flatpak/check-manifest.sh" "$bad/flatpak/packaging/flatpak/secrets.yml"

    # cargo-sources.json whose first crate has a wrong sha256: the download must fail.
    if [ "${KOINE_PACKAGING_OFFLINE:-0}" != 1 ]; then
        mkdir -p "$bad/sha/packaging/flatpak"
        cp "$flatpak/$KOINE_APP_ID.yml" "$bad/sha/packaging/flatpak/"
        python3 - "$flatpak/cargo-sources.json" "$bad/sha/packaging/flatpak/cargo-sources.json" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
first = next(e for e in entries if e.get("type") == "archive")
first["sha256"] = "0" * 64
json.dump(entries, open(sys.argv[2], "w"), indent=4)
PY
        must_fail "cargo-sources.json with a wrong sha256" "Wrong sha256 checksum" \
            bash "$flatpak/download-sources.sh" "$bad/sha/packaging/flatpak/$KOINE_APP_ID.yml"
    fi

    # cargo-sources.json with one crate (archive + checksum file) removed.
    python3 - "$flatpak/cargo-sources.json" "$bad/cargo-sources.json" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
first = next(i for i, e in enumerate(entries) if e.get("type") == "archive")
dest = entries[first]["dest"]
entries = [e for e in entries if e.get("dest") != dest]
json.dump(entries, open(sys.argv[2], "w"), indent=4)
PY
    must_fail "cargo-sources.json with one crate removed" "does not match" \
        bash "$flatpak/check-sources.sh" "$KOINE_REPO/Cargo.lock" "$bad/cargo-sources.json"

    # WiX sources with a changed UpgradeCode, and without the sms: handler.
    sed "s/UpgradeCode=\"$KOINE_UPGRADE_CODE\"/UpgradeCode=\"00000000-0000-0000-0000-000000000000\"/" \
        "$windows/main.wxs" >"$bad/upgrade-code.wxs"
    must_fail "wxs with a different UpgradeCode" "UpgradeCode {$KOINE_UPGRADE_CODE} is missing" bash "$windows/smoke-msi.sh" "$bad/upgrade-code.wxs"
    python3 - "$windows/main.wxs" "$bad/no-sms.wxs" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'<Component Id="UrlHandlerSms".*?</Component>', '', s, flags=re.S)
s = s.replace('<ComponentRef Id="UrlHandlerSms" />', '')
open(sys.argv[2], "w").write(s)
PY
    must_fail "wxs without the sms: URL handler" "the sms: open command is missing" bash "$windows/smoke-msi.sh" "$bad/no-sms.wxs"

    # A .deb that lost its copyright file (repacked from the one just built).
    if [ -n "$deb" ] && [ -f "$deb" ]; then
        dpkg-deb --raw-extract "$deb" "$bad/deb-tree"
        rm -f "$bad/deb-tree/usr/share/doc/koine/copyright"
        dpkg-deb --root-owner-group --build "$bad/deb-tree" "$bad/koine-broken.deb" >/dev/null
        must_fail ".deb without usr/share/doc/koine/copyright" "does not install /usr/share/doc/koine/copyright" \
            bash "$KOINE_REPO/packaging/deb/check-deb.sh" "$bad/koine-broken.deb"
    else
        say "SKIP  self-test: broken .deb (no .deb was built above)"
    fi
fi

summary
