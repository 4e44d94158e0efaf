//! Handing events to the engine, and acting only once it stored them.
//!
//! Every event goes through one queue, in order, to a forwarding task that
//! owns the [`EventSink`]. An event that carries a message the server will not
//! deliver again once we acknowledge it is sent with
//! [`EventSink::emit_handled`] and gets a *token*; what depends on it being
//! stored (the stream-management count we acknowledge, the archive position
//! we persist, the delivery receipt to the sender) is queued as an [`Action`]
//! under the last token issued and run by the session once the forwarder
//! reports that token handled. The session's loop never waits for the engine,
//! so it goes on answering the server (and sending) meanwhile.
//!
//! If the engine goes away between receiving and storing, the forwarder stops,
//! the pending actions never run, and the session ends: the server still
//! counts the message as unacknowledged (resumption replays it) and the
//! archive position stays before it (the catch-up replays it).

use koine_api::{EngineGone, Event, EventSink};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_xmpp::jid::Jid as XJid;

/// Something to do once the engine stored the events before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Inbound stanza number `n` (XEP-0198) is fully handled.
    Inbound(u32),
    /// The archive (XEP-0313) position may move to this archive id.
    ArchiveMarker(String),
    /// Send a delivery receipt (XEP-0184) for message `id` to `to`.
    Receipt(XJid, String),
    /// Store the OMEMO sessions advanced by the decryptions so far.
    OmemoCommit,
}

/// The session's end of the event queue.
#[derive(Debug)]
pub struct Handoff {
    tx: mpsc::UnboundedSender<(Event, Option<u64>)>,
    handled: watch::Receiver<u64>,
    issued: u64,
    actions: VecDeque<(u64, Action)>,
    task: JoinHandle<()>,
}

impl Handoff {
    /// Starts the forwarder on `sink`.
    pub fn new(sink: EventSink) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Event, Option<u64>)>();
        let (handled_tx, handled) = watch::channel(0);
        // Events are forwarded as they come, without waiting for each to be
        // stored, so the engine can store many in one transaction; a token
        // is reported once the engine has handled the event that carries it.
        let task = tokio::spawn(async move {
            let mut stored = sink.handled();
            let mut waiting: VecDeque<(u64, u64)> = VecDeque::new();
            let mut open = true;
            // After the session's end, what is in flight may still be stored.
            while open || !waiting.is_empty() {
                tokio::select! {
                    biased;
                    changed = stored.changed(), if !waiting.is_empty() => {
                        if changed.is_err() {
                            break;
                        }
                        let done = *stored.borrow_and_update();
                        let mut last = None;
                        while let Some(&(seq, token)) = waiting.front() {
                            if seq > done {
                                break;
                            }
                            last = Some(token);
                            waiting.pop_front();
                        }
                        if let Some(token) = last {
                            let _ = handled_tx.send(token);
                        }
                    }
                    next = rx.recv(), if open => {
                        let Some((event, token)) = next else {
                            open = false;
                            continue;
                        };
                        let Ok(seq) = sink.emit_tracked(event).await else { break };
                        if let Some(t) = token {
                            waiting.push_back((seq, t));
                        }
                    }
                }
            }
        });
        Self {
            tx,
            handled,
            issued: 0,
            actions: VecDeque::new(),
            task,
        }
    }

    /// Reports an event (no need to wait for it to be stored).
    pub async fn emit(&self, event: Event) -> Result<(), EngineGone> {
        self.tx.send((event, None)).map_err(|_| EngineGone)
    }

    /// Reports an event whose storage later actions depend on.
    pub fn emit_stored(&mut self, event: Event) -> Result<(), EngineGone> {
        // Numbers events of one session: 2^64 is never reached.
        self.issued = self.issued.saturating_add(1);
        self.tx
            .send((event, Some(self.issued)))
            .map_err(|_| EngineGone)
    }

    /// Queues `action` until everything reported so far with
    /// [`Self::emit_stored`] is stored; returns it when it can run at once.
    pub fn after_stored(&mut self, action: Action) -> Option<Action> {
        if self.issued > *self.handled.borrow() {
            self.actions.push_back((self.issued, action));
            None
        } else {
            Some(action)
        }
    }

    /// Waits until the engine stored something more. `Err` when the
    /// forwarder stopped (the engine is gone).
    pub async fn changed(&mut self) -> Result<(), EngineGone> {
        self.handled.changed().await.map_err(|_| EngineGone)
    }

    /// The actions whose events are stored now, in order.
    pub fn ready(&mut self) -> Vec<Action> {
        let done = *self.handled.borrow_and_update();
        let mut out = Vec::new();
        while self.actions.front().is_some_and(|(t, _)| *t <= done) {
            if let Some((_, a)) = self.actions.pop_front() {
                out.push(a);
            }
        }
        out
    }

    /// Lets the forwarder deliver what is queued, for at most `wait`
    /// (an engine that stopped reading does not hold the session up).
    pub async fn close(&mut self, wait: Duration) {
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.tx, closed));
        if tokio::time::timeout(wait, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::ConnectionState;

    fn ev() -> Event {
        Event::ConnectionChanged(ConnectionState::Connecting)
    }

    #[tokio::test]
    async fn actions_run_only_after_the_engine_asks_for_more() {
        let (sink, mut rx) = EventSink::channel(8);
        let mut h = Handoff::new(sink);
        assert_eq!(
            h.after_stored(Action::Inbound(1)),
            Some(Action::Inbound(1)),
            "nothing pending: at once"
        );
        h.emit_stored(ev()).expect("queued");
        assert_eq!(h.after_stored(Action::Inbound(2)), None);
        assert!(rx.recv().await.is_some());
        assert!(h.ready().is_empty(), "received is not stored");
        let _ = tokio::time::timeout(Duration::from_millis(20), rx.recv()).await;
        tokio::time::timeout(Duration::from_secs(5), h.changed())
            .await
            .expect("in time")
            .expect("forwarder alive");
        assert_eq!(h.ready(), vec![Action::Inbound(2)]);
    }

    #[tokio::test]
    async fn an_engine_gone_before_storing_runs_nothing() {
        let (sink, mut rx) = EventSink::channel(8);
        let mut h = Handoff::new(sink);
        h.emit_stored(ev()).expect("queued");
        assert_eq!(h.after_stored(Action::Inbound(1)), None);
        assert!(rx.recv().await.is_some());
        drop(rx);
        let r = tokio::time::timeout(Duration::from_secs(5), h.changed()).await;
        assert_eq!(r, Ok(Err(EngineGone)));
        assert!(h.ready().is_empty());
    }
}
