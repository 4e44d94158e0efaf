//! Logs go to `<profile>/logs/koine.log`. Secrets are never logged: the
//! engine and plugins only ever log ids and hosts.

use koine_core::Profile;
use std::fs::OpenOptions;
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

/// Starts logging to the profile's log file; the level comes from `KOINE_LOG`
/// (default `info`). Failing to open the log is not fatal.
pub fn init(profile: &Profile) {
    let dir = profile.logs_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let Ok(file) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("koine.log"))
    else {
        return;
    };
    let filter = EnvFilter::try_from_env("KOINE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
