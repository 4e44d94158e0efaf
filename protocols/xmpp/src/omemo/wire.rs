//! OMEMO's legacy wire format (`eu.siacs.conversations.axolotl`): the device
//! list and bundle PEP items, the publish and fetch queries, and the
//! `<encrypted/>` element. Pure XML, no I/O.
//!
//! Readers tell "not mine" (`None`) from "mine but malformed" (`Err`).

use crate::pep::At;
pub use crate::pep::{PUBSUB, PUBSUB_EVENT, fetch, fetched, first_item, subscribe};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use koine_e2ee::{OneTimePreKey, PreKeyBundle, SignedPreKey};
use tokio_xmpp::minidom::Element;

/// The legacy OMEMO namespace.
pub const NS: &str = "eu.siacs.conversations.axolotl";
/// The device list's PEP node.
pub const DEVICELIST_NODE: &str = "eu.siacs.conversations.axolotl.devicelist";
/// The device list's PEP notifications (XEP-0163 `+notify`).
pub const NOTIFY: &str = "eu.siacs.conversations.axolotl.devicelist+notify";
/// XEP-0380.
pub const EME: &str = "urn:xmpp:eme:0";
/// What a client without OMEMO shows instead of the message.
pub const FALLBACK_BODY: &str =
    "I sent you an OMEMO encrypted message but your client doesn’t seem to support that.";

/// The bundle node of a device.
pub fn bundle_node(device: u32) -> String {
    format!("eu.siacs.conversations.axolotl.bundles:{device}")
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(what: &str, text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(clean).map_err(|e| format!("{what}: {e}"))
}

fn u32_attr(el: &Element, name: &str) -> Result<u32, String> {
    el.attr(name)
        .ok_or_else(|| format!("{} without {name}", el.name()))?
        .parse()
        .map_err(|e| format!("{} {name}: {e}", el.name()))
}

/// `<list><device id=../></list>`.
pub fn device_list(devices: &[u32]) -> Element {
    let mut list = Element::builder("list", NS);
    for d in devices {
        list = list.append(Element::builder("device", NS).at("id", d.to_string()));
    }
    list.build()
}

/// Reads a `<list/>`. Devices with an unreadable id are skipped.
pub fn read_device_list(el: &Element) -> Option<Vec<u32>> {
    if !el.is("list", NS) {
        return None;
    }
    let mut out: Vec<u32> = el
        .children()
        .filter(|c| c.is("device", NS))
        .filter_map(|c| c.attr("id")?.parse().ok())
        .filter(|d| *d != 0)
        .collect();
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// `<bundle/>` of a device.
pub fn bundle(identity_key: &[u8], spk: &SignedPreKey, prekeys: &[OneTimePreKey]) -> Element {
    let mut pre = Element::builder("prekeys", NS);
    for k in prekeys {
        pre = pre.append(
            Element::builder("preKeyPublic", NS)
                .at("preKeyId", k.id.to_string())
                .append(b64(&k.public_key)),
        );
    }
    Element::builder("bundle", NS)
        .append(
            Element::builder("signedPreKeyPublic", NS)
                .at("signedPreKeyId", spk.id.to_string())
                .append(b64(&spk.public_key)),
        )
        .append(Element::builder("signedPreKeySignature", NS).append(b64(&spk.signature)))
        .append(Element::builder("identityKey", NS).append(b64(identity_key)))
        .append(pre)
        .build()
}

/// A peer's published bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Identity key (33 bytes).
    pub identity_key: Vec<u8>,
    /// The signed prekey.
    pub signed_pre_key: SignedPreKey,
    /// The one-time prekeys.
    pub prekeys: Vec<OneTimePreKey>,
}

impl Bundle {
    /// A bundle for starting a session with `device`, with one of the
    /// one-time prekeys picked at random (as OMEMO asks).
    pub fn for_session(&self, device: u32) -> PreKeyBundle {
        let one = if self.prekeys.is_empty() {
            None
        } else {
            let i = rand::random_range(0..self.prekeys.len());
            self.prekeys.get(i).cloned()
        };
        PreKeyBundle {
            identity_key: self.identity_key.clone(),
            registration_id: 0,
            device_id: device,
            signed_pre_key: self.signed_pre_key.clone(),
            one_time_pre_key: one,
        }
    }
}

/// Reads a `<bundle/>`.
pub fn read_bundle(el: &Element) -> Option<Result<Bundle, String>> {
    if !el.is("bundle", NS) {
        return None;
    }
    Some((|| {
        let child = |name: &str| {
            el.get_child(name, NS)
                .ok_or_else(|| format!("bundle without {name}"))
        };
        let spk = child("signedPreKeyPublic")?;
        let signed_pre_key = SignedPreKey {
            id: u32_attr(spk, "signedPreKeyId")?,
            public_key: unb64("signed prekey", &spk.text())?,
            signature: unb64("signature", &child("signedPreKeySignature")?.text())?,
        };
        let identity_key = unb64("identity key", &child("identityKey")?.text())?;
        let mut prekeys = Vec::new();
        if let Some(p) = el.get_child("prekeys", NS) {
            for k in p.children().filter(|c| c.is("preKeyPublic", NS)) {
                if let (Ok(id), Ok(public_key)) =
                    (u32_attr(k, "preKeyId"), unb64("prekey", &k.text()))
                {
                    prekeys.push(OneTimePreKey { id, public_key });
                }
            }
        }
        Ok(Bundle {
            identity_key,
            signed_pre_key,
            prekeys,
        })
    })())
}

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", "jabber:x:data")
        .at("var", var)
        .append(Element::builder("value", "jabber:x:data").append(value))
        .build()
}

