#!/usr/bin/env bash
# Checks a Koine .deb: its metadata and file list, that apt could install it
# here, then unpacks it into a temporary root and runs `koine --version` from
# the installed path.
#   check-deb.sh DEB
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

deb=${1:?usage: check-deb.sh DEB}
[ -f "$deb" ] || { err "FAIL: $deb: no such file"; exit 1; }
version=$(workspace_version)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
problem() { err "  $deb: $*"; fails=$((fails + 1)); }

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = koine ] || problem "Package is '$(field Package)', expected koine"
case "$(field Version)" in "$version"-*|"$version") ;; *) problem "Version $(field Version) is not $version";; esac
[ -n "$(field Maintainer)" ] || problem "no Maintainer"

dpkg-deb --contents "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$tmp/files"
want=(/usr/bin/koine
      "/usr/share/applications/$KOINE_APP_ID.desktop"
      "/usr/share/metainfo/$KOINE_APP_ID.metainfo.xml"
      "/usr/share/icons/hicolor/scalable/apps/$KOINE_APP_ID.svg"
      /usr/share/doc/koine/copyright)
for size in $KOINE_ICON_SIZES; do
    want+=("/usr/share/icons/hicolor/${size}x${size}/apps/$KOINE_APP_ID.png")
done
for f in "${want[@]}"; do
    grep -qxF "$f" "$tmp/files" || problem "does not install $f"
done

# Would apt accept it on this system (dependencies resolvable)? Simulation only.
if ! apt-get install --simulate --no-install-recommends "$(realpath "$deb")" >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    problem "apt-get cannot install it here"
fi

# Install into a temporary root and run the program from the installed path.
dpkg-deb --extract "$deb" "$tmp/root"
bin="$tmp/root/usr/bin/koine"
if [ ! -x "$bin" ]; then
    problem "usr/bin/koine is not executable"
else
    out=$("$bin" --version 2>&1) || problem "'koine --version' exited non-zero: $out"
    case "$out" in
        *"$version"*) say "  installed koine --version: $out" ;;
        *) problem "'koine --version' printed '$out', expected the version $version" ;;
    esac
fi
# cargo-deb puts a machine-readable header (DEP-5) before the LICENSE text.
copyright="$tmp/root/usr/share/doc/koine/copyright"
if [ -f "$copyright" ]; then
    grep -qx 'License: AGPL-3.0-or-later' "$copyright" \
        || problem "usr/share/doc/koine/copyright does not name AGPL-3.0-or-later"
    tail -c "$(stat -c %s "$KOINE_REPO/LICENSE")" "$copyright" | cmp -s - "$KOINE_REPO/LICENSE" \
        || problem "usr/share/doc/koine/copyright does not end with the repository's LICENSE"
fi

if [ "$fails" -ne 0 ]; then
    err "FAIL: $deb has $fails problems"
    exit 1
fi
say "ok: $deb"
