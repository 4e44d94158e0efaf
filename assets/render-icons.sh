#!/usr/bin/env bash
# Renders the hicolor PNG icons from the scalable SVG. The PNGs are committed;
# run this again after editing the SVG. Needs rsvg-convert (Debian: librsvg2-bin)
# and icotool (Debian: icoutils) for the Windows icon.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
app_id=im.koine.Koine
svg="$here/icons/hicolor/scalable/apps/$app_id.svg"

command -v rsvg-convert >/dev/null 2>&1 || {
    echo "render-icons: rsvg-convert not found (apt-get install librsvg2-bin)" >&2
    exit 1
}

for size in 16 24 32 48 64 128 256 512; do
    out="$here/icons/hicolor/${size}x${size}/apps/$app_id.png"
    mkdir -p "$(dirname "$out")"
    rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio "$svg" --output "$out"
    echo "rendered $out"
done

command -v icotool >/dev/null 2>&1 || {
    echo "render-icons: icotool not found (apt-get install icoutils)" >&2
    exit 1
}
# Windows icon (installer shortcut and Add/Remove Programs): small sizes as
# bitmaps, 256 as an embedded PNG, as Windows expects.
png() { echo "$here/icons/hicolor/${1}x${1}/apps/$app_id.png"; }
ico="$here/icons/windows/$app_id.ico"
mkdir -p "$(dirname "$ico")"
icotool --create --output="$ico" \
    "$(png 16)" "$(png 24)" "$(png 32)" "$(png 48)" "$(png 64)" --raw="$(png 256)"
echo "rendered $ico"
