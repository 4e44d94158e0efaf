//! One process owns a profile's sessions.
//!
//! Two processes running sessions on one profile would fork every ratchet
//! (Signal, OMEMO and Olm state advanced twice from the same point: message
//! keys and prekeys reused), send the outbox twice and sync the same Matrix
//! device twice. So the first engine that starts an account takes an
//! exclusive lock on `owner.lock` in the profile (`flock` on Unix, a
//! `LockFileEx` lock on Windows: the OS drops it when the process ends,
//! even on a crash) and keeps it until the process exits. Another process
//! may open the store (SQLite allows it), read it, and queue messages in
//! the outbox, but it starts no session: it hands the work to the owner
//! through `owner.sock` (a Unix socket in the private profile directory,
//! mode 0600), and the owner sends what was queued.
//!
//! The hand-off protocol is a request line, then the owner's answer lines
//! ending with `ok` or `error TEXT`:
//! - `outbox ACCOUNT_ID`: start the account if it is not running and send
//!   its outbox;
//! - `prompts`: one `prompt {"account":…,"prompt":…}` line per open
//!   question of the sessions (pair this phone, pin this certificate…);
//! - `answer {"account":…,"prompt":…,"answer":"confirm"|"reject"}`:
//!   answers one of them;
//! - `request {"request":…,"decision":"accept"|"decline"|"block"|"report"}`:
//!   answers a request of the Requests inbox (through the network, whose
//!   session runs in the owner) and waits for the network to confirm; the
//!   answer is one `outcome {…}` line.

use super::{Engine, EngineError};
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// The lock file's name in the profile.
const LOCK_FILE: &str = "owner.lock";
/// The hand-off socket's name in the profile.
#[cfg(unix)]
const SOCKET: &str = "owner.sock";
/// How long the owner waits for the network to confirm a handed request.
#[cfg(unix)]
const HANDED_REQUEST_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// An exclusive hold on a profile, released when the last engine of this
/// process that uses it is dropped (or the process ends).
#[derive(Debug)]
pub(super) struct OwnerLock {
    _file: File,
}

/// The profiles this process owns: engines of one process share the hold
/// (a restart inside one process, the tests), other processes are refused.
static OWNED: Mutex<Option<HashMap<PathBuf, Weak<OwnerLock>>>> = Mutex::new(None);

/// Takes the profile for this process, or `None` when another process
/// holds it.
pub(super) fn try_own(root: &Path) -> std::io::Result<Option<Arc<OwnerLock>>> {
    let key = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut owned = super::lock(&OWNED);
    let map = owned.get_or_insert_with(HashMap::new);
    if let Some(hold) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(Some(hold));
    }
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(key.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let hold = Arc::new(OwnerLock { _file: file });
    map.insert(key, Arc::downgrade(&hold));
    Ok(Some(hold))
}

impl Engine {
    /// Makes this process the owner of the profile's sessions, or fails
    /// with [`EngineError::ProfileInUse`] when another process is. Call it
    /// early (before opening a window) to tell the user at once; starting
    /// an account claims the profile anyway.
    pub fn claim(&self) -> Result<(), EngineError> {
        let mut owner = super::lock(&self.inner.owner);
        if owner.is_none() {
            let hold = try_own(self.inner.profile.root())?.ok_or(EngineError::ProfileInUse)?;
            *owner = Some((hold, false));
        }
        // The hand-off socket needs the async runtime: served from the
        // first claim made on it.
        #[cfg(unix)]
        if let Some((_, serving @ false)) = &mut *owner
            && tokio::runtime::Handle::try_current().is_ok()
        {
            *serving = true;
            drop(owner);
            self.serve_hand_offs();
        }
        Ok(())
    }

    /// Whether this engine owns the profile's sessions.
    pub fn owns_profile(&self) -> bool {
        super::lock(&self.inner.owner).is_some()
    }

