//! Secrets inside Flatpak: the Secret portal and a file keyring.
//!
//! A Flatpak sandbox may not talk to the Secret Service
//! (`org.freedesktop.secrets`; Flathub refuses the permission). What it may
//! use is the Secret portal (`org.freedesktop.portal.Secret` of
//! xdg-desktop-portal), which hands each application one secret of its own,
//! kept by the desktop's keyring (gnome-keyring's portal backend, KWallet's)
//! under the application id. That secret encrypts a keyring file in the
//! app's data directory, `$XDG_DATA_HOME/keyrings/default.keyring`
//! (`~/.var/app/im.koine.Koine/data/…` seen from the host): oo7's file
//! backend, the format libsecret uses inside a sandbox too. Entries carry the
//! same attributes as the Secret Service entries of the `keyring` crate
//! (`service`, `username`).
//!
//! oo7 is asynchronous and [`koine_api::SecretStore`] is not, and its callers
//! run inside tokio runtimes. So one thread of our own owns the keyring and
//! serves requests one at a time over a channel, driving oo7's futures with
//! a plain executor (oo7 runs on async-io here, never on the caller's
//! runtime). Several Koine processes may share the file (the command line
//! beside the window): writes hold a lock file beside it
//! (`default.keyring.lock`), and the file is read again whenever it changed
//! on disk since this process last saw it.

use std::{
    fs::{DirBuilder, File, OpenOptions},
    io,
    os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt},
    panic,
    path::{Path, PathBuf},
    sync::mpsc,
    thread,
    time::SystemTime,
};

use futures::executor::block_on;
use koine_api::{Secret, SecretError};
use oo7::file::{self, UnlockedKeyring};

use crate::SERVICE;

/// Whether this process runs inside a Flatpak sandbox (the standard check:
/// flatpak puts `/.flatpak-info` at the root of every sandbox).
pub(crate) fn in_flatpak() -> bool {
    Path::new("/.flatpak-info").exists()
}

/// Where the keyring file lives: `keyrings/default.keyring` in the data
/// directory (`$XDG_DATA_HOME`, else `~/.local/share`), where oo7 and
/// libsecret put it inside a sandbox.
fn default_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|home| home.join(".local/share"))
        })?;
    Some(data.join("keyrings").join("default.keyring"))
}

/// Where the secret that encrypts the file comes from.
pub(crate) enum Master {
    /// The Secret portal (`org.freedesktop.portal.Secret`), once per process.
    Portal,
    /// A known secret, for tests of the file part alone.
    #[cfg(test)]
    Fixed(Vec<u8>),
}

type Job = Box<dyn FnOnce(&mut State) + Send>;

/// The file keyring, owned by its own thread.
pub(crate) struct PortalKeyring {
    path: Option<PathBuf>,
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for PortalKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PortalKeyring {
    /// The keyring of a Flatpak app: its data directory's file, opened with
    /// the Secret portal's secret.
    pub(crate) fn in_app_data() -> Self {
        Self::new(default_path(), Master::Portal)
    }

    /// A keyring file at `path` (none: no data directory), opened with the
    /// secret from `master`. Nothing is read before the first request.
    pub(crate) fn new(path: Option<PathBuf>, master: Master) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let state = State {
            path: path.clone(),
            master,
            secret: None,
            open: None,
        };
        // Should the thread not start, the queue is dropped with it and every
        // request says so.
        let _ = thread::Builder::new()
            .name("koine-keyring".into())
            .spawn(move || serve(state, &queue));
        Self { path, jobs }
    }

    pub(crate) fn probe(&self) -> Result<(), SecretError> {
        self.call(|state| state.keyring().map(|_| ()))
    }

    pub(crate) fn get(&self, user: &str) -> Result<Option<Secret>, SecretError> {
        let user = user.to_owned();
        self.call(move |state| state.get(&user))
    }

