#!/usr/bin/env bash
# Validates the Linux desktop integration files and the icons.
#
#   validate.sh                      all of the below on the repository's files
#   validate.sh desktop FILE         desktop-file-validate + the project's rules
#   validate.sh metainfo FILE        appstreamcli validate --no-net + the project's rules
#   validate.sh icons DIR            hicolor PNG sizes and SVGs (DIR = assets/)
#
# Exits non-zero on the first failing file. Needs desktop-file-utils, appstream,
# librsvg2-bin and python3 (packaging/check.sh installs them).
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

fail() { err "FAIL: $*"; exit 1; }

validate_desktop() {
    local file=$1 out rc=0
    [ -f "$file" ] || fail "$file: no such file"
    [ "$(basename "$file")" = "$KOINE_APP_ID.desktop" ] || fail "$file: must be named $KOINE_APP_ID.desktop"

    # desktop-file-validate may exit 0 after printing errors: read its output too.
    out=$(desktop-file-validate "$file" 2>&1) || rc=$?
    [ -z "$out" ] || printf '%s\n' "$out" >&2
    [ "$rc" -eq 0 ] || fail "$file: desktop-file-validate exited $rc"
    if printf '%s\n' "$out" | grep -q 'error:'; then
        fail "$file: desktop-file-validate reported errors"
    fi

    # The project's own rules, on the [Desktop Entry] group.
    entry() {
        awk -v key="$1" '
            /^\[/ { in_main = ($0 == "[Desktop Entry]") }
            in_main && index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }
        ' "$file"
    }
    [ "$(entry Type)" = Application ] || fail "$file: Type must be Application"
    [ "$(entry Exec)" = "koine %u" ] || fail "$file: Exec must be 'koine %u' (is '$(entry Exec)')"
    [ "$(entry Icon)" = "$KOINE_APP_ID" ] || fail "$file: Icon must be $KOINE_APP_ID"
    local cats mimes want
    cats=";$(entry Categories)"
    for want in Network InstantMessaging Chat; do
        case "$cats" in *";$want;"*) ;; *) fail "$file: Categories lacks $want" ;; esac
    done
    mimes=";$(entry MimeType)"
    for want in x-scheme-handler/xmpp x-scheme-handler/matrix x-scheme-handler/sms; do
        case "$mimes" in *";$want;"*) ;; *) fail "$file: MimeType lacks $want" ;; esac
    done
    say "ok: desktop file $file"
}

