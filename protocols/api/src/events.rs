//! The event channel from a session to the engine.
//!
//! Events are delivered in order. The receiver counts an event as *handled*
//! once it asks for the next one (the engine stores an event before it reads
//! the next), so a plugin can wait with [`EventSink::emit_handled`] until the
//! engine has stored what it reported before it tells the network to forget
//! it (an acknowledgement, a sync token, a queue cursor). A crash between the
//! two then means the network delivers again and the engine de-duplicates,
//! never that a message is lost.

use crate::event::Event;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// The engine is gone; the session should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the engine stopped listening")]
pub struct EngineGone;

/// Reports events to the engine.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::Sender<Event>,
    /// The number of events sent; held while sending so that numbers follow
    /// the channel's order across clones of the sink.
    sent: Arc<Mutex<u64>>,
    handled: watch::Receiver<u64>,
}

/// The engine's end of the event channel.
#[derive(Debug)]
pub struct EventReceiver {
    rx: mpsc::Receiver<Event>,
    received: u64,
    handled: watch::Sender<u64>,
}

impl EventSink {
    /// A sink and the receiver the engine reads from.
    pub fn channel(capacity: usize) -> (Self, EventReceiver) {
        let (tx, rx) = mpsc::channel(capacity);
        let (handled_tx, handled_rx) = watch::channel(0);
        (
            Self {
                tx,
                sent: Arc::new(Mutex::new(0)),
                handled: handled_rx,
            },
            EventReceiver {
                rx,
                received: 0,
                handled: handled_tx,
            },
        )
    }

    async fn send(&self, event: Event) -> Result<u64, EngineGone> {
        let permit = self.tx.reserve().await.map_err(|_| EngineGone)?;
        let mut sent = match self.sent.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *sent = sent.saturating_add(1);
        permit.send(event);
        Ok(*sent)
    }

    /// Reports one event, waiting while the engine catches up.
    pub async fn emit(&self, event: Event) -> Result<(), EngineGone> {
        self.send(event).await.map(|_| ())
    }

    /// Reports one event and waits until the engine has handled (stored) it.
    ///
    /// Use this before acknowledging a message to the network.
    pub async fn emit_handled(&self, event: Event) -> Result<(), EngineGone> {
        let seq = self.send(event).await?;
        self.handled_up_to(seq).await
    }

    /// Reports an event without waiting, and returns its number: it is
    /// handled once [`Self::handled`] reaches that number. For a plugin
    /// that keeps many events in flight and acts on each once it is stored.
    pub async fn emit_tracked(&self, event: Event) -> Result<u64, EngineGone> {
        self.send(event).await
    }

    /// How many events the engine has handled, as a watch: it reaches an
    /// event's number (from [`Self::emit_tracked`]) once that event is
    /// stored.
    pub fn handled(&self) -> watch::Receiver<u64> {
        self.handled.clone()
    }

    /// Waits until the engine has handled the first `seq` events.
    async fn handled_up_to(&self, seq: u64) -> Result<(), EngineGone> {
        let mut handled = self.handled.clone();
        handled
            .wait_for(|&n| n >= seq)
            .await
            .map(|_| ())
            .map_err(|_| EngineGone)
    }
}

impl EventSink {
    /// Waits until the engine has handled (stored) every event reported so
    /// far through this sink or its clones: call it before moving a
    /// network-side cursor past a batch of events (a sync token).
    pub async fn flush(&self) -> Result<(), EngineGone> {
        let seq = match self.sent.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        };
        self.handled_up_to(seq).await
    }
}

impl EventReceiver {
    /// Marks every event received so far as handled.
    fn mark(&self) {
        self.handled.send_if_modified(|n| {
            let changed = *n != self.received;
            *n = self.received;
            changed
        });
    }

