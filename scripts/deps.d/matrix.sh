# Test dependencies of the Matrix plugin (sourced by scripts/test).
# A Python venv with Synapse (the homeserver the tests start on loopback) and
# matrix-nio with its e2e extra (the independent peer of the interop test).
# Idempotent: a stamp file records what was installed; a second run only
# exports the path.
koine_matrix_venv="${KOINE_CACHE:-$HOME/.cache/koine}/venvs/matrix"
koine_matrix_wants="matrix-synapse matrix-nio[e2e]"
if [ "$(cat "$koine_matrix_venv/.koine-installed" 2>/dev/null)" != "$koine_matrix_wants" ]; then
    python3 -m venv "$koine_matrix_venv"
    # shellcheck disable=SC2086
    "$koine_matrix_venv/bin/pip" install --quiet --disable-pip-version-check $koine_matrix_wants
    printf '%s' "$koine_matrix_wants" > "$koine_matrix_venv/.koine-installed"
fi
export KOINE_MATRIX_VENV_BIN="$koine_matrix_venv/bin"
unset koine_matrix_venv koine_matrix_wants