validate_metainfo() {
    local file=$1 out rc=0
    [ -f "$file" ] || fail "$file: no such file"
    [ "$(basename "$file")" = "$KOINE_APP_ID.metainfo.xml" ] || fail "$file: must be named $KOINE_APP_ID.metainfo.xml"

    out=$(appstreamcli validate --no-net --no-color "$file" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/  appstreamcli: /' >&2
    [ "$rc" -eq 0 ] || fail "$file: appstreamcli validate exited $rc"
    if printf '%s\n' "$out" | grep -q -e '^E:' -e 'error:'; then
        fail "$file: appstreamcli reported errors"
    fi

    # The project's own rules: what the issue decided must stay true.
    python3 - "$file" "$KOINE_APP_ID" "$(workspace_version)" <<'PY' || fail "$file: project rules"
import sys
import xml.etree.ElementTree as ET

path, app_id, version = sys.argv[1:4]
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
root = ET.parse(path).getroot()
problems = []

def text(xpath):
    node = root.find(xpath)
    return (node.text or "").strip() if node is not None else None

def expect(cond, what):
    if not cond:
        problems.append(what)

expect(root.tag == "component" and root.get("type") == "desktop-application",
       "root must be <component type=\"desktop-application\">")
expect(text("id") == app_id, f"<id> must be {app_id}")
expect(text("metadata_license") == "CC0-1.0", "<metadata_license> must be CC0-1.0")
expect(text("project_license") == "AGPL-3.0-or-later", "<project_license> must be AGPL-3.0-or-later")
expect(bool(text("developer/name")), "<developer><name> is missing")
launch = root.find("launchable")
expect(launch is not None and launch.get("type") == "desktop-id"
       and (launch.text or "").strip() == f"{app_id}.desktop",
       f"<launchable type=\"desktop-id\"> must be {app_id}.desktop")
images = [(i.text or "").strip() for i in root.findall("screenshots/screenshot/image")]
expect(any(u.startswith("https://koine.im/screenshots/") for u in images),
       "a screenshot under https://koine.im/screenshots/ is required")
releases = {r.get("version"): r.get("date") for r in root.findall("releases/release")}
expect("0.1.0" in releases and releases["0.1.0"] == "2026-11-27", "release 0.1.0 of 2026-11-27 is required")
expect(version in releases, f"the workspace version {version} has no <release>")
rating = root.find("content_rating")
expect(rating is not None and rating.get("type") == "oars-1.1", "<content_rating type=\"oars-1.1\"> is required")
if rating is not None:
    attrs = {a.get("id"): (a.text or "").strip() for a in rating.findall("content_attribute")}
    expect(attrs.get("social-chat") == "intense", "content rating social-chat must be intense")
schemes = {c.get("scheme_preference") for c in root.findall("branding/color") if c.get("type") == "primary"}
expect({"light", "dark"} <= schemes, "branding needs primary colors for light and dark")
expect(any(s.get(LANG) == "fr" for s in root.findall("summary")), "a French <summary> is required")
expect(any(s.get(LANG) is None for s in root.findall("summary")), "an English <summary> is required")
paras = root.findall("description/p")
expect(any(p.get(LANG) == "fr" for p in paras), "a French description paragraph is required")
expect(any(p.get(LANG) is None for p in paras), "an English description paragraph is required")

for p in problems:
    print(f"  {path}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    say "ok: metainfo $file"
}

png_size() {
    # Width and height from the IHDR chunk of a PNG file.
    local sig
    sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || { echo "not-a-png"; return; }
    printf '%dx%d\n' "0x$(od -An -tx1 -j16 -N4 "$1" | tr -d ' \n')" "0x$(od -An -tx1 -j20 -N4 "$1" | tr -d ' \n')"
}

validate_icons() {
    local dir=$1 size png svg got badge
    svg="$dir/icons/hicolor/scalable/apps/$KOINE_APP_ID.svg"
    [ -f "$svg" ] || fail "$svg: missing"
    rsvg-convert --width 64 --height 64 "$svg" >/dev/null || fail "$svg: does not render"
    for size in $KOINE_ICON_SIZES; do
        png="$dir/icons/hicolor/${size}x${size}/apps/$KOINE_APP_ID.png"
        [ -f "$png" ] || fail "$png: missing"
        got=$(png_size "$png")
        [ "$got" = "${size}x${size}" ] || fail "$png: is $got, expected ${size}x${size}"
    done
    [ -s "$dir/icons/windows/$KOINE_APP_ID.ico" ] || fail "$dir/icons/windows/$KOINE_APP_ID.ico: missing"
    for badge in xmpp matrix sms gatekeeper; do
        [ -f "$dir/badges/$badge.svg" ] || fail "$dir/badges/$badge.svg: missing"
        rsvg-convert --width 24 --height 24 "$dir/badges/$badge.svg" >/dev/null \
            || fail "$dir/badges/$badge.svg: does not render"
    done
    say "ok: icons and badges in $dir"
}

if [ "$#" -eq 0 ]; then
    validate_desktop "$KOINE_REPO/packaging/linux/$KOINE_APP_ID.desktop"
    validate_metainfo "$KOINE_REPO/packaging/linux/$KOINE_APP_ID.metainfo.xml"
    validate_icons "$KOINE_REPO/assets"
    exit 0
fi
while [ "$#" -gt 0 ]; do
    [ "$#" -ge 2 ] || { err "usage: $0 [desktop FILE | metainfo FILE | icons DIR]..."; exit 2; }
    case "$1" in
        desktop) validate_desktop "$2" ;;
        metainfo) validate_metainfo "$2" ;;
        icons) validate_icons "$2" ;;
        *) err "usage: $0 [desktop FILE | metainfo FILE | icons DIR]..."; exit 2 ;;
    esac
    shift 2
done
