#!/usr/bin/env bash
# Adapter for Koine (headless) on the Matrix peer rig.
#   prepare HOME USER_ID TOKEN DEVICE_ID HS_URL PASSWORD | launch HOME |
#   count HOME ROOM_ID | version
# prepare adds the account to a profile under HOME (`koine account add`, the
# password into the run's Secret Service), then puts the driver's session
# (access token + device id of the /login it just did) into the account's
# keyring scope as `matrix-session`, the entry the plugin restores from: like
# the other clients, every start is a restored session on an empty local
# store, so the first /sync is a full initial sync.
# launch execs `koine tail --json` (one JSON line per engine event) as the client.
# count: messages of ROOM_ID in Koine's own SQLite store (the engine's
# `messages` table), read-only.
# KOINE_BIN: the koine binary (a release build for figures worth reporting).
set -euo pipefail
BIN="${KOINE_BIN:-/tmp/koine-bench/koine}"
cmd="$1"; shift
case "$cmd" in
prepare)
  home="$1" user="$2" tok="$3" dev="$4" hs="$5" pw="$6"
  mkdir -p "$home/koine"
  id=$(printf '%s\n' "$pw" | "$BIN" --profile "$home/koine" account add matrix "$user" \
    --set "user_id=$user" --set "homeserver=$hs" --password-stdin)
  # Entries of koine-keyring: service im.koine.Koine, user name <scope>/<name>;
  # the scope's `.names` index lists what was written (for account removal).
  printf '{"user_id":"%s","device_id":"%s","access_token":"%s"}' "$user" "$dev" "$tok" \
    | secret-tool store --label="koine $id/matrix-session" \
        service im.koine.Koine username "$id/matrix-session"
  names=$(secret-tool lookup service im.koine.Koine username "$id/.names" 2>/dev/null || true)
  printf '%s\nmatrix-session' "$names" \
    | secret-tool store --label="koine $id/.names" service im.koine.Koine username "$id/.names"
  ;;
launch)
  home="$1"
  exec "$BIN" --profile "$home/koine" tail --json >>"$home/koine/tail.jsonl"
  ;;
count)
  home="$1" room="$2"
  db="$home/koine/koine.sqlite3"
  [ -f "$db" ] || { echo 0; exit 0; }
  sqlite3 -readonly -cmd '.timeout 5000' "$db" \
    "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.remote_key = '$room';" \
    2>/dev/null || echo 0
  ;;
version)
  "$BIN" --version 2>/dev/null | head -1
  ;;
*) exit 0 ;;
esac