    pub(crate) fn set(&self, user: &str, value: &Secret) -> Result<(), SecretError> {
        let user = user.to_owned();
        let value = Secret::new(value.expose());
        self.call(move |state| state.set(&user, &value))
    }

    pub(crate) fn delete(&self, user: &str) -> Result<(), SecretError> {
        let user = user.to_owned();
        self.call(move |state| state.delete(&user))
    }

    /// Runs `job` on the keyring's thread and waits for its answer. The
    /// caller's thread only waits on a channel: it may be a tokio worker.
    fn call<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut State) -> Result<R, SecretError> + Send + 'static,
    ) -> Result<R, SecretError> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |state: &mut State| {
                let _ = answer.send(job(state));
            }))
            .map_err(|_| SecretError::Other("the keyring file's thread is not running".into()))?;
        answered.recv().unwrap_or_else(|_| {
            Err(SecretError::Other(
                "the keyring file's thread failed during a request".into(),
            ))
        })
    }
}

/// The keyring thread: one request at a time until every handle is gone. A
/// request that panics (a bug in a dependency) fails alone; the file is read
/// again for the next one.
fn serve(mut state: State, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        if panic::catch_unwind(panic::AssertUnwindSafe(|| job(&mut state))).is_err() {
            state.open = None;
        }
    }
}

/// What the keyring thread owns.
struct State {
    path: Option<PathBuf>,
    master: Master,
    /// The secret that encrypts the file, once obtained.
    secret: Option<oo7::Secret>,
    /// The file as last read or written.
    open: Option<Open>,
}

struct Open {
    keyring: UnlockedKeyring,
    /// The file's identity when it was read or last written by us.
    stamp: Option<Stamp>,
}