    /// Asks the process that owns the profile to start `account` and send
    /// what waits in its outbox (queued here with [`Engine::send`]).
    pub async fn hand_off(&self, account: &koine_api::AccountId) -> Result<(), EngineError> {
        #[cfg(unix)]
        {
            self.ask_owner(&format!("outbox {}", account.as_str()))
                .await
                .map(|_| ())
        }
        #[cfg(not(unix))]
        {
            let _ = account;
            Err(EngineError::ProfileInUse)
        }
    }

    /// Serves other processes' hand-offs for as long as the runtime runs.
    #[cfg(unix)]
    fn serve_hand_offs(&self) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.inner.profile.root().join(SOCKET);
        // A socket left by an owner that died: the lock says it is gone.
        let _ = std::fs::remove_file(&path);
        let listener = match tokio::net::UnixListener::bind(&path) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "no hand-off socket: other koine commands cannot reach this one");
                return;
            }
        };
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(error = %e, "hand-off socket permissions");
        }
        let engine = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let Some(inner) = engine.upgrade() else {
                    return;
                };
                let engine = Engine { inner };
                tokio::spawn(async move {
                    if let Err(e) = engine.answer_hand_off(stream).await {
                        tracing::warn!(error = %e, "hand-off");
                    }
                });
            }
        });
    }

    #[cfg(unix)]
    async fn answer_hand_off(&self, stream: tokio::net::UnixStream) -> std::io::Result<()> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        BufReader::new(read).take(1024).read_line(&mut line).await?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut reply = String::new();
        #[derive(serde::Deserialize)]
        struct Answer {
            account: koine_api::AccountId,
            prompt: koine_api::PromptId,
            answer: koine_api::PromptAnswer,
        }
        let answer = line
            .trim_end()
            .strip_prefix("answer ")
            .map(serde_json::from_str::<Answer>);
        if let Some(request) = line.trim_end().strip_prefix("request ") {
            match self.answer_handed_request(request).await {
                Ok(outcome) => reply.push_str(&format!("outcome {outcome}\nok\n")),
                Err(e) => reply.push_str(&format!("error {}\n", e.replace('\n', " "))),
            }
            return write.write_all(reply.as_bytes()).await;
        }
        let result = match (words.as_slice(), answer) {
            (_, Some(Err(e))) => Err(format!("malformed answer: {e}")),
            (
                _,
                Some(Ok(Answer {
                    account,
                    prompt,
                    answer,
                })),
            ) => {
                let open = self
                    .open_prompts()
                    .iter()
                    .any(|(a, p)| a == &account && p.id == prompt);
                if open {
                    self.command(
                        &account,
                        koine_api::Command::AnswerPrompt { prompt, answer },
                    )
                    .await
                    .map_err(|e| e.to_string())
                } else {
                    Err("no such open question".to_owned())
                }
            }
            (["outbox", account], None) => {
                let account = koine_api::AccountId::new(*account);
                match self.start(&account) {
                    Ok(()) => {
                        self.replay(&account).await;
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            (["prompts"], None) => {
                for (account, prompt) in self.open_prompts() {
                    let line = serde_json::json!({"account": account, "prompt": prompt});
                    reply.push_str(&format!("prompt {line}\n"));
                }
                Ok(())
            }
            _ => Err("unknown request".to_owned()),
        };
        match result {
            Ok(()) => reply.push_str("ok\n"),
            Err(e) => reply.push_str(&format!("error {}\n", e.replace('\n', " "))),
        }
        write.write_all(reply.as_bytes()).await
    }

    /// Answers a request of the Requests inbox for another process: the
    /// network's own answer needs the session, which runs here. Waits (a
    /// bounded time) for the network to confirm, as `koine requests` does.
    #[cfg(unix)]
    async fn answer_handed_request(&self, json: &str) -> Result<String, String> {
        #[derive(serde::Deserialize)]
        struct Handed {
            request: String,
            decision: koine_api::Decision,
        }
        let handed: Handed =
            serde_json::from_str(json).map_err(|e| format!("malformed request: {e}"))?;
        let request = self
            .find_request(&handed.request)
            .map_err(|e| e.to_string())?;
        let mut events = self.subscribe();
        let outcome = self
            .answer_request(&request, handed.decision)
            .await
            .map_err(|e| e.to_string())?;
        if outcome.network_answered {
            let deadline = tokio::time::Instant::now() + HANDED_REQUEST_WAIT;
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Ok(super::EngineEvent::RequestResolved { account, .. }))
                        if account == request.account =>
                    {
                        break;
                    }
                    Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(_)) | Err(_) => {
                        return Err("the network did not confirm the answer".to_owned());
                    }
                }
            }
        }
        serde_json::to_string(&outcome).map_err(|e| e.to_string())
    }

    /// Answers a request of the Requests inbox through the process that owns
    /// the profile (`request` as `koine requests` takes it).
    pub async fn owner_answer_request(
        &self,
        request: &str,
        decision: koine_api::Decision,
    ) -> Result<super::AnswerOutcome, EngineError> {
        #[cfg(unix)]
        {
            let line = serde_json::json!({"request": request, "decision": decision});
            let lines = self.ask_owner(&format!("request {line}")).await?;
            let outcome = lines
                .iter()
                .find_map(|l| l.strip_prefix("outcome "))
                .ok_or_else(|| EngineError::HandOff("no outcome".into()))?;
            serde_json::from_str(outcome).map_err(|e| EngineError::HandOff(e.to_string()))
        }
        #[cfg(not(unix))]
        {
            let _ = (request, decision);
            Err(EngineError::ProfileInUse)
        }
    }

    /// Sends one request line to the owner and returns the lines of its
    /// answer before the final `ok`.
    #[cfg(unix)]
    async fn ask_owner(&self, request: &str) -> Result<Vec<String>, EngineError> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let path = self.inner.profile.root().join(SOCKET);
        let stream = tokio::net::UnixStream::connect(&path).await?;
        let (read, mut write) = stream.into_split();
        write.write_all(format!("{request}\n").as_bytes()).await?;
        let mut lines = BufReader::new(read.take(1 << 20)).lines();
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().await? {
            if line == "ok" {
                return Ok(out);
            }
            if let Some(e) = line.strip_prefix("error ") {
                return Err(EngineError::HandOff(e.to_owned()));
            }
            out.push(line);
        }
        Err(EngineError::HandOff(
            "the running Koine closed the connection".into(),
        ))
    }

    /// The open questions of the process that owns the profile (or of this
    /// engine, when it is the owner).
    pub async fn owner_prompts(
        &self,
    ) -> Result<Vec<(koine_api::AccountId, koine_api::Prompt)>, EngineError> {
        if self.owns_profile() {
            return Ok(self.open_prompts());
        }
        #[cfg(unix)]
        {
            let mut out = Vec::new();
            for line in self.ask_owner("prompts").await? {
                let Some(json) = line.strip_prefix("prompt ") else {
                    continue;
                };
                #[derive(serde::Deserialize)]
                struct Open {
                    account: koine_api::AccountId,
                    prompt: koine_api::Prompt,
                }
                let open: Open =
                    serde_json::from_str(json).map_err(|e| EngineError::HandOff(e.to_string()))?;
                out.push((open.account, open.prompt));
            }
            Ok(out)
        }
        #[cfg(not(unix))]
        {
            Err(EngineError::ProfileInUse)
        }
    }

    /// Answers an open question of the process that owns the profile (or of
    /// this engine, when it is the owner).
    pub async fn answer_owner_prompt(
        &self,
        account: &koine_api::AccountId,
        prompt: &koine_api::PromptId,
        answer: koine_api::PromptAnswer,
    ) -> Result<(), EngineError> {
        if self.owns_profile() {
            return self
                .command(
                    account,
                    koine_api::Command::AnswerPrompt {
                        prompt: prompt.clone(),
                        answer,
                    },
                )
                .await;
        }
        #[cfg(unix)]
        {
            let line = serde_json::json!({"account": account, "prompt": prompt, "answer": answer});
            self.ask_owner(&format!("answer {line}")).await.map(|_| ())
        }
        #[cfg(not(unix))]
        {
            Err(EngineError::ProfileInUse)
        }
    }
}
