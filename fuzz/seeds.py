#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each fuzz target into fuzz/corpus/.

The corpora in the repository are these seeds plus what `scripts/fuzz --grow
--cmin` kept; run this again only to restore the seeds (names seed-*)."""
import json, os, struct

here = os.path.dirname(os.path.abspath(__file__))
C = "jabber:client"


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


KEY = "00" * 12 + "11" * 32
for i, t in enumerate([
    "https://upload.a.example/f/1/photo.jpg",
    "https://[::1]:5281/upload/a%20b.png?x=1#frag",
    "HTTPS://A.EXAMPLE:443/",
    "https:/\u00e9",
    f"aesgcm://upload.a.example/f/secret.jpg#{KEY}",
    f"hello\naesgcm://h/x.png#{KEY}\nhttps://h/doc.pdf\n",
    "room@conference.a.example/nick",
    "room@conference.a.example",
]):
    put("xmpp_text", str(i), t)

M = f"<message xmlns='{C}' from='bob@b.example/phone' to='me@a.example' id='m1' type='chat'>"
stanzas = {
    "chat": M + "<body>hi</body><request xmlns='urn:xmpp:receipts'/>"
    "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/><stanza-id xmlns='urn:xmpp:sid:0' by='me@a.example' id='s1'/>"
    "<delay xmlns='urn:xmpp:delay' from='a.example' stamp='2026-01-02T03:04:05Z'/></message>",
    "correction": M + "<body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m0'/></message>",
    "markers": M + "<displayed xmlns='urn:xmpp:chat-markers:0' id='m0'/><received xmlns='urn:xmpp:receipts' id='m0'/>"
    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "oob": M + "<body>https://h/a.png</body><x xmlns='jabber:x:oob'><url>https://h/a.png</url></x></message>",
    "carbon": f"<message xmlns='{C}' from='me@a.example' to='me@a.example/koine'><sent xmlns='urn:xmpp:carbons:2'>"
    "<forwarded xmlns='urn:xmpp:forward:0'>" + M.replace(f" xmlns='{C}'", f" xmlns='{C}'") + "<body>x</body></message>"
    "</forwarded></sent></message>",
    "mam": f"<message xmlns='{C}' to='me@a.example/koine'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='a1'>"
    "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>"
    + M + "<body>old</body></message></forwarded></result></message>",
    "groupchat": f"<message xmlns='{C}' from='room@conf.a.example/alice' type='groupchat' id='g1'>"
    "<body>hello room</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ1'/>"
    "<stanza-id xmlns='urn:xmpp:sid:0' by='room@conf.a.example' id='gs1'/></message>",
    "omemo": M + "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='42'>"
    "<key rid='7' prekey='true'>AAEC</key><iv>AAECAwQFBgcICQoL</iv></header><payload>AAEC</payload></encrypted>"
    "<store xmlns='urn:xmpp:hints'/></message>",
    "devicelist": f"<message xmlns='{C}' from='bob@b.example'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
    "<items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'>"
    "<list xmlns='eu.siacs.conversations.axolotl'><device id='1'/><device id='4294967295'/></list></item></items></event></message>",
    "bundle": "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='eu.siacs.conversations.axolotl.bundles:7'>"
    "<item><bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>BQAB</signedPreKeyPublic>"
    "<signedPreKeySignature>AAEC</signedPreKeySignature><identityKey>BQAB</identityKey>"
    "<prekeys><preKeyPublic preKeyId='1'>BQAB</preKeyPublic></prekeys></bundle></item></items></pubsub>",
    "roster": "<query xmlns='jabber:iq:roster' ver='1'><item jid='bob@b.example' name='Bob' subscription='both'>"
    "<group>Friends</group></item><item jid='c@c.example' subscription='none' ask='subscribe'/></query>",
    "vcard4": "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:vcard4'><item>"
    "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Bob</text></fn><nickname><text>bobby</text></nickname>"
    "<tel><uri>tel:+33612345678</uri></tel></vcard></item></items></pubsub>",
    "vcardtemp": "<vCard xmlns='vcard-temp'><FN>Bob</FN><NICKNAME>b</NICKNAME><TEL><NUMBER>+1 555</NUMBER></TEL></vCard>",
    "disco": "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='gateway' type='sms' name='SMS'/>"
    "<feature var='urn:xmpp:blocking'/><feature var='urn:xmpp:reporting:1'/></query>",
}
for k, v in stanzas.items():
    put("xmpp_stanza", k, v)

for i, t in enumerate([
    "mxc://a.example/abcDEF_-09",
    "mxc://[::1]:8448/media",
    "mxc://127.0.0.1:80/x",
    "mxc://" + "a" * 250 + "/x",
    '{"url":"mxc://a.example/enc","key":{"kty":"oct","key_ops":["encrypt","decrypt"],"alg":"A256CTR","k":"AAAA","ext":true},"iv":"AAAAAAAAAAAAAAAAAAAAAA","hashes":{"sha256":"AAAA"},"v":"v2"}',
    "../../etc/passwd",
]):
    put("matrix_mxc", str(i), t)

put("matrix_sso", "0", "GET /koine/sign-in/00?loginToken=abc%20d&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
put("matrix_sso", "1", "POST /koine/sign-in/00 HTTP/1.1\r\n\r\n")


def ev(content, ty="m.room.message", sender="@bob:b.example", **extra):
    e = {"type": ty, "event_id": "$e1", "sender": sender, "origin_server_ts": 1700000000000,
         "content": content, "room_id": "!r:a.example"}
    e.update(extra)
    return json.dumps(e)


events = {
    "text": ev({"msgtype": "m.text", "body": "hi", "format": "org.matrix.custom.html", "formatted_body": "<b>hi</b>"}),
    "own": ev({"msgtype": "m.text", "body": "mine"}, sender="@alice:a.example", unsigned={"transaction_id": "local-7"}),
    "image": ev({"msgtype": "m.image", "body": "a.png", "url": "mxc://a.example/img",
                 "info": {"mimetype": "image/png", "size": 123}}),
    "file": ev({"msgtype": "m.file", "body": "doc.pdf", "file": {
        "url": "mxc://a.example/enc", "key": {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": "A256CTR",
                                              "k": "AAAA", "ext": True},
        "iv": "AAAAAAAAAAAAAAAAAAAAAA", "hashes": {"sha256": "AAAA"}, "v": "v2"}}),
    "edit": ev({"msgtype": "m.text", "body": "* new", "m.new_content": {"msgtype": "m.text", "body": "new"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$e0"}}),
    "reply": ev({"msgtype": "m.text", "body": "re", "m.relates_to": {"m.in_reply_to": {"event_id": "$e0"}}}),
    "reaction": ev({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e0", "key": "+1"}}, ty="m.reaction"),
    "redaction": ev({"redacts": "$e0", "reason": "oops"}, ty="m.room.redaction", redacts="$e0"),
    "notice": ev({"msgtype": "m.notice", "body": "bot"}),
    "emote": ev({"msgtype": "m.emote", "body": "waves"}),
    "location": ev({"msgtype": "m.location", "body": "here", "geo_uri": "geo:1,2"}),
}
for k, v in events.items():
    put("matrix_timeline", k, v)


def frame(body):
    return struct.pack(">I", len(body)) + body


stanza = b"<message id='m1' to='koine:b' type='msg' ts='1'>AAAA</message>"
put("gatekeeper_frame", "0", b"\x05" + frame(stanza))
put("gatekeeper_frame", "1", frame(b"<iq id='1' type='get'><count/></iq>") + frame(b"<presence/>"))
put("gatekeeper_frame", "2", frame(b"<auth id='a1' user='alice' token='t'/>"))
put("gatekeeper_noise", "0", b"\x01" + struct.pack(">H", len(frame(stanza))) + frame(stanza))
put("gatekeeper_noise", "1", b"\x00\x00\x10" + b"\x00" * 16 + b"\x01\x00\x02\x00\x00")
put("gatekeeper_http", "0", "POST /v1/keys/alice%40x?to=b%2Bc&n=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer tok\r\n"
    "Content-Length: 11\r\n\r\na=b%20c&d=e")
put("gatekeeper_http", "1", "GET /v1/media/abc HTTP/1.0\r\n\r\n")
put("gatekeeper_http", "2", "https://gk.example:8443/v1/x?y=z")


def pb_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_bytes(field, data):
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


media = pb_bytes(1, b"http://127.0.0.1:1/v1/media/x") + pb_bytes(2, b"k" * 32) + pb_bytes(8, b"a.png")
put("gatekeeper_proto", "0", pb_bytes(1, b"hello") + pb_bytes(2, media) + pb_bytes(3, b"m-1"))

packets = [
    {"id": 1, "type": "kdeconnect.identity", "body": {"deviceId": "phone_1", "deviceName": "Phone",
                                                      "deviceType": "phone", "protocolVersion": 7,
                                                      "incomingCapabilities": ["kdeconnect.sms.request"],
                                                      "outgoingCapabilities": ["kdeconnect.sms.messages"]}},
    {"id": "2", "type": "kdeconnect.pair", "body": {"pair": True, "timestamp": 1700000000}},
    {"id": 3, "type": "kdeconnect.sms.messages", "body": {"messages": [
        {"event": 1, "body": "hi", "addresses": [{"address": "+33612345678"}], "date": 1700000000000,
         "type": 1, "read": 0, "thread_id": 5, "_id": 9, "sub_id": 1,
         "attachments": [{"part_id": 1, "mime_type": "image/png", "unique_identifier": "a.png"}]}],
        "version": 2}},
    {"id": 4, "type": "kdeconnect.sms.attachment_file", "body": {"filename": "a.png"},
     "payloadSize": 10, "payloadTransferInfo": {"port": 1739}},
]
put("kdeconnect_packet", "0", "\n".join(json.dumps(p) for p in packets) + "\n")

put("smsgate_http", "0", "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Signature: ab\r\nX-Timestamp: 1700000000\r\n"
    "Content-Length: 2\r\n\r\n{}")
put("smsgate_http", "1", "POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
put("smsgate_http", "2", "http://user:pw@127.0.0.1:8080/api/3rdparty/v1")
put("smsgate_json", "0", json.dumps({"id": "w1", "webhookId": "h1", "deviceId": "d1", "event": "sms:received",
                                     "payload": {"messageId": "x", "message": "hi", "phoneNumber": "+33612345678",
                                                 "simNumber": 1, "receivedAt": "2026-01-02T03:04:05Z"}}))
put("smsgate_json", "1", json.dumps({"id": "w2", "webhookId": "h1", "deviceId": "d1", "event": "sms:delivered",
                                     "payload": {"messageId": "x", "phoneNumber": "+33612345678",
                                                 "deliveredAt": "2026-01-02T03:04:05Z"}}))
put("smsgate_json", "2", json.dumps({"id": "x", "state": "Pending", "recipients": [
    {"phoneNumber": "+33612345678", "state": "Sent"}]}))
put("smsgate_json", "3", json.dumps([{"id": "h1", "url": "http://127.0.0.1/webhook", "event": "sms:received"}]))

put("core_vcard", "0", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bob \\, Jr.\r\nN:Jr;Bob;;;\r\nTEL;TYPE=cell:+33 6 12 34 56 78\r\n"
    "IMPP:xmpp:bob@b.example\r\nIMPP:matrix:u/bob:b.example\r\nNOTE:long\r\n  folded line\r\nEND:VCARD\r\n")
put("core_vcard", "1", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nitem1.TEL:555\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n")
