#!/usr/bin/env bash
# Adapter for Koine with its window shown (on the rig's Xvfb): the account
# lives in a profile under HOME, the password in the Secret Service of the
# run's private session bus (a gnome-keyring daemon is started there by
# `prepare`); `count` reads how many messages the engine committed to the
# profile's SQLite store.
# KOINE_BIN: the koine binary (release build for figures worth reporting).
set -euo pipefail
BIN="${KOINE_BIN:-/tmp/koine-bench/koine}"
cmd="$1"; shift
case "$cmd" in
prepare)
  home="$1" jid="$2" pw="$3" host="$4" port="$5" ca="$6"
  mkdir -p "$home/koine"
  printf throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  printf '%s\n' "$pw" | "$BIN" --profile "$home/koine" account add xmpp "$jid" \
    --set "jid=$jid" --set "server_host=$host" --set "server_port=$port" \
    --set "extra_ca_file=$ca" --password-stdin
  ;;
launch)
  home="$1"
  exec "$BIN" --profile "$home/koine" >>"$home/koine/window.log" 2>&1
  ;;
count)
  home="$1" peer="$2" what="${3:-burst}"
  # Messages the engine committed to the store (the window shows the same).
  sqlite3 "$home/koine/koine.sqlite3" \
    "SELECT COUNT(*) FROM messages WHERE body LIKE '$what %';" 2>/dev/null || echo 0
  ;;
version)
  "$BIN" --version 2>/dev/null | head -1
  ;;
esac
