# Test dependencies of the XMPP plugin (sourced by scripts/test).
# Prosody (the real server the tests start on loopback), openssl (the tests
# make their own CA), curl (the upload test fetches the shared file) and
# python3-venv (for the OMEMO peer's venv below).
# Idempotent and quick when already installed. Debian's prosody package may
# start a stock server on 5222 on systemd hosts; the tests use their own ports
# and config, so it does not matter.
for pkg in prosody openssl curl python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    }
done

# The independent OMEMO peer of the interop test (tests/omemo.rs): slixmpp
# with slixmpp-omemo (python-omemo; its oldmemo backend speaks the legacy
# eu.siacs.conversations.axolotl namespace Koine uses). Pinned; a stamp
# file records what was installed, so a second run only exports the path.
koine_omemo_venv="${KOINE_CACHE:-$HOME/.cache/koine}/venvs/xmpp-omemo"
koine_omemo_wants="slixmpp==1.17.0 slixmpp-omemo==2.2.0 omemo==2.1.0 oldmemo[xml]==2.1.0 twomemo==2.1.0"
if [ "$(cat "$koine_omemo_venv/.koine-installed" 2>/dev/null)" != "$koine_omemo_wants" ]; then
    python3 -m venv "$koine_omemo_venv"
    # shellcheck disable=SC2086
    "$koine_omemo_venv/bin/pip" install --quiet --disable-pip-version-check $koine_omemo_wants
    printf '%s' "$koine_omemo_wants" > "$koine_omemo_venv/.koine-installed"
fi
export KOINE_XMPP_OMEMO_VENV_BIN="$koine_omemo_venv/bin"
unset koine_omemo_venv koine_omemo_wants
