//! A plugin session driven like the engine drives it: commands in, events out.

#![allow(dead_code)]

use koine_api::{
    AccountId, Command, Event, EventSink, Protocol, Secret, SessionContext, SessionError, Settings,
};
use koine_xmpp::Xmpp;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One running session.
pub struct Client {
    pub commands: mpsc::Sender<Command>,
    pub events: koine_api::EventReceiver,
    pub task: JoinHandle<Result<(), SessionError>>,
    pub data_dir: PathBuf,
    /// Every event seen so far.
    pub seen: Vec<Event>,
}

/// Starts a session with `settings`, `secret` and its state in `data_dir`.
pub fn start(settings: Settings, secret: Secret, data_dir: PathBuf) -> Client {
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let (commands, rx) = mpsc::channel(1024);
    let (sink, events) = EventSink::channel(4096);
    let account = AccountId::new(format!("xmpp-{}", uuid::Uuid::new_v4()));
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