/// Enough of a file's metadata to notice that someone else replaced it (oo7
/// writes a new file and renames it over the old one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> io::Result<Option<Stamp>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(Stamp {
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The attributes of an entry: those the `keyring` crate gives its Secret
/// Service items.
fn attributes(user: &str) -> [(&'static str, &str); 2] {
    [("service", SERVICE), ("username", user)]
}

impl State {
    fn path(&self) -> Result<PathBuf, SecretError> {
        self.path.clone().ok_or_else(|| {
            SecretError::Unavailable(
                "no data directory for the keyring file (neither XDG_DATA_HOME nor HOME is set)"
                    .into(),
            )
        })
    }

    /// The secret that encrypts the file: from the portal on first use.
    fn master_secret(&mut self) -> Result<oo7::Secret, SecretError> {
        if let Some(secret) = &self.secret {
            return Ok(secret.clone());
        }
        let secret = match &self.master {
            Master::Portal => {
                let bytes = block_on(oo7::ashpd::desktop::secret::retrieve())
                    .map(zeroize::Zeroizing::new)
                    .map_err(portal_error)?;
                if bytes.is_empty() {
                    return Err(SecretError::Unavailable(
                        "the Secret portal gave an empty secret".into(),
                    ));
                }
                oo7::Secret::from(bytes)
            }
            #[cfg(test)]
            Master::Fixed(bytes) => oo7::Secret::blob(bytes),
        };
        Ok(self.secret.insert(secret).clone())
    }

    /// The keyring, read from the file again if it changed since.
    fn keyring(&mut self) -> Result<&UnlockedKeyring, SecretError> {
        let path = self.path()?;
        let now = stamp(&path).map_err(|e| io_error(&path, &e))?;
        let open = match self.open.take() {
            Some(open) if open.stamp == now => open,
            _ => {
                let secret = self.master_secret()?;
                let keyring = block_on(UnlockedKeyring::load(&path, secret))
                    .map_err(|e| file_error(&path, e))?;
                Open {
                    keyring,
                    stamp: now,
                }
            }
        };
        Ok(&self.open.insert(open).keyring)
    }

    fn get(&mut self, user: &str) -> Result<Option<Secret>, SecretError> {
        let path = self.path()?;
        let keyring = self.keyring()?;
        match block_on(keyring.lookup_item(&attributes(user))).map_err(|e| file_error(&path, e))? {
            None => Ok(None),
            Some(file::Item::Locked(_)) => Err(SecretError::Locked),
            Some(file::Item::Unlocked(item)) => {
                let secret = item.secret();
                let text = std::str::from_utf8(secret.as_bytes()).map_err(|_| {
                    SecretError::Other(format!(
                        "the entry {user} of the keyring file {} is not text",
                        path.display()
                    ))
                })?;
                Ok(Some(Secret::new(text)))
            }
        }
    }

    fn set(&mut self, user: &str, value: &Secret) -> Result<(), SecretError> {
        let label = format!("keyring:{user}@{SERVICE}");
        self.write(|keyring| {
            block_on(keyring.create_item(
                &label,
                &attributes(user),
                oo7::Secret::text(value.expose()),
                true,
            ))
            .map(|_| ())
        })
    }

    fn delete(&mut self, user: &str) -> Result<(), SecretError> {
        // Deleting what is absent writes nothing (and creates no file).
        if self.get(user)?.is_none() {
            return Ok(());
        }
        self.write(|keyring| block_on(keyring.delete(&attributes(user))))
    }

    /// Applies a change and writes the file, holding the lock file so that
    /// another Koine process (the command line beside the window) cannot
    /// write in between: the file is read again first if it changed. Should
    /// anything else have replaced the file meanwhile (oo7 checks before
    /// writing), it is read again and the change applied once more. After a
    /// failure the file is read again next time, so memory never drifts from
    /// the disk.
    fn write(
        &mut self,
        change: impl Fn(&UnlockedKeyring) -> Result<(), file::Error>,
    ) -> Result<(), SecretError> {
        let path = self.path()?;
        let _lock = lock(&path)?;
        let mut retried = false;
        loop {
            let result = change(self.keyring()?);
            match result {
                Ok(()) => {
                    let now = stamp(&path).map_err(|e| io_error(&path, &e))?;
                    if let Some(open) = &mut self.open {
                        open.stamp = now;
                    }
                    return Ok(());
                }
                Err(file::Error::TargetFileChanged(_)) if !retried => {
                    retried = true;
                    self.open = None;
                }
                Err(e) => {
                    self.open = None;
                    return Err(file_error(&path, e));
                }
            }
        }
    }
}

/// Takes the lock beside the keyring file (`default.keyring.lock`), made
/// private like the file itself; the lock goes with the returned handle.
fn lock(path: &Path) -> Result<File, SecretError> {
    if let Some(dir) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_error(dir, &e))?;
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| io_error(&lock_path, &e))?;
    file.lock().map_err(|e| io_error(&lock_path, &e))?;
    Ok(file)
}

fn io_error(path: &Path, e: &io::Error) -> SecretError {
    SecretError::Other(format!("keyring file {}: {e}", path.display()))
}

fn file_error(path: &Path, e: file::Error) -> SecretError {
    match e {
        file::Error::Portal(e) => portal_error(e),
        file::Error::Locked => SecretError::Locked,
        file::Error::Io(e) => io_error(path, &e),
        e @ (file::Error::IncorrectSecret
        | file::Error::PartiallyCorruptedKeyring { .. }
        | file::Error::MacError
        | file::Error::ChecksumMismatch) => SecretError::Other(format!(
            "the keyring file {} does not open with this application's secret from the \
             Secret portal ({e}); it was left as it is",
            path.display()
        )),
        e => SecretError::Other(format!("the keyring file {}: {e}", path.display())),
    }
}

