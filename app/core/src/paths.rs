//! Where a profile lives.
//!
//! Order: an explicit directory (`--profile DIR`), then `KOINE_HOME`, then the
//! platform's data directory (`~/.local/share/koine` on Linux,
//! `%APPDATA%\Koine\Koine\data` on Windows). Tests and portable installs pass
//! a directory and never touch the real home.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the profile directory.
pub const HOME_ENV: &str = "KOINE_HOME";

/// A profile directory and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    root: PathBuf,
}

/// No profile directory could be determined.
#[derive(Debug, thiserror::Error)]
#[error("no profile directory: pass --profile DIR or set KOINE_HOME")]
pub struct NoProfileDir;

impl Profile {
    /// Resolves the profile directory (it is created on [`Profile::ensure`]).
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, NoProfileDir> {
        if let Some(dir) = explicit {
            return Ok(Self::at(dir));
        }
        if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::at(Path::new(&dir)));
        }
        directories::ProjectDirs::from("im", "koine", "Koine")
            .map(|dirs| Self::at(dirs.data_dir()))
            .ok_or(NoProfileDir)
    }

    /// A profile at exactly this directory.
    pub fn at(dir: &Path) -> Self {
        Self {
            root: dir.to_path_buf(),
        }
    }

    /// Creates the directory tree if missing (private to the user on Unix).
    pub fn ensure(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join("accounts"))?;
        std::fs::create_dir_all(self.logs_dir())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    /// The profile directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The history database.
    pub fn database(&self) -> PathBuf {
        self.root.join("koine.sqlite3")
    }

    /// The keyring scope of the history's key, `profile-<id>`. The id (no
    /// secret) is kept in `database.id` and made on first use, so that each
    /// profile has its own key and a moved profile keeps it.
    pub fn database_key_scope(&self) -> std::io::Result<String> {
        let file = self.root.join("database.id");
        let id = match std::fs::read_to_string(&file) {
            Ok(text) => text.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                std::fs::write(&file, format!("{id}\n"))?;
                id
            }
            Err(e) => return Err(e),
        };
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a profile id", file.display()),
            ));
        }
        Ok(format!("profile-{id}"))
    }

    /// Log files.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The settings file.
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("settings.toml")
    }

    /// A plugin's private directory for one account.
    pub fn account_dir(&self, account: &str) -> PathBuf {
        self.root.join("accounts").join(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_directory_wins() {
        let p = Profile::resolve(Some(Path::new("/tmp/x"))).expect("resolves");
        assert_eq!(p.root(), Path::new("/tmp/x"));
        assert_eq!(p.database(), Path::new("/tmp/x/koine.sqlite3"));
        assert_eq!(p.account_dir("a1"), Path::new("/tmp/x/accounts/a1"));
    }

    #[test]
    fn the_key_scope_is_made_once_and_refuses_a_damaged_id() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = Profile::at(dir.path());
        let scope = p.database_key_scope().expect("made");
        assert!(scope.starts_with("profile-"));
        assert_eq!(p.database_key_scope().expect("kept"), scope);
        std::fs::write(dir.path().join("database.id"), "../etc").expect("write");
        assert!(p.database_key_scope().is_err());
    }
}
