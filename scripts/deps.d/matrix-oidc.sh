# Test dependencies of the Matrix plugin's single sign-on tests (sourced by
# scripts/test): Synapse's OpenID Connect support and an OpenID provider for
# loopback tests, both in the Synapse venv of matrix.sh.
# shellcheck source=matrix.sh
source "$(dirname "${BASH_SOURCE[0]}")/matrix.sh"
koine_matrix_oidc_wants="matrix-synapse[oidc] oidc-provider-mock"
koine_matrix_oidc_venv="$(dirname "$KOINE_MATRIX_VENV_BIN")"
if [ "$(cat "$koine_matrix_oidc_venv/.koine-oidc-installed" 2>/dev/null)" != "$koine_matrix_oidc_wants" ]; then
    # shellcheck disable=SC2086
    "$KOINE_MATRIX_VENV_BIN/pip" install --quiet --disable-pip-version-check $koine_matrix_oidc_wants
    printf '%s' "$koine_matrix_oidc_wants" > "$koine_matrix_oidc_venv/.koine-oidc-installed"
fi
unset koine_matrix_oidc_venv koine_matrix_oidc_wants
