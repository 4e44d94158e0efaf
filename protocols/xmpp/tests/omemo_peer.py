"""An independent OMEMO peer for the interop test: slixmpp + slixmpp-omemo.

Usage: omemo_peer.py JID PASSWORD HOST PORT CA_FILE STATE_FILE

Speaks JSON lines: on stdout it reports {"ready": device_id} once its OMEMO
device list and bundle are published, {"received": text, "encrypted": bool,
"from": jid} for every message with a body and {"sent": id} after sending;
on stdin it takes {"send": text, "to": jid}. Trust is blind trust before
verification, as in Koine.
"""

import asyncio
import json
import logging
import ssl
import sys
import urllib.request

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType
from slixmpp import JID
from slixmpp.clientxmpp import ClientXMPP
from slixmpp.plugins import register_plugin
from slixmpp_omemo import XEP_0384


class FileStorage(Storage):
    """The OMEMO library's key-value store, in one JSON file."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        try:
            with open(path, encoding="utf8") as f:
                self.data = json.load(f)
        except FileNotFoundError:
            self.data = {}

    def _flush(self) -> None:
        with open(self.path, "w", encoding="utf8") as f:
            json.dump(self.data, f)

    async def _load(self, key: str) -> Maybe[JSONType]:
        if key in self.data:
            return Just(self.data[key])
        return Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.data[key] = value
        self._flush()

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)
        self._flush()


class Omemo(XEP_0384):
    """slixmpp-omemo with blind trust before verification."""

    default_config = {"fallback_message": "OMEMO", "state_file": None}

    @property
    def storage(self) -> Storage:
        if not hasattr(self, "_storage"):
            self._storage = FileStorage(self.config["state_file"])
        return self._storage

    @property
    def _btbv_enabled(self) -> bool:
        return True

    async def _devices_blindly_trusted(self, blindly_trusted, identifier) -> None:
        pass

    async def _prompt_manual_trust(self, manually_trusted, identifier) -> None:
        raise RuntimeError("manual trust is not used here")


register_plugin(Omemo)


def say(obj) -> None:
    print(json.dumps(obj), flush=True)


class Peer(ClientXMPP):
    def __init__(self, jid: str, password: str, state_file: str) -> None:
        super().__init__(jid, password)
        for p in ["xep_0030", "xep_0060", "xep_0163", "xep_0199", "xep_0280", "xep_0334", "xep_0380"]:
            self.register_plugin(p)
        self.register_plugin("xep_0384", {"state_file": state_file}, module=sys.modules[__name__])
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("omemo_initialized", self.on_omemo)
        self.started = asyncio.Event()

    async def on_start(self, _event) -> None:
        self.send_presence()
        await self.get_roster()
        self.started.set()

    async def on_omemo(self, *_args) -> None:
        await self.started.wait()
        sm = await self.plugin["xep_0384"].get_session_manager()
        info, _ = await sm.get_own_device_information()
        say({"ready": info.device_id})
        self.reader = asyncio.create_task(self.read_commands())

    async def on_message(self, msg) -> None:
        if msg["type"] not in ("chat", "normal"):
            return
        xep = self.plugin["xep_0384"]
        if xep.is_encrypted(msg):
            try:
                decrypted, device = await xep.decrypt_message(msg)
            except Exception as e:  # reported to the test, which fails on it
                say({"error": f"decrypt: {type(e).__name__}: {e}"})
                return
            body = decrypted["body"]
            if body and body.startswith("aesgcm://"):
                say({"file": await asyncio.to_thread(self.fetch_sealed, body),
                     "link": body, "encrypted": True})
            elif body:
                say({"received": body, "encrypted": True, "from": msg["from"].bare,
                     "device": device.device_id})
        elif msg["body"]:
            say({"received": msg["body"], "encrypted": False, "from": msg["from"].bare})

    def fetch_sealed(self, link: str) -> str:
        """Downloads an aesgcm:// file and opens it (hex of the plaintext)."""
        rest, fragment = link[len("aesgcm://"):].split("#", 1)
        raw = bytes.fromhex(fragment)
        iv, key = raw[:-32], raw[-32:]
        with urllib.request.urlopen("https://" + rest, context=self.ssl_context) as r:
            sealed = r.read()
        return AESGCM(key).decrypt(iv, sealed, None).hex()

    async def read_commands(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                self.disconnect()
                return
            cmd = json.loads(line)
            if "send" in cmd:
                try:
                    await self.send_encrypted(cmd["to"], cmd["send"])
                except Exception as e:  # reported to the test, which fails on it
                    say({"error": f"send: {type(e).__name__}: {e}"})

    async def send_encrypted(self, to: str, text: str) -> None:
        msg = self.make_message(mto=JID(to), mtype="chat")
        msg["body"] = text
        encrypted, errors = await self.plugin["xep_0384"].encrypt_message(msg, JID(to))
        if errors:
            say({"warning": [repr(e) for e in errors]})
        if encrypted is None:
            say({"error": "nothing encrypted"})
            return
        encrypted.send()
        say({"sent": encrypted["id"]})


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    jid, password, host, port, ca_file, state_file = sys.argv[1:7]
    peer = Peer(jid, password, state_file)
    ctx = ssl.create_default_context(cafile=ca_file)
    peer.ssl_context = ctx
    peer.connect(host, int(port))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()