fn portal_error(e: oo7::ashpd::Error) -> SecretError {
    use oo7::ashpd::{Error, desktop::ResponseError};
    match e {
        Error::PortalNotFound(_) => SecretError::Unavailable(
            "the Secret portal (org.freedesktop.portal.Secret) is not available: it needs \
             xdg-desktop-portal and a Secret backend such as gnome-keyring or KWallet"
                .into(),
        ),
        // The user dismissed the desktop keyring's unlock prompt.
        Error::Response(ResponseError::Cancelled) => SecretError::Locked,
        e => SecretError::Unavailable(format!(
            "the Secret portal did not give this application's secret: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use koine_api::SecretStore;

    use super::*;
    use crate::{Backend, KeyringSecrets, suite};

    /// A file keyring at `path` opened with a known secret: the file part of
    /// the Flatpak path, without the portal.
    fn fixed(path: &Path, secret: &[u8]) -> Arc<PortalKeyring> {
        Arc::new(PortalKeyring::new(
            Some(path.to_owned()),
            Master::Fixed(secret.to_vec()),
        ))
    }

    fn scoped(keyring: &Arc<PortalKeyring>) -> impl Fn(String) -> KeyringSecrets + use<> {
        let keyring = Arc::clone(keyring);
        move |scope| KeyringSecrets {
            scope,
            backend: Backend::Portal(Arc::clone(&keyring)),
        }
    }

    fn file_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("keyrings/default.keyring")
    }

    #[test]
    fn file_keyring_round_trip_and_scope_isolation() {
        let dir = tempfile::tempdir().unwrap();
        suite::round_trip_and_scope_isolation(scoped(&fixed(&file_path(&dir), b"master")));
    }

    #[test]
    fn file_keyring_delete_all_removes_every_name_of_the_scope_only() {
        let dir = tempfile::tempdir().unwrap();
        suite::delete_all_removes_every_name_of_the_scope_only(scoped(&fixed(
            &file_path(&dir),
            b"master",
        )));
    }

    #[test]
    fn file_keyring_works_inside_tokio_runtimes() {
        let dir = tempfile::tempdir().unwrap();
        suite::works_inside_tokio_runtimes(scoped(&fixed(&file_path(&dir), b"master")));
    }

    #[test]
    fn the_file_is_encrypted_private_and_read_back_by_a_new_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        let first = scoped(&fixed(&path, b"master"))("acct-1".into());
        first
            .set("password", &Secret::new("correct horse battery"))
            .unwrap();
        drop(first);

        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for plain in ["correct horse battery", "acct-1", "password", SERVICE] {
            assert!(!text.contains(plain), "{plain:?} is not in the file");
        }
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the user may read the file");

        let again = scoped(&fixed(&path, b"master"))("acct-1".into());
        assert_eq!(
            again
                .get("password")
                .unwrap()
                .map(|s| s.expose().to_owned()),
            Some("correct horse battery".to_owned())
        );
        assert_eq!(again.names().unwrap(), ["password"]);
    }

    #[test]
    fn another_secret_does_not_open_the_file_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        scoped(&fixed(&path, b"master"))("acct-1".into())
            .set("password", &Secret::new("kept"))
            .unwrap();
        let before = std::fs::read(&path).unwrap();

        let wrong = scoped(&fixed(&path, b"another"))("acct-1".into());
        for result in [
            wrong.get("password").map(|_| ()),
            wrong.set("password", &Secret::new("overwritten")),
            wrong.delete("password"),
        ] {
            match result {
                Err(SecretError::Other(text)) => {
                    assert!(
                        text.contains("does not open with this application's secret"),
                        "{text}"
                    );
                }
                other => panic!("expected a clear error, got {other:?}"),
            }
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file is untouched"
        );
    }

    #[test]
    fn two_processes_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        let a = scoped(&fixed(&path, b"master"))("acct-1".into());
        let b = scoped(&fixed(&path, b"master"))("acct-1".into());
        a.set("password", &Secret::new("from a")).unwrap();
        assert_eq!(
            b.get("password").unwrap().map(|s| s.expose().to_owned()),
            Some("from a".to_owned())
        );
        b.set("token", &Secret::new("from b")).unwrap();
        a.set("key", &Secret::new("from a again")).unwrap();
        for (name, value) in [
            ("password", "from a"),
            ("token", "from b"),
            ("key", "from a again"),
        ] {
            for reader in [&a, &b] {
                assert_eq!(
                    reader.get(name).unwrap().map(|s| s.expose().to_owned()),
                    Some(value.to_owned()),
                    "{name}"
                );
            }
        }
        assert_eq!(a.names().unwrap(), ["password", "token", "key"]);
        b.delete_all().unwrap();
        assert_eq!(a.get("key").unwrap(), None);
        assert_eq!(a.names().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        let writers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                // Each thread stands for a process of its own.
                let secrets = scoped(&fixed(&path, b"master"))(format!("acct-{who}"));
                thread::spawn(move || {
                    for i in 0..12 {
                        secrets
                            .set(&format!("n{i}"), &Secret::new(format!("{who}{i}")))
                            .unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let reader = scoped(&fixed(&path, b"master"));
        for who in ["a", "b"] {
            let secrets = reader(format!("acct-{who}"));
            assert_eq!(secrets.names().unwrap().len(), 12, "{who}'s index");
            for i in 0..12 {
                assert_eq!(
                    secrets
                        .get(&format!("n{i}"))
                        .unwrap()
                        .map(|s| s.expose().to_owned()),
                    Some(format!("{who}{i}"))
                );
            }
        }
    }

    #[test]
    fn reading_and_deleting_what_is_absent_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        let secrets = scoped(&fixed(&path, b"master"))("acct-1".into());
        assert_eq!(secrets.get("password").unwrap(), None);
        secrets.delete("password").unwrap();
        secrets.delete_all().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn no_data_directory_is_a_clear_error() {
        let keyring = Arc::new(PortalKeyring::new(None, Master::Fixed(b"m".to_vec())));
        let secrets = scoped(&keyring)("acct-1".into());
        match secrets.get("password") {
            Err(SecretError::Unavailable(text)) => {
                assert!(text.contains("XDG_DATA_HOME"), "{text}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    /// Through the real Secret portal: xdg-desktop-portal with
    /// gnome-keyring's Secret backend, both started by
    /// `scripts/with-keyring` on its private session bus.
    #[test]
    fn the_secret_portal_gives_the_secret_that_opens_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir);
        let portal = Arc::new(PortalKeyring::new(Some(path.clone()), Master::Portal));
        portal.probe().expect("the Secret portal answers");
        suite::round_trip_and_scope_isolation(scoped(&portal));
        suite::delete_all_removes_every_name_of_the_scope_only(scoped(&portal));
        scoped(&portal)("acct-1".into())
            .set("password", &Secret::new("through the portal"))
            .unwrap();
        drop(portal);
        // A new process gets the same secret from the portal.
        let again = Arc::new(PortalKeyring::new(Some(path), Master::Portal));
        assert_eq!(
            scoped(&again)("acct-1".into())
                .get("password")
                .unwrap()
                .map(|s| s.expose().to_owned()),
            Some("through the portal".to_owned())
        );
    }
}

/// The whole Flatpak path through the public API: a process that sees
/// `/.flatpak-info` (made with bubblewrap, as flatpak itself does) picks the
/// Secret portal in [`KeyringSecrets::scoped`], and xdg-desktop-portal, which
/// reads the same file through `/proc/<pid>/root`, treats it as the Flatpak
/// app `im.koine.Koine`.
#[cfg(test)]
mod sandbox {
    use std::{path::Path, process::Command};

    use koine_api::SecretStore;

    use super::*;
    use crate::{Backend, KeyringSecrets, suite};

    const CHILD: &str = "portal::sandbox::inside_the_sandbox";
    /// The scope the sandboxed test leaves a secret in, for the host to look for.
    const SCOPE: &str = "KOINE_KEYRING_SANDBOX_SCOPE";

    #[test]
    fn inside_a_flatpak_sandbox_secrets_go_through_the_secret_portal() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("app-data");
        let info = dir.path().join("flatpak-info");
        std::fs::write(
            &info,
            "[Application]\nname=im.koine.Koine\n\
             runtime=runtime/org.freedesktop.Platform/x86_64/24.08\n",
        )
        .unwrap();

        let mut bwrap = Command::new("bwrap");
        // The host's root, entry by entry (a bind of / itself would create
        // /.flatpak-info on the host), plus the sandbox's marker file.
        for entry in std::fs::read_dir("/").unwrap() {
            let entry = entry.unwrap();
            let target = Path::new("/").join(entry.file_name());
            let kind = entry.file_type().unwrap();
            if target == Path::new("/.flatpak-info") || target == Path::new("/proc") {
                continue;
            } else if kind.is_symlink() {
                bwrap
                    .arg("--symlink")
                    .arg(std::fs::read_link(&target).unwrap())
                    .arg(&target);
            } else if target == Path::new("/dev") {
                bwrap.args(["--dev-bind", "/dev", "/dev"]);
            } else if kind.is_dir() {
                bwrap.arg("--bind").arg(&target).arg(&target);
            }
        }
        // Like flatpak: a PID namespace of its own, gone with its parent.
        bwrap
            .args(["--unshare-pid", "--die-with-parent", "--proc", "/proc"])
            .arg("--ro-bind")
            .arg(&info)
            .arg("/.flatpak-info");
        let scope = format!("sandboxed-{}", std::process::id());
        let status = bwrap
            .arg("--")
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", CHILD, "--include-ignored", "--nocapture"])
            .env("XDG_DATA_HOME", &data)
            .env(SCOPE, &scope)
            .status()
            .expect("bwrap runs (scripts/test installs bubblewrap)");
        assert!(status.success(), "the test inside the sandbox failed");

        // What the sandboxed process wrote is in its data directory, opened
        // with the secret the portal keeps for im.koine.Koine, and not in the
        // Secret Service.
        assert!(data.join("keyrings/default.keyring").is_file());
        assert_eq!(crate::os::get(&format!("{scope}/password")).unwrap(), None);
        assert_eq!(
            secret_service_items(&[("app_id", "im.koine.Koine")]),
            1,
            "gnome-keyring's portal backend keeps one secret for the app"
        );
    }

    /// How many Secret Service items carry these attributes.
    fn secret_service_items(attributes: &[(&str, &str)]) -> usize {
        use oo7::zbus::{Connection, zvariant::OwnedObjectPath};
        let attributes: std::collections::HashMap<&str, &str> =
            attributes.iter().copied().collect();
        block_on(async {
            let bus = Connection::session().await.unwrap();
            let reply = bus
                .call_method(
                    Some("org.freedesktop.secrets"),
                    "/org/freedesktop/secrets",
                    Some("org.freedesktop.Secret.Service"),
                    "SearchItems",
                    &(attributes,),
                )
                .await
                .unwrap();
            let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
                reply.body().deserialize().unwrap();
            unlocked.len() + locked.len()
        })
    }

    /// Run by the test above, inside bubblewrap.
    #[test]
    #[ignore = "runs inside the sandbox made by inside_a_flatpak_sandbox_secrets_go_through_the_secret_portal"]
    fn inside_the_sandbox() {
        assert!(in_flatpak(), "/.flatpak-info is there");
        assert!(matches!(
            KeyringSecrets::scoped("probe").backend,
            Backend::Portal(_)
        ));
        KeyringSecrets::probe().expect("the Secret portal answers the sandboxed app");
        suite::round_trip_and_scope_isolation(KeyringSecrets::scoped);
        suite::delete_all_removes_every_name_of_the_scope_only(KeyringSecrets::scoped);
        suite::works_inside_tokio_runtimes(KeyringSecrets::scoped);
        let scope = std::env::var(SCOPE).expect("the host names the scope");
        KeyringSecrets::scoped(scope)
            .set("password", &Secret::new("from the sandbox"))
            .unwrap();
    }
}
