#!/usr/bin/env bash
# Screenshots of the real window for people to look at: builds the binary,
# fills a throwaway profile (app/ui/examples/seed_profile.rs, through the
# engine's store API), runs `koine --profile DIR` under Xvfb with the CPU
# renderer, and saves PNGs in light and dark, English and French, into
# docs/screenshots/ (the list, and the chat with the route inspector open).
#
# Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deps.d/gui.sh
source scripts/deps.d/gui.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/koine/target}"
cargo build -p koine -p koine-ui --example seed_profile
bin="$CARGO_TARGET_DIR/debug/koine"
seed="$CARGO_TARGET_DIR/debug/examples/seed_profile"

work=$(mktemp -d)
xvfb_pid=""
app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# -displayfd: Xvfb picks a free display number (others may run one too).
Xvfb -displayfd 3 -screen 0 1180x760x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -1 "$work/display")"
unset WAYLAND_DISPLAY
export XDG_RUNTIME_DIR="$work/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
export ICED_BACKEND=tiny-skia
sleep 1

out=docs/screenshots
mkdir -p "$out"

# shot LANG THEME: one run of the window, two pictures.
shot() {
    local lang=$1 theme=$2 profile="$work/profile-$1-$2"
    "$seed" "$profile" >/dev/null
    KOINE_LANG=$lang KOINE_THEME=$theme "$bin" --profile "$profile" >"$work/app.log" 2>&1 &
    app_pid=$!
    local wid=""
    for _ in $(seq 1 100); do
        wid=$(xdotool search --name '^Koine$' 2>/dev/null | head -1 || true)
        [ -n "$wid" ] && break
        sleep 0.2
    done
    [ -n "$wid" ] || { head -20 "$work/app.log"; echo "no window" >&2; exit 1; }
    xdotool windowmove "$wid" 0 0 windowsize "$wid" 1180 760 windowfocus --sync "$wid" 2>/dev/null || true
    sleep 2
    import -window root -depth 8 "$out/inbox-$lang-$theme.png"
    # Open the second conversation of the inbox (Alice), then the inspector.
    xdotool mousemove 160 ${KOINE_SHOT_CHAT_Y:-268} click 1
    sleep 1
    xdotool mousemove ${KOINE_SHOT_ROUTE_X:-1100} ${KOINE_SHOT_ROUTE_Y:-30} click 1
    sleep 1.5
    import -window root -depth 8 "$out/route-$lang-$theme.png"
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
}

for lang in en fr; do
    for theme in light dark; do
        shot "$lang" "$theme"
    done
done
# Keep them small: a palette of 128 colours is plenty for a UI.
for f in "$out"/*.png; do
    convert "$f" -colors 128 -strip "PNG8:$f"
done
ls -la "$out"
