//! The simulated phone: a protocol-faithful stand-in for an Android phone,
//! used by the tests and by the `koine-phone-sim` binary (and later a demo
//! mode).
//!
//! A [`Carrier`] connects any number of [`Phone`]s by number. Each phone
//! keeps threads and messages like Android's SMS store, sends through the
//! carrier (which reports delivery), receives, and can be told to inject
//! incoming SMS and MMS. A phone is reached through one backend: the KDE
//! Connect phone side ([`kdeconnect`]) or the SMSGate local API
//! ([`smsgate`]).

pub mod kdeconnect;
pub mod smsgate;
mod store;

pub use store::{Part, Store};

use crate::kdeconnect::sms::{SmsMessage, message_type};
use koine_api::TlsVersion;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::broadcast;

/// How a link between a phone and a desktop was protected, as the phone
/// negotiated it. Ordered from the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkSecurity {
    /// Plain HTTP.
    Plaintext,
    /// TLS of this version.
    Tls(TlsVersion),
}

/// What crossed a phone's links with desktops (packets, requests, webhook
/// calls, either way), so that a test can ask which links carried a text.
/// The oldest entries go beyond [`WireLog::LIMIT`] bytes.
#[derive(Debug, Default)]
pub struct WireLog {
    entries: Mutex<Entries>,
}

/// The log's entries, oldest first, and their total size in bytes.
#[derive(Debug, Default)]
struct Entries {
    list: VecDeque<(LinkSecurity, Vec<u8>)>,
    bytes: usize,
}

impl WireLog {
    /// How many bytes the log keeps.
    pub const LIMIT: usize = 16 * 1024 * 1024;

    /// Notes `bytes` crossing a link protected by `link`.
    pub fn record(&self, link: LinkSecurity, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Ok(mut e) = self.entries.lock() {
            e.bytes = e.bytes.saturating_add(bytes.len());
            e.list.push_back((link, bytes.to_vec()));
            while e.bytes > Self::LIMIT {
                match e.list.pop_front() {
                    Some((_, old)) => e.bytes = e.bytes.saturating_sub(old.len()),
                    None => break,
                }
            }
        }
    }

    /// The links that carried `text`, weakest first.
    pub fn links_carrying(&self, text: &str) -> BTreeSet<LinkSecurity> {
        let needle = text.as_bytes();
        if needle.is_empty() {
            return BTreeSet::new();
        }
        self.entries
            .lock()
            .map(|e| {
                e.list
                    .iter()
                    .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
                    .map(|(link, _)| *link)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Something that happened on a phone, for the backend to report.
#[derive(Debug, Clone)]
pub enum PhoneEvent {
    /// A message was added or changed (new incoming, sent, failed...).
    Message(SmsMessage),
    /// The carrier reported delivery of a sent message to a recipient.
    Delivered {
        /// The message's id in the store.
        uid: i64,
        /// The recipient (E.164).
        to: String,
    },
}

/// Settings of one simulated phone.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// The phone's own number, E.164.
    pub number: String,
    /// The region its national numbers belong to.
    pub region: String,
    /// The name the phone announces.
    pub device_name: String,
    /// Seconds added to the phone's clock (to simulate a skewed phone).
    pub clock_skew_secs: i64,
}

/// The mobile network joining the simulated phones.
#[derive(Default)]
pub struct Carrier {
    phones: Mutex<HashMap<String, Weak<Phone>>>,
    auto_answer: Mutex<bool>,
    carried: Mutex<Vec<String>>,
}

impl Carrier {
    /// A carrier with no phones.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// When on, a number that belongs to no simulated phone answers every
    /// SMS with `Re: <text>` (a stand-in for a person who writes back).
    pub fn set_auto_answer(&self, on: bool) {
        if let Ok(mut a) = self.auto_answer.lock() {
            *a = on;
        }
    }

    fn register(&self, phone: &Arc<Phone>) {
        if let Ok(mut p) = self.phones.lock() {
            p.insert(phone.config.number.clone(), Arc::downgrade(phone));
        }
    }

    fn phone(&self, number: &str) -> Option<Arc<Phone>> {
        self.phones.lock().ok()?.get(number)?.upgrade()
    }

    /// Whether the carrier carried a message holding `text`: it sees every
    /// SMS and MMS in the clear.
    pub fn carried(&self, text: &str) -> bool {
        !text.is_empty()
            && self
                .carried
                .lock()
                .is_ok_and(|c| c.iter().any(|body| body.contains(text)))
    }

    /// Carries an SMS/MMS from `from` to each of `to` (E.164). Returns the
    /// recipients it reached.
    fn carry(&self, from: &str, to: &[String], body: &str, parts: &[Part]) -> Vec<String> {
        if let Ok(mut c) = self.carried.lock() {
            c.push(body.to_owned());
        }
        let mut reached = Vec::new();
        let auto = self.auto_answer.lock().map(|a| *a).unwrap_or(false);
        for number in to {
            // A group message reaches each recipient with the other members
            // as co-recipients.
            let mut others: Vec<String> = to.iter().filter(|n| *n != number).cloned().collect();
            others.insert(0, from.to_owned());
            if let Some(phone) = self.phone(number) {
                phone.receive(&others, body, parts);
                reached.push(number.clone());
            } else if auto && let Some(sender) = self.phone(from) {
                let answer = format!("Re: {body}");
                let number = number.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    sender.receive(&[number], &answer, &[]);
                });
            }
        }
        reached
    }
}

/// One simulated phone.
pub struct Phone {
    /// Its settings.
    pub config: PhoneConfig,
    store: Mutex<Store>,
    events: broadcast::Sender<PhoneEvent>,
    carrier: Arc<Carrier>,
}

impl Phone {
    /// A phone on `carrier`.
    pub fn new(config: PhoneConfig, carrier: &Arc<Carrier>) -> Arc<Self> {
        let (events, _) = broadcast::channel(1024);
        let phone = Arc::new(Self {
            store: Mutex::new(Store::new(&config.region)),
            config,
            events,
            carrier: carrier.clone(),
        });
        carrier.register(&phone);
        phone
    }

