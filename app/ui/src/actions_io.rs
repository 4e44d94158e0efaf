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

/// The largest vCard file read (an address book of tens of thousands of
/// people is a few MiB; a bigger file is refused, not read into memory).
const MAX_VCARD: u64 = 32 * 1024 * 1024;

/// Asks the desktop for a vCard file to import.
pub async fn pick_vcard() -> Option<PathBuf> {
    rfd::AsyncFileDialog::new()
        .set_title(crate::fl!("people-import-title"))
        .add_filter("vCard", &["vcf", "vcard"])
        .pick_file()
        .await
        .map(|f| f.path().to_path_buf())
}

/// Asks the desktop where to export the people.
pub async fn pick_export() -> Option<PathBuf> {
    rfd::AsyncFileDialog::new()
        .set_title(crate::fl!("people-export-title"))
        .set_file_name("koine-people.vcf")
        .add_filter("vCard", &["vcf"])
        .save_file()
        .await
        .map(|f| f.path().to_path_buf())
}

/// Whether a file looks like a vCard by its name (a dropped file).
pub fn is_vcard(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("vcf") || e.eq_ignore_ascii_case("vcard"))
}

/// Reads a vCard file, refusing one larger than [`MAX_VCARD`].
pub fn read_vcard(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_VCARD.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_VCARD {
        return Err(crate::fl!("people-vcard-too-large"));
    }
    Ok(text)
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

/// Starts `koine --demo` beside this window (its own simulated profile; the
/// user's profile is not touched).
pub fn launch_demo() {
    let started = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .arg("--demo")
            .stdin(std::process::Stdio::null())
            .spawn()
    });
    if let Err(error) = started {
        tracing::error!(%error, "starting the demo");
    }
}
