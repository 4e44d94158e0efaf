//! Password login, session restore from the keyring, logout.

mod support;

use koine_api::{SecretStore, SessionError, TransportSecurity};
use koine_conformance::SessionEnd;
use std::sync::Arc;
use support::{Synapse, keyring_scope, koine_session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_restore_and_logout() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("alice");

    // First run: password login, a new device.
    let mut session = koine_session(&server, &alice, &dir)?;
    let link = session.online().await?;
    assert_eq!(link.host, support::SERVER_NAME);
    assert_eq!(
        link.transport,
        TransportSecurity::Plaintext,
        "loopback tests use plain HTTP"
    );
    assert!(matches!(
        session.stop().await?,
        SessionEnd::Returned(Ok(()))
    ));
    let devices = alice.devices().await?;
    assert_eq!(devices.len(), 2, "registration device + Koine: {devices:?}");

    // The session and the store passphrase are in the keyring, not in files.
    let secrets = keyring_scope(&dir);
    let saved = secrets
        .get("matrix-session")?
        .expect("session in the keyring");
    let passphrase = secrets
        .get("matrix-store-passphrase")?
        .expect("passphrase in the keyring");
    for entry in walk(&dir) {
        let bytes =
            std::fs::read(&entry).map_err(|e| anyhow::anyhow!("{}: {e}", entry.display()))?;
        for secret in [saved.expose(), passphrase.expose()] {
            let token_part = secret.get(..24).unwrap_or(secret);
            assert!(
                !bytes
                    .windows(token_part.len())
                    .any(|w| w == token_part.as_bytes()),
                "{} holds a secret in clear",
                entry.display()
            );
        }
    }
    let access_token = serde_json::from_str::<serde_json::Value>(saved.expose())?["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    for entry in walk(&dir) {
        let bytes =
            std::fs::read(&entry).map_err(|e| anyhow::anyhow!("{}: {e}", entry.display()))?;
        assert!(
            !bytes
                .windows(access_token.len())
                .any(|w| w == access_token.as_bytes()),
            "{} holds the access token in clear",
            entry.display()
        );
    }

    // Second run: restored from the keyring, the same device, no new login.
    let mut session = koine_session(&server, &alice, &dir)?;
    session.online().await?;
    assert!(matches!(
        session.stop().await?,
        SessionEnd::Returned(Ok(()))
    ));
    assert_eq!(
        alice.devices().await?,
        devices,
        "a restore must not create a device"
    );

    // Logout: the device is gone on the server, the secrets and store too.
    let secrets: Arc<dyn SecretStore> = Arc::new(keyring_scope(&dir));
    koine_matrix::account::logout(&server.settings(&alice), secrets.clone(), &dir).await?;
    assert_eq!(
        alice.devices().await?.len(),
        1,
        "only the registration device is left"
    );
    assert!(secrets.get("matrix-session")?.is_none());
    assert!(secrets.get("matrix-store-passphrase")?.is_none());
    assert!(!dir.join("matrix-store").exists());
    Ok(())
}

/// One device of the account is driven by one session at a time: a second
/// session on the same data dir (another process on the same profile) is
/// refused instead of syncing and encrypting beside the first; once the
/// first ended, a new one takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_on_the_same_device_is_refused() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let carol = server.register("carol").await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("carol");
    let mut first = koine_session(&server, &carol, &dir)?;
    first.online().await?;
    let mut second = koine_session(&server, &carol, &dir)?;
    let end = second.ended_without_online().await?;
    assert!(
        matches!(end, SessionEnd::Returned(Err(SessionError::Storage(_)))),
        "{end:?}"
    );
    assert!(matches!(first.stop().await?, SessionEnd::Returned(Ok(()))));
    let mut third = koine_session(&server, &carol, &dir)?;
    third.online().await?;
    assert!(matches!(third.stop().await?, SessionEnd::Returned(Ok(()))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_falls_back_to_the_password() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let bob = server.register("bob").await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("bob");
    let mut session = koine_session(&server, &bob, &dir)?;
    session.online().await?;
    assert!(matches!(
        session.stop().await?,
        SessionEnd::Returned(Ok(()))
    ));
    // Log the Koine device out behind Koine's back.
    let secrets = keyring_scope(&dir);
    let saved: serde_json::Value =
        serde_json::from_str(secrets.get("matrix-session")?.expect("session").expose())?;
    let token = saved["access_token"].as_str().expect("token");
    reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/logout", server.url()))
        .bearer_auth(token)
        .json(&serde_json::json!({}))
        .send()
        .await?
        .error_for_status()?;
    let mut session = koine_session(&server, &bob, &dir)?;
    session.online().await?;
    let again: serde_json::Value =
        serde_json::from_str(secrets.get("matrix-session")?.expect("session").expose())?;
    assert_ne!(
        again["access_token"], saved["access_token"],
        "a new login, a new token"
    );
    assert!(matches!(
        session.stop().await?,
        SessionEnd::Returned(Ok(()))
    ));
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
