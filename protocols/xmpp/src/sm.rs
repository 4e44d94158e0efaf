//! XEP-0198 stream management, with state that survives a restart.
//!
//! tokio-xmpp keeps resumption state in memory only. Here the counters, the
//! resumable stream id and every stanza the server has not acknowledged yet
//! are written to `stream-management.json` in the data directory, so a new
//! process resumes the server's hibernated session: nothing the server queued
//! for us is lost, and nothing we sent is sent twice.
//!
//! Inbound counting: `received` counts stanzas read; `inbound` counts those
//! *fully handled*: a message counts only once the engine has stored it (see
//! `handoff`). Only `inbound` is acknowledged and persisted, so a crash can
//! make the server resend a stanza (the engine de-duplicates) but never drop
//! one.

use koine_api::LocalId;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A stanza sent but not yet acknowledged by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unacked {
    /// Its sequence number in this stream (1-based).
    pub seq: u32,
    /// The stanza as XML.
    pub xml: String,
    /// The durable command it carries, if any.
    pub local_id: Option<LocalId>,
    /// The domain it is addressed to (for the route of its acknowledgement).
    #[serde(default)]
    pub to_domain: Option<String>,
}

/// Stream-management state of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmState {
    /// The resumable stream id, when the server granted resumption.
    pub id: Option<String>,
    /// The full JID the stream is bound to.
    pub bound_jid: Option<String>,
    /// Stanzas received and handled: their events are stored by the engine.
    /// This is the `h` we acknowledge and resume with.
    pub inbound: u32,
    /// Stanzas received on this stream, handled or not.
    #[serde(skip)]
    pub received: u32,
    /// Stanzas sent on this stream.
    pub sent: u32,
    /// Sent stanzas the server has not acknowledged, oldest first.
    pub unacked: VecDeque<Unacked>,
}

impl SmState {
    /// The file name in the data directory.
    pub const FILE: &'static str = "stream-management.json";

    /// Records a sent stanza; returns its sequence number.
    pub fn record_sent(
        &mut self,
        xml: String,
        local_id: Option<LocalId>,
        to_domain: Option<String>,
    ) -> u32 {
        self.sent = self.sent.wrapping_add(1);
        self.unacked.push_back(Unacked {
            seq: self.sent,
            xml,
            local_id,
            to_domain,
        });
        self.sent
    }

    /// Applies an acknowledgement `h`; returns the stanzas it covers.
    pub fn acknowledge(&mut self, h: u32) -> Vec<Unacked> {
        let mut done = Vec::new();
        while let Some(front) = self.unacked.front() {
            // Sequence numbers wrap at 2^32; compare by distance.
            if h.wrapping_sub(front.seq) < u32::MAX / 2 {
                if let Some(u) = self.unacked.pop_front() {
                    done.push(u);
                }
            } else {
                break;
            }
        }
        done
    }

    /// Starts a fresh stream (after bind + enable): counters from zero, the
    /// unacknowledged stanzas kept for resending.
    pub fn restart(&mut self, id: Option<String>, bound_jid: String) -> Vec<Unacked> {
        self.id = id;
        self.bound_jid = Some(bound_jid);
        self.inbound = 0;
        self.received = 0;
        self.sent = 0;
        self.unacked.drain(..).collect()
    }

    /// After `<resumed h=…/>`: drops what the server got, returns the rest to
    /// resend (the sequence continues from `h`).
    pub fn resumed(&mut self, h: u32) -> Vec<Unacked> {
        let _ = self.acknowledge(h);
        self.sent = h;
        self.received = self.inbound;
        self.unacked.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_release_in_order_and_resume_resends_the_rest() {
        let mut s = SmState::default();
        for i in 0..5 {
            s.record_sent(
                format!("<m{i}/>"),
                Some(LocalId::new(format!("l{i}"))),
                None,
            );
        }
        let acked = s.acknowledge(2);
        assert_eq!(acked.len(), 2);
        assert_eq!(acked[1].local_id, Some(LocalId::new("l1")));
        assert_eq!(s.acknowledge(2).len(), 0, "a repeated ack releases nothing");
        let rest = s.resumed(3);
        assert_eq!(
            rest.iter().map(|u| u.xml.as_str()).collect::<Vec<_>>(),
            ["<m3/>", "<m4/>"]
        );
        assert_eq!(s.sent, 3);
        assert!(s.unacked.is_empty());
    }

    #[test]
    fn state_survives_serialisation() {
        let mut s = SmState {
            id: Some("abc".into()),
            inbound: 7,
            ..Default::default()
        };
        s.record_sent("<message/>".into(), None, Some("x.org".into()));
        let json = serde_json::to_string(&s).expect("json");
        let back: SmState = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, s);
    }
}
