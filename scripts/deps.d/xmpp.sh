# Test dependencies of the XMPP plugin (sourced by scripts/test).
# Prosody (the real server the tests start on loopback), openssl (the tests
# make their own CA) and curl (the upload test fetches the shared file).
# Idempotent and quick when already installed. Debian's prosody package may
# start a stock server on 5222 on systemd hosts; the tests use their own ports
# and config, so it does not matter.
for pkg in prosody openssl curl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    }
done
