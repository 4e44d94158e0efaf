//! Removing a Matrix account in the engine logs its device out on the
//! homeserver, so the access token left in backups is worthless; with the
//! homeserver down the account is removed all the same, and the engine says
//! the server was not told.

mod support;

use koine_api::{ProtocolId, SecretStore};
use koine_core::engine::ServerSignOut;
use koine_core::paths::Profile;
use koine_core::{Engine, EngineConfig, Registry};
use koine_keyring::KeyringSecrets;
use std::sync::Arc;
use std::time::Duration;
use support::{Synapse, TestUser};

fn engine(dir: &std::path::Path) -> anyhow::Result<Engine> {
    Ok(Engine::open(
        Profile::at(dir),
        Registry::new().with(Arc::new(koine_matrix::Matrix)),
        EngineConfig::default(),
    )?)
}

/// Adds and starts an account for `user`; returns its id and, once the
/// plugin logged in, the access token it keeps in the keyring.
async fn logged_in(
    engine: &Engine,
    server: &Synapse,
    user: &TestUser,
) -> anyhow::Result<(koine_api::AccountId, String)> {
    let record = engine
        .add_account(
            &ProtocolId::new("matrix"),
            &user.user_id,
            server.settings(user),
            Some(user.secret()),
        )
        .await?;
    engine.start(&record.id)?;
    let scope = KeyringSecrets::scoped(record.id.as_str());
    for _ in 0..300 {
        if let Some(saved) = scope.get("matrix-session")? {
            let saved: serde_json::Value = serde_json::from_str(saved.expose())?;
            let token = saved["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            return Ok((record.id, token));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the account never logged in")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_account_logs_the_device_out() -> anyhow::Result<()> {
    let mut server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path())?;

    let (id, token) = logged_in(&engine, &server, &alice).await?;
    assert_eq!(alice.whoami_with(&token).await?, Ok(alice.user_id.clone()));
    let removed = engine.remove_account_reporting(&id).await?;
    assert_eq!(removed, ServerSignOut::Done);
    assert_eq!(
        alice.whoami_with(&token).await?,
        Err("M_UNKNOWN_TOKEN".to_owned()),
        "the old access token is refused"
    );
    assert!(engine.accounts()?.is_empty());
    assert!(!engine.profile().account_dir(id.as_str()).exists());

    // Homeserver down: the account goes anyway, and the engine says the
    // server was not told.
    let (id, token) = logged_in(&engine, &server, &bob).await?;
    server.stop().await?;
    let removed = engine.remove_account_reporting(&id).await?;
    assert!(
        matches!(removed, ServerSignOut::Failed(_)),
        "reported as not signed out: {removed:?}"
    );
    assert!(engine.accounts()?.is_empty());
    assert!(!engine.profile().account_dir(id.as_str()).exists());
    let scope = KeyringSecrets::scoped(id.as_str());
    assert_eq!(scope.get("matrix-session")?, None);
    assert_eq!(scope.get("password")?, None);
    // And that was the truth: the token still works once the server is back.
    server.restart().await?;
    assert_eq!(bob.whoami_with(&token).await?, Ok(bob.user_id.clone()));
    engine.shutdown().await;
    Ok(())
}
