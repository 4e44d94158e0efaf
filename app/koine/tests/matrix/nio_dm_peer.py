"""An independent Matrix peer for Koine's route-truth test: matrix-nio with e2e.

Logs in, uploads its device keys and prints `READY`; then accepts every
invitation and syncs until a message whose body is EXPECT arrives. It prints
`GOT <body> ENCRYPTED` when nio decrypted it from an `m.room.encrypted`
event, `GOT <body> PLAINTEXT` when it came in the clear, and
`UNDECRYPTABLE <event id>` for an encrypted event it could not read (yet).
Usage: nio_dm_peer.py HS USER PASSWORD STORE_DIR EXPECT
"""

import asyncio
import sys
import time

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomMessageText,
)


async def main(hs, user, password, store, expect):
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    client = AsyncClient(hs, user, store_path=store, config=config)
    response = await client.login(password, device_name="nio-dm-peer")
    if not isinstance(response, LoginResponse):
        print(f"LOGIN FAILED {response}", flush=True)
        return 2
    got = asyncio.Event()

    def on_message(_room, event):
        if event.body == expect:
            how = "ENCRYPTED" if event.decrypted else "PLAINTEXT"
            print(f"GOT {event.body} {how}", flush=True)
            got.set()

    def on_undecryptable(_room, event):
        print(f"UNDECRYPTABLE {event.event_id}", flush=True)

    client.add_event_callback(on_message, RoomMessageText)
    client.add_event_callback(on_undecryptable, MegolmEvent)
    await client.sync(timeout=0, full_state=True)
    if client.should_upload_keys:
        await client.keys_upload()
    print("READY", flush=True)
    deadline = time.monotonic() + 120
    while not got.is_set() and time.monotonic() < deadline:
        for room_id in list(client.invited_rooms):
            await client.join(room_id)
            print(f"JOINED {room_id}", flush=True)
        await client.sync(timeout=1000)
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
    await client.close()
    return 0 if got.is_set() else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