    /// The next event; asking for it marks the ones before as handled.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Event> {
        self.mark();
        let event = self.rx.recv().await;
        if event.is_some() {
            self.received = self.received.saturating_add(1);
        }
        event
    }

    /// Receives the next event and, without waiting, up to `limit - 1`
    /// more that are already queued, into `buffer`; returns how many (0 when
    /// every sink is gone). Like [`Self::recv`], the call first marks every
    /// event received before it as handled, so the caller must have stored
    /// the whole previous batch before it asks again.
    pub async fn recv_many(&mut self, buffer: &mut Vec<Event>, limit: usize) -> usize {
        self.mark();
        let Some(first) = self.rx.recv().await else {
            return 0;
        };
        buffer.push(first);
        let mut n = 1;
        while n < limit.max(1) {
            match self.rx.try_recv() {
                Ok(event) => {
                    buffer.push(event);
                    n = n.saturating_add(1);
                }
                Err(_) => break,
            }
        }
        self.received = self.received.saturating_add(n as u64);
        n
    }

    /// The next event if one is waiting; marks the ones before as handled.
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        self.mark();
        let event = self.rx.try_recv()?;
        self.received = self.received.saturating_add(1);
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectionState, Event};
    use std::time::Duration;

    fn ev() -> Event {
        Event::ConnectionChanged(ConnectionState::Connecting)
    }

    #[tokio::test]
    async fn emit_handled_waits_until_the_receiver_asks_for_the_next_event() {
        let (sink, mut rx) = EventSink::channel(8);
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.emit_handled(ev()).await }
        });
        assert!(rx.recv().await.is_some());
        // Received but not handled yet: the sender still waits.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        // Asking for the next event marks the first handled.
        let _ = tokio::time::timeout(Duration::from_millis(10), rx.recv()).await;
        let r = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(matches!(r, Ok(Ok(Ok(())))));
    }

    #[tokio::test]
    async fn a_batch_is_handled_only_when_the_next_one_is_asked_for() {
        let (sink, mut rx) = EventSink::channel(8);
        sink.emit(ev()).await.expect("emit");
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.emit_handled(ev()).await }
        });
        let mut batch = Vec::new();
        while batch.len() < 2 {
            rx.recv_many(&mut batch, 8).await;
        }
        // Both received in batches; the last not yet handled.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        let _ = tokio::time::timeout(Duration::from_millis(10), rx.recv_many(&mut batch, 8)).await;
        let r = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(matches!(r, Ok(Ok(Ok(())))));
    }

    #[tokio::test]
    async fn emit_handled_fails_when_the_receiver_goes_away_unhandled() {
        let (sink, mut rx) = EventSink::channel(8);
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.emit_handled(ev()).await }
        });
        assert!(rx.recv().await.is_some());
        drop(rx);
        let r = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(matches!(r, Ok(Ok(Err(EngineGone)))));
    }

    #[tokio::test]
    async fn flush_waits_for_every_event_sent_before() {
        let (sink, mut rx) = EventSink::channel(8);
        sink.emit(ev()).await.ok();
        sink.emit(ev()).await.ok();
        let flushing = tokio::spawn({
            let sink = sink.clone();
            async move { sink.flush().await }
        });
        assert!(rx.recv().await.is_some());
        assert!(rx.recv().await.is_some());
        // The second event is received but not yet handled.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!flushing.is_finished());
        let _ = tokio::time::timeout(Duration::from_millis(10), rx.recv()).await;
        let r = tokio::time::timeout(Duration::from_secs(5), flushing).await;
        assert!(matches!(r, Ok(Ok(Ok(())))));
        // Nothing outstanding: returns at once.
        assert_eq!(sink.flush().await, Ok(()));
    }

    #[tokio::test]
    async fn numbering_follows_channel_order_across_clones() {
        let (sink, mut rx) = EventSink::channel(64);
        for _ in 0..10 {
            sink.clone().emit(ev()).await.ok();
        }
        let last = tokio::spawn({
            let sink = sink.clone();
            async move { sink.emit_handled(ev()).await }
        });
        for _ in 0..11 {
            assert!(rx.recv().await.is_some());
        }
        assert!(rx.try_recv().is_err());
        let r = tokio::time::timeout(Duration::from_secs(5), last).await;
        assert!(matches!(r, Ok(Ok(Ok(())))));
    }
}
