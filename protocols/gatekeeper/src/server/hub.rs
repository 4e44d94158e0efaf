//! Who is connected, session tokens for the HTTP listeners, and rate limits.

use crate::wire::{Peer, Stanza};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::mpsc;

/// What the hub tells a connection.
#[derive(Debug)]
pub enum Push {
    /// New items are queued for you.
    Wake,
    /// Write this stanza now (chat states, notices); never stored.
    Ephemeral(Stanza),
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

type Connections = HashMap<String, Vec<(u64, mpsc::UnboundedSender<Push>)>>;

/// Shared state of the running server.
pub struct Hub {
    conns: Mutex<Connections>,
    sessions: Mutex<HashMap<String, String>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    next: Mutex<u64>,
    /// Messages per second per sender.
    pub rate: f64,
    /// Burst size.
    pub burst: f64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Hub {
    /// A hub with the given message rate limit.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            conns: Mutex::default(),
            sessions: Mutex::default(),
            buckets: Mutex::default(),
            next: Mutex::new(1),
            rate,
            burst,
        }
    }

    /// Registers a connection; returns its id and the session token.
    pub fn register(&self, who: &Peer, tx: mpsc::UnboundedSender<Push>) -> (u64, String) {
        let id = {
            let mut n = lock(&self.next);
            *n = n.wrapping_add(1);
            *n
        };
        lock(&self.conns)
            .entry(who.to_string())
            .or_default()
            .push((id, tx));
        let token = hex::encode(rand::random::<[u8; 24]>());
        lock(&self.sessions).insert(token.clone(), who.to_string());
        (id, token)
    }

    /// Removes a connection and its session token.
    pub fn unregister(&self, who: &Peer, id: u64, token: &str) {
        if let Some(v) = lock(&self.conns).get_mut(&who.to_string()) {
            v.retain(|(i, _)| *i != id);
        }
        lock(&self.sessions).remove(token);
    }

    /// The account of a live session token.
    pub fn session_owner(&self, token: &str) -> Option<String> {
        lock(&self.sessions).get(token).cloned()
    }

    /// Tells every connection of `who`.
    pub fn push(&self, who: &Peer, make: impl Fn() -> Push) {
        if let Some(v) = lock(&self.conns).get(&who.to_string()) {
            for (_, tx) in v {
                let _ = tx.send(make());
            }
        }
    }

    /// Takes one token from `key`'s bucket; `Err(retry_after_ms)` when empty.
    pub fn take(&self, key: &str, rate: f64, burst: f64) -> Result<(), u64> {
        let mut b = lock(&self.buckets);
        let now = Instant::now();
        let bucket = b.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / rate * 1000.0).ceil();
            Err(wait.max(1.0) as u64)
        }
    }
}
