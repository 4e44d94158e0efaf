# Test dependencies of the SMS plugin (sourced by scripts/test): KDE's own
# KDE Connect daemon (kdeconnectd 22.12, protocol 7), the independent peer
# of protocols/sms/tests/kdeconnectd.rs, which runs it headless in a network
# namespace of its own; gdbus (libglib2.0-bin) talks to it over D-Bus, and
# iproute2 and util-linux (unshare) make the namespace. Idempotent:
# apt_need installs only what is missing.
apt_need kdeconnect libglib2.0-bin iproute2 util-linux
