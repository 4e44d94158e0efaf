#!/usr/bin/env bash
# Renders the hicolor PNG icons from the scalable SVG. The PNGs are committed;
# run this again after editing the SVG (needs rsvg-convert, Debian: librsvg2-bin).
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
