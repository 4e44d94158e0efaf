#!/usr/bin/env bash
# Screenshots of the real window for people to look at: builds the binary,
# runs `koine --demo` (a local gatekeeper server, simulated phones and
# people who answer, in a throwaway profile) under Xvfb with the CPU
# renderer, inside a private keyring (scripts/with-keyring), and saves PNGs
# in light and dark, English and French, into docs/screenshots/: the inbox,
# the quick switcher, a chat with the route inspector, the settings, the
# account setup form and the People screen.
#
# Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KOINE_KEYRING_SCRATCH:-}" ]; then
    # shellcheck source=deps.d/gui.sh
    source scripts/deps.d/gui.sh
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/koine/target}"
    cargo build -p koine
    exec scripts/with-keyring "$0" "$@"
fi

bin="${CARGO_TARGET_DIR:-/var/cache/koine/target}/debug/koine"
work=$(mktemp -d)
xvfb_pid=""
app_pid=""
cleanup() {
    if [ -n "$app_pid" ]; then
        # SIGTERM: the demo removes its profile and keyring entries.
        kill -TERM "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
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
export ICED_BACKEND=tiny-skia
sleep 1

out=docs/screenshots
mkdir -p "$out"

snap() { sleep "$2"; import -window root -depth 8 "$out/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; }

# shot LANG THEME: one run of the demo, five pictures.
shot() {
    local lang=$1 theme=$2
    KOINE_LANG=$lang KOINE_THEME=$theme "$bin" --demo >"$work/app.log" 2>&1 &
    app_pid=$!
    local wid=""
    for _ in $(seq 1 150); do
        wid=$(xdotool search --name '^Koine$' 2>/dev/null | head -1 || true)
        [ -n "$wid" ] && break
        sleep 0.2
    done
    [ -n "$wid" ] || { head -20 "$work/app.log"; echo "no window" >&2; exit 1; }
    xdotool windowmove "$wid" 0 0 windowsize "$wid" 1180 760 windowfocus --sync "$wid" 2>/dev/null || true
    # The people answer within a few seconds.
    snap "inbox-$lang-$theme" 5
    # Ctrl+K, a few letters of Lena's name: the quick switcher.
    xdotool key ctrl+k
    sleep 0.5
    xdotool type --delay 60 "len"
    snap "switcher-$lang-$theme" 1
    xdotool key Return
    sleep 1
    # Write to Lena; her answer comes back through the local server.
    click 500 734
    local say="Where does this message go?"
    [ "$lang" = fr ] && say="Par où passe ce message ?"
    xdotool type --delay 30 "$say"
    xdotool key Return
    sleep 3
    click "${KOINE_SHOT_ROUTE_X:-1100}" "${KOINE_SHOT_ROUTE_Y:-30}"
    snap "route-$lang-$theme" 1.5
    xdotool key Escape
    click "${KOINE_SHOT_SETTINGS_X:-270}" 23
    snap "settings-$lang-$theme" 1
    click 70 55
    sleep 0.7
    click "${KOINE_SHOT_XMPP_X:-638}" "${KOINE_SHOT_XMPP_Y:-104}"
    snap "setup-$lang-$theme" 1
    # The People screen (its button is left of Settings).
    xdotool key Escape
    local people_x=206
    [ "$lang" = fr ] && people_x=182
    click "${KOINE_SHOT_PEOPLE_X:-$people_x}" 23
    snap "people-$lang-$theme" 1
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
}

# KOINE_SHOT_ONLY="en light" takes one set (to check the clicks' places).
for lang in en fr; do
    for theme in light dark; do
        case "${KOINE_SHOT_ONLY:-$lang $theme}" in "$lang $theme") shot "$lang" "$theme" ;; esac
    done
done
# Keep them small: a palette of 128 colours is plenty for a UI.
for f in "$out"/*.png; do
    convert "$f" -colors 128 -strip "PNG8:$f"
done
ls -la "$out"