/// `<pubsub><publish node=..><item id='current'>..</item></publish>` with
/// publish-options (open access, persisted) when `options` is set.
pub fn publish(node: &str, payload: Element, options: bool) -> Element {
    let mut pubsub = Element::builder("pubsub", PUBSUB).append(
        Element::builder("publish", PUBSUB).at("node", node).append(
            Element::builder("item", PUBSUB)
                .at("id", "current")
                .append(payload),
        ),
    );
    if options {
        let form = Element::builder("x", "jabber:x:data")
            .at("type", "submit")
            .append(field(
                "FORM_TYPE",
                "http://jabber.org/protocol/pubsub#publish-options",
            ))
            .append(field("pubsub#persist_items", "true"))
            .append(field("pubsub#access_model", "open"))
            .build();
        pubsub = pubsub.append(Element::builder("publish-options", PUBSUB).append(form));
    }
    pubsub.build()
}

/// A device list announced by a PEP event message: `(node payload)`.
pub fn event_device_list(payloads: &[Element]) -> Option<Vec<u32>> {
    let ev = payloads.iter().find(|p| p.is("event", PUBSUB_EVENT))?;
    let items = ev
        .get_child("items", PUBSUB_EVENT)
        .filter(|i| i.attr("node") == Some(DEVICELIST_NODE))?;
    match first_item(items, PUBSUB_EVENT) {
        Some(list) => read_device_list(list),
        None => Some(Vec::new()),
    }
}

/// One `<key/>` of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The recipient device.
    pub rid: u32,
    /// A PreKeySignalMessage (starts a session).
    pub prekey: bool,
    /// The Signal message.
    pub data: Vec<u8>,
}

/// An `<encrypted/>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The sending device.
    pub sid: u32,
    /// One key per recipient device.
    pub keys: Vec<Key>,
    /// The payload's IV.
    pub iv: Vec<u8>,
    /// The AES-GCM ciphertext of the body (without its tag); `None` for a
    /// key transport message (session setup, no content).
    pub payload: Option<Vec<u8>>,
}

