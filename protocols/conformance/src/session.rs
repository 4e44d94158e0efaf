//! Drives one plugin session the way the engine does, for tests.

use crate::TestAccount;
use anyhow::{Context, anyhow, bail};
use koine_api::{
    AccountId, Command, ConnectionState, Event, EventSink, Hop, Protocol, SessionContext,
    SessionError,
};
use koine_keyring::KeyringSecrets;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};

/// How a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// The future returned.
    Returned(Result<(), SessionError>),
    /// The future panicked: always a conformance failure.
    Panicked(String),
}

/// A plugin session running in its own task, with its event log.
///
/// A forwarding task plays the engine's part of the event channel: an event
/// counts as handled (see `EventSink::emit_handled`) once it has reached
/// this harness, as the engine counts it once stored.
pub struct RunningSession {
    commands: Option<mpsc::Sender<Command>>,
    events: mpsc::UnboundedReceiver<Event>,
    task: Option<JoinHandle<Result<(), SessionError>>>,
    /// Every event seen so far, in order.
    pub log: Vec<Event>,
    timeout: Duration,
}

/// The keyring scope of a session whose plugin state is in `data_dir`: the
/// same for a restart in the same directory, different for every other
/// directory (tests that run at the same time never share secrets).
pub fn keyring_scope(data_dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("conformance-{name}-{:016x}", h.finish())
}

impl RunningSession {
    /// Starts a session for `account`, with its plugin state in `data_dir`.
    pub fn start(
        protocol: &Arc<dyn Protocol>,
        account: &TestAccount,
        data_dir: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir).context("creating the plugin data dir")?;
        let scope = keyring_scope(data_dir);
        let (commands_tx, commands_rx) = mpsc::channel(64);
        let (sink, mut from_session) = EventSink::channel(1024);
        let (to_harness, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = from_session.recv().await {
                if to_harness.send(event).is_err() {
                    break;
                }
            }
        });
        let context = SessionContext {
            account: AccountId::new(scope.clone()),
            settings: account.settings.clone(),
            secret: account.secret.clone(),
            secrets: Arc::new(KeyringSecrets::scoped(scope)),
            data_dir: data_dir.to_path_buf(),
            commands: commands_rx,
            events: sink,
        };
        let task = tokio::spawn(protocol.run(context));
        Ok(Self {
            commands: Some(commands_tx),
            events,
            task: Some(task),
            log: Vec::new(),
            timeout,
        })
    }

    /// Sends a command to the session.
    pub async fn command(&self, command: Command) -> anyhow::Result<()> {
        let tx = self
            .commands
            .as_ref()
            .ok_or_else(|| anyhow!("session already stopped"))?;
        tx.send(command)
            .await
            .map_err(|_| anyhow!("the session stopped taking commands"))
    }

    /// Like [`Self::wait_for`], but an event already seen (while waiting for
    /// something else) counts too: for events whose order the network does
    /// not fix, such as files that finish downloading at different times.
    pub async fn wait_for_seen<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> anyhow::Result<T> {
        if let Some(value) = self.log.iter().find_map(&mut pick) {
            return Ok(value);
        }
        self.wait_for(what, pick).await
    }

    /// Waits for the first new event that `pick` maps to a value (events
    /// seen before are kept in the log, not matched again).
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let event = match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => bail!(
                    "session ended while waiting for {what}; events: {:?}",
                    self.log
                ),
                Err(_) => bail!(
                    "timed out after {:?} waiting for {what}; events: {:?}",
                    self.timeout,
                    self.log
                ),
            };
            let found = pick(&event);
            self.log.push(event);
            if let Some(value) = found {
                return Ok(value);
            }
        }
    }

    /// Whether the session task is still running (it has neither returned
    /// nor panicked).
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for `Online` and returns the reported link.
    pub async fn online(&mut self) -> anyhow::Result<Hop> {
        self.wait_for("the session to be online", |e| match e {
            Event::ConnectionChanged(ConnectionState::Online { link }) => Some(link.clone()),
            _ => None,
        })
        .await
    }

    /// Collects events for `window`, returning them (they are logged too).
    pub async fn drain_for(&mut self, window: Duration) -> Vec<Event> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while let Ok(Some(event)) = timeout_at(deadline, self.events.recv()).await {
            out.push(event.clone());
            self.log.push(event);
        }
        out
    }

    /// Waits for the session to end by itself (without closing its commands).
    pub async fn ended(&mut self) -> anyhow::Result<SessionEnd> {
        self.ended_inner(false).await
    }

    /// Like [`RunningSession::ended`], but fails at once if the session
    /// reports `Online` (for sessions that must never get there).
    pub async fn ended_without_online(&mut self) -> anyhow::Result<SessionEnd> {
        self.ended_inner(true).await
    }

    async fn ended_inner(&mut self, online_is_failure: bool) -> anyhow::Result<SessionEnd> {
        let task = self
            .task
            .take()
            .ok_or_else(|| anyhow!("session already joined"))?;
        let deadline = Instant::now() + self.timeout;
        // Keep draining events so a plugin blocked on a full channel can finish.
        let mut task = task;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return Ok(match joined {
                        Ok(result) => SessionEnd::Returned(result),
                        Err(e) if e.is_panic() => SessionEnd::Panicked(format!("{e}")),
                        Err(e) => SessionEnd::Panicked(format!("task failed: {e}")),
                    });
                }
                event = self.events.recv() => {
                    if let Some(event) = event {
                        let online = matches!(event, Event::ConnectionChanged(ConnectionState::Online { .. }));
                        self.log.push(event);
                        if online && online_is_failure {
                            task.abort();
                            bail!("the session went online; events: {:?}", self.log);
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    task.abort();
                    bail!("the session did not end within {:?}; events: {:?}", self.timeout, self.log);
                }
            }
        }
    }

    /// Closes the command channel (what the engine does to stop an account)
    /// and waits for the session to end.
    pub async fn stop(mut self) -> anyhow::Result<SessionEnd> {
        self.commands = None;
        self.ended().await
    }
}

impl Drop for RunningSession {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
