//! The I/O behind the composer's extras: the desktop's file chooser (the
//! XDG portal, which also works inside Flatpak) and reading what was picked.

use koine_api::Attachment;
use std::path::PathBuf;

/// Asks the desktop for files; `Ok(vec![])` when the user cancels.
pub async fn pick_files() -> Result<Vec<Attachment>, String> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title(crate::fl!("attach-title"))
        .pick_files()
        .await;
    let paths: Vec<PathBuf> = picked
        .unwrap_or_default()
        .iter()
        .map(|f| f.path().to_path_buf())
        .collect();
    read(paths).await
}

/// Reads the files' names, types and sizes (off the window's thread).
pub async fn read(paths: Vec<PathBuf>) -> Result<Vec<Attachment>, String> {
    tokio::task::spawn_blocking(move || {
        paths
            .iter()
            .map(|p| koine_core::attachment::from_path(p).map_err(|e| e.to_string()))
            .collect()
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Opens a web page with the desktop's handler (`xdg-open`, which goes
/// through the portal inside Flatpak; `explorer` on Windows; `open` on
/// macOS). Failures are logged: the page's address stays on screen.
pub async fn open_url(url: String) {
    let program = if cfg!(windows) {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = tokio::task::spawn_blocking(move || {
        std::process::Command::new(program)
            .arg(&url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|_| ())
    })
    .await;
    if let Ok(Err(error)) = spawned {
        tracing::warn!(%error, program, "could not open the browser");
    }
}