    /// The phone's clock, in milliseconds (skew included).
    pub fn now_ms(&self) -> i64 {
        koine_api::Timestamp::now()
            .0
            .saturating_add(self.config.clock_skew_secs.saturating_mul(1000))
    }

    /// Subscribes to what happens on the phone.
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneEvent> {
        self.events.subscribe()
    }

    /// Runs `f` on the store.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> Option<T> {
        self.store.lock().ok().map(|mut s| f(&mut s))
    }

    /// A message arrives from the network (or is injected): `addresses` are
    /// the thread's other members, the sender first.
    pub fn receive(&self, addresses: &[String], body: &str, parts: &[Part]) -> Option<SmsMessage> {
        let now = self.now_ms();
        let msg =
            self.with_store(|s| s.add(addresses, body, message_type::INBOX, now, -1, parts))?;
        let _ = self.events.send(PhoneEvent::Message(msg.clone()));
        Some(msg)
    }

    /// Injects an incoming SMS from `from`, as if the network delivered it.
    pub fn inject_sms(&self, from: &str, body: &str) -> Option<SmsMessage> {
        self.receive(&[from.to_owned()], body, &[])
    }

    /// Injects an incoming MMS with one file.
    pub fn inject_mms(&self, from: &str, body: &str, part: Part) -> Option<SmsMessage> {
        self.receive(&[from.to_owned()], body, &[part])
    }

    /// Sends a message to `to` (numbers as given; normalised with the
    /// phone's region) through the carrier: outbox, then sent, then the
    /// carrier's delivery reports. Returns the message as first stored.
    pub fn send(
        &self,
        to: &[String],
        body: &str,
        sub_id: i64,
        parts: &[Part],
    ) -> Option<SmsMessage> {
        self.send_with(to, body, sub_id, parts, |_| {})
    }

    /// Like [`Phone::send`], calling `stored` with the new message before
    /// anything about it is reported.
    pub fn send_with(
        &self,
        to: &[String],
        body: &str,
        sub_id: i64,
        parts: &[Part],
        stored: impl FnOnce(&SmsMessage),
    ) -> Option<SmsMessage> {
        let now = self.now_ms();
        let normalized: Vec<String> = to
            .iter()
            .map(|n| {
                crate::phone::normalize(n, &self.config.region)
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|_| n.clone())
            })
            .collect();
        let msg = self
            .with_store(|s| s.add(&normalized, body, message_type::OUTBOX, now, sub_id, parts))?;
        stored(&msg);
        let _ = self.events.send(PhoneEvent::Message(msg.clone()));
        let valid = !normalized.is_empty()
            && normalized
                .iter()
                .all(|n| koine_api::PhoneNumber::parse(n).is_ok());
        let final_type = if valid {
            message_type::SENT
        } else {
            message_type::FAILED
        };
        if let Some(updated) = self
            .with_store(|s| s.set_type(msg.uid, final_type))
            .flatten()
        {
            let _ = self.events.send(PhoneEvent::Message(updated));
        }
        if valid {
            for to in self
                .carrier
                .carry(&self.config.number, &normalized, body, parts)
            {
                let _ = self.events.send(PhoneEvent::Delivered { uid: msg.uid, to });
            }
        }
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_log_names_every_link_that_carried_a_text_weakest_first() {
        let log = WireLog::default();
        log.record(
            LinkSecurity::Tls(TlsVersion::Tls13),
            b"{\"body\":\"hello there\"}",
        );
        log.record(LinkSecurity::Plaintext, b"POST / hello there");
        log.record(LinkSecurity::Tls(TlsVersion::Tls12), b"something else");
        assert_eq!(
            log.links_carrying("hello there")
                .into_iter()
                .collect::<Vec<_>>(),
            [
                LinkSecurity::Plaintext,
                LinkSecurity::Tls(TlsVersion::Tls13)
            ]
        );
        assert!(log.links_carrying("nowhere").is_empty());
        assert!(log.links_carrying("").is_empty());
    }

    #[test]
    fn the_wire_log_forgets_the_oldest_beyond_its_limit() {
        let log = WireLog::default();
        log.record(LinkSecurity::Plaintext, b"the first words");
        let filler = vec![b'x'; WireLog::LIMIT];
        log.record(LinkSecurity::Tls(TlsVersion::Tls13), &filler);
        assert!(log.links_carrying("the first words").is_empty());
        log.record(LinkSecurity::Plaintext, b"the last words");
        assert_eq!(log.links_carrying("the last words").len(), 1);
    }

    #[tokio::test]
    async fn the_carrier_remembers_what_it_carried_in_the_clear() {
        let carrier = Carrier::new();
        let config = |number: &str| PhoneConfig {
            number: number.into(),
            region: "FR".into(),
            device_name: "phone".into(),
            clock_skew_secs: 0,
        };
        let a = Phone::new(config("+33612345601"), &carrier);
        let _b = Phone::new(config("+33612345602"), &carrier);
        a.send(&["+33612345602".into()], "over the air", -1, &[]);
        assert!(carrier.carried("over the air"));
        assert!(!carrier.carried("never sent"));
    }
}
