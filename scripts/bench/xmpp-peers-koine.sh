#!/usr/bin/env bash
# Adapter for Koine (headless): the account lives in a profile under HOME, the
# password in the Secret Service of the run's private session bus (a
# gnome-keyring daemon is started there by `prepare`), and `koine tail --json`
# is the client: one JSON line per event, counted by `count`.
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
  exec "$BIN" --profile "$home/koine" tail --json >>"$home/koine/tail.jsonl"
  ;;
count)
  home="$1" peer="$2" what="${3:-burst}"
  # One message_stored line per message the engine stored.
  { grep '"type":"message_stored"' "$home/koine/tail.jsonl" 2>/dev/null || true; } \
    | grep -c "\"text\":\"$what " || true
  ;;
version)
  "$BIN" --version 2>/dev/null | head -1
  ;;
esac
