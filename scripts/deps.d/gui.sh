# Dependencies of the window's tests and screenshots (sourced by scripts/test
# and scripts/screenshots.sh). The simulator tests need only fonts; the
# screenshots run the real binary under Xvfb (see shared RECIPES: "A real
# window with no display"). Idempotent: apt_need installs only what is missing.
if ! declare -F apt_need >/dev/null; then
    apt_need() {
        local missing=()
        for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
        [ ${#missing[@]} -eq 0 ] && return 0
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    }
fi
apt_need fonts-dejavu-core fonts-noto-color-emoji xvfb xauth xdotool x11-utils imagemagick \
    libxkbcommon-x11-0 libxcursor1 libxi6 libxrandr2 libx11-xcb1
# The simulator renders on the CPU: deterministic, no GPU needed.
export ICED_TEST_BACKEND=tiny-skia