/// Builds `<encrypted/>`.
pub fn encrypted(e: &Encrypted) -> Element {
    let mut header = Element::builder("header", NS).at("sid", e.sid.to_string());
    for k in &e.keys {
        let mut key = Element::builder("key", NS).at("rid", k.rid.to_string());
        if k.prekey {
            key = key.at("prekey", "true");
        }
        header = header.append(key.append(b64(&k.data)));
    }
    header = header.append(Element::builder("iv", NS).append(b64(&e.iv)));
    let mut out = Element::builder("encrypted", NS).append(header);
    if let Some(p) = &e.payload {
        out = out.append(Element::builder("payload", NS).append(b64(p)));
    }
    out.build()
}

/// Reads the `<encrypted/>` among a message's payloads.
pub fn read_encrypted(payloads: &[Element]) -> Option<Result<Encrypted, String>> {
    let el = payloads.iter().find(|p| p.is("encrypted", NS))?;
    Some((|| {
        let header = el
            .get_child("header", NS)
            .ok_or("encrypted without header")?;
        let sid = u32_attr(header, "sid")?;
        let iv = unb64(
            "iv",
            &header
                .get_child("iv", NS)
                .ok_or("header without iv")?
                .text(),
        )?;
        let mut keys = Vec::new();
        for k in header.children().filter(|c| c.is("key", NS)) {
            keys.push(Key {
                rid: u32_attr(k, "rid")?,
                prekey: matches!(k.attr("prekey"), Some("true") | Some("1")),
                data: unb64("key", &k.text())?,
            });
        }
        let payload = match el.get_child("payload", NS) {
            Some(p) => Some(unb64("payload", &p.text())?),
            None => None,
        };
        Ok(Encrypted {
            sid,
            keys,
            iv,
            payload,
        })
    })())
}

/// `<encryption xmlns='urn:xmpp:eme:0'/>` naming legacy OMEMO.
pub fn eme() -> Element {
    Element::builder("encryption", EME)
        .at("namespace", NS)
        .at("name", "OMEMO")
        .build()
}

/// `<store xmlns='urn:xmpp:hints'/>`.
pub fn store_hint() -> Element {
    Element::builder("store", crate::ns::HINTS).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_list_round_trip_and_foreign_elements() {
        let el = device_list(&[7, 3]);
        assert_eq!(read_device_list(&el), Some(vec![3, 7]));
        let other = Element::builder("list", "urn:other").build();
        assert_eq!(read_device_list(&other), None);
    }

    #[test]
    fn bundle_round_trip_and_malformed() {
        let spk = SignedPreKey {
            id: 2,
            public_key: vec![5; 33],
            signature: vec![9; 64],
        };
        let pk = [OneTimePreKey {
            id: 11,
            public_key: vec![5; 33],
        }];
        let b = read_bundle(&bundle(&[5; 33], &spk, &pk))
            .expect("ours")
            .expect("valid");
        assert_eq!(b.signed_pre_key, spk);
        assert_eq!(b.prekeys, pk);
        assert_eq!(b.for_session(4).one_time_pre_key.map(|k| k.id), Some(11));
        let bad: Element =
            "<bundle xmlns='eu.siacs.conversations.axolotl'><identityKey>!!</identityKey></bundle>"
                .parse()
                .expect("xml");
        assert!(matches!(read_bundle(&bad), Some(Err(_))));
    }

    #[test]
    fn encrypted_round_trip_reads_prekey_flags() {
        let e = Encrypted {
            sid: 42,
            keys: vec![
                Key {
                    rid: 1,
                    prekey: true,
                    data: vec![1, 2],
                },
                Key {
                    rid: 2,
                    prekey: false,
                    data: vec![3],
                },
            ],
            iv: vec![0; 12],
            payload: Some(vec![4, 5]),
        };
        let el = encrypted(&e);
        assert_eq!(read_encrypted(&[el]).expect("ours").expect("valid"), e);
        let no_sid: Element = "<encrypted xmlns='eu.siacs.conversations.axolotl'><header><iv>AA==</iv></header></encrypted>"
            .parse()
            .expect("xml");
        assert!(matches!(read_encrypted(&[no_sid]), Some(Err(_))));
    }
}
