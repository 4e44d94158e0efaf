"""An independent Matrix peer for Koine's interop test: matrix-nio with e2e.

Logs in, sends one Megolm-encrypted message into ROOM, then syncs until a
message with EXPECT arrives (decrypted) and prints `GOT <body>`.
Usage: nio_peer.py HS USER PASSWORD ROOM STORE_DIR SEND EXPECT
"""

import asyncio
import sys
import time

from nio import AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent, RoomMessageText


async def main(hs, user, password, room, store, send, expect):
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    client = AsyncClient(hs, user, store_path=store, config=config)
    response = await client.login(password, device_name="nio-peer")
    if not isinstance(response, LoginResponse):
        print(f"LOGIN FAILED {response}", flush=True)
        return 2
    got = asyncio.Event()

    def on_message(_room, event):
        if event.body == expect:
            print(f"GOT {event.body}", flush=True)
            got.set()

    def on_undecryptable(_room, event):
        print(f"UNDECRYPTABLE {event.event_id} {event.session_id}", flush=True)

    client.add_event_callback(on_message, RoomMessageText)
    client.add_event_callback(on_undecryptable, MegolmEvent)
    await client.sync(timeout=0, full_state=True)
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    sent = await client.room_send(
        room,
        "m.room.message",
        {"msgtype": "m.text", "body": send},
        ignore_unverified_devices=True,
    )
    print(f"SENT {getattr(sent, 'event_id', sent)}", flush=True)
    deadline = time.monotonic() + 90
    while not got.is_set() and time.monotonic() < deadline:
        await client.sync(timeout=2000)
        if client.should_query_keys:
            await client.keys_query()
    await client.close()
    return 0 if got.is_set() else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:8])))
