//! A plugin session driven like the engine drives it: commands in, events out.

#![allow(dead_code)]

use koine_api::{
    AccountId, Command, Event, EventSink, Protocol, Secret, SessionContext, SessionError, Settings,
};
use koine_xmpp::Xmpp;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Decides whether the engine "crashes" on an event: receives it from the
/// plugin but never stores it.
pub type CrashOn = Arc<Mutex<Option<Box<dyn Fn(&Event) -> bool + Send>>>>;

/// One running session.
///
/// A forwarding task plays the engine: an event counts as stored once it is
/// in `events` (the task then asks the plugin for the next one). After
/// [`Client::crash_engine_on`], the first matching event is taken from the
/// plugin and dropped, and the engine's end of the channel with it.
pub struct Client {
    pub commands: mpsc::Sender<Command>,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub crash_on: CrashOn,
    /// Notified when the engine "crashed" on an event.
    pub crashed: Arc<tokio::sync::Notify>,
    pub task: JoinHandle<Result<(), SessionError>>,
    pub data_dir: PathBuf,
    /// Every event seen so far.
    pub seen: Vec<Event>,
}

/// Starts a session with `settings`, `secret` and its state in `data_dir`.
pub fn start(settings: Settings, secret: Secret, data_dir: PathBuf) -> Client {
    // One account per data directory, as in the engine: a restart on the
    // same directory finds its keys in the same keyring scope.
    let account = format!("xmpp-{}", data_dir.display());
    start_as(&account, settings, secret, data_dir)
}

/// Like [`start`], for the account id `account` (its keyring scope): a
/// restart with the same id finds the keys it made before.
pub fn start_as(account: &str, settings: Settings, secret: Secret, data_dir: PathBuf) -> Client {
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let (commands, rx) = mpsc::channel(1024);
    let (sink, mut from_session) = EventSink::channel(4096);
    let (to_test, events) = mpsc::unbounded_channel();
    let crash_on: CrashOn = Arc::new(Mutex::new(None));
    let crash = crash_on.clone();
    let crashed = Arc::new(tokio::sync::Notify::new());
    let notify = crashed.clone();
    tokio::spawn(async move {
        while let Some(e) = from_session.recv().await {
            let crashes = crash
                .lock()
                .expect("lock")
                .as_ref()
                .is_some_and(|pred| pred(&e));
            if crashes {
                notify.notify_one();
                break;
            }
            if to_test.send(e).is_err() {
                break;
            }
        }
    });
    let account = AccountId::new(account);
    let cx = SessionContext {
        account: account.clone(),
        settings,
        secret: Some(secret),
        secrets: Arc::new(koine_keyring::KeyringSecrets::scoped(account.as_str())),
        data_dir: data_dir.clone(),
        commands: rx,
        events: sink,
    };
    let task = tokio::spawn(Xmpp.run(cx));
    Client {
        commands,
        events,
        crash_on,
        crashed,
        task,
        data_dir,
        seen: Vec::new(),
    }
}

impl Client {
    /// Waits (at most 20 s) for an event matching `pred`, keeping all events.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        if let Some(e) = self.seen.iter().find(|e| pred(e)) {
            return e.clone();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => panic!("session ended while waiting for {what}: {:?}", self.seen),
                Err(_) => panic!("timed out waiting for {what}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Drains events that arrive within `ms` milliseconds.
    pub async fn drain(&mut self, ms: u64) {
        while let Ok(Some(e)) =
            tokio::time::timeout(Duration::from_millis(ms), self.events.recv()).await
        {
            self.seen.push(e);
        }
    }

    /// Waits for the session to be online.
    pub async fn online(&mut self) -> koine_api::Hop {
        match self
            .wait_for("online", |e| {
                matches!(
                    e,
                    Event::ConnectionChanged(koine_api::ConnectionState::Online { .. })
                )
            })
            .await
        {
            Event::ConnectionChanged(koine_api::ConnectionState::Online { link }) => link,
            _ => unreachable!(),
        }
    }

    /// Waits for the roster (which comes before initial presence).
    pub async fn roster(&mut self) -> Vec<koine_api::Contact> {
        match self
            .wait_for("roster", |e| matches!(e, Event::RosterReplaced(_)))
            .await
        {
            Event::RosterReplaced(c) => c,
            _ => unreachable!(),
        }
    }

    /// The engine will stop, without storing it, at the first event
    /// matching `pred` from now on.
    pub fn crash_engine_on(&self, pred: impl Fn(&Event) -> bool + Send + 'static) {
        *self.crash_on.lock().expect("lock") = Some(Box::new(pred));
    }

    /// Waits (at most 30 s) until the engine took the event it crashes on.
    pub async fn engine_crashed(&self) {
        tokio::time::timeout(Duration::from_secs(30), self.crashed.notified())
            .await
            .expect("the engine received the event it stops on");
    }

    pub async fn send(&self, cmd: Command) {
        self.commands.send(cmd).await.expect("session alive");
    }

    /// Stops the session as the engine does (closing the command channel)
    /// and returns its result.
    pub async fn stop(self) -> Result<(), SessionError> {
        let Client { commands, task, .. } = self;
        drop(commands);
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("session stops")
            .expect("task joins")
    }
}
