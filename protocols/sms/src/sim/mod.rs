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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::broadcast;

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

    /// Carries an SMS/MMS from `from` to each of `to` (E.164). Returns the
    /// recipients it reached.
    fn carry(&self, from: &str, to: &[String], body: &str, parts: &[Part]) -> Vec<String> {
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
