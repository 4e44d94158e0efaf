//! Signing in on the homeserver's web page: Synapse with an OpenID Connect
//! provider (both on loopback); the test plays the browser.

mod support;

use koine_api::{Command, Event, PromptAnswer, PromptId, PromptKind, SecretStore, Settings};
use koine_conformance::{RunningSession, SessionEnd, TestAccount};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::oidc::{Browser, PROVIDER_ID, Provider};
use support::{Synapse, keyring_scope};

/// A session for `user_id` with no password.
fn passwordless(server: &Synapse, user_id: &str, dir: &Path) -> anyhow::Result<RunningSession> {
    let protocol: Arc<dyn koine_api::Protocol> = Arc::new(koine_matrix::Matrix);
    let mut settings = Settings::default();
    settings.set("user_id", user_id);
    settings.set("homeserver", server.url());
    let account = TestAccount {
        settings,
        secret: None,
        address: koine_api::Address::Mxid(koine_api::Mxid::parse(user_id)?),
    };
    RunningSession::start(&protocol, &account, dir, Duration::from_secs(60))
}

/// Waits for the sign-in prompt; returns its id and the page to open.
async fn sign_in_prompt(session: &mut RunningSession) -> anyhow::Result<(PromptId, String)> {
    session
        .wait_for("the sign-in prompt", |e| match e {
            Event::PromptRaised(p) => match &p.kind {
                PromptKind::SignInInBrowser { url, .. } => Some((p.id.clone(), url.clone())),
                _ => None,
            },
            _ => None,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_through_the_browser_and_restores_without_it() -> anyhow::Result<()> {
    let provider = Provider::start().await?;
    let server = Synapse::start_with_sso(&provider).await?;
    let user_id = format!("@carol:{}", server.server_name());

    // The server's offer, as the plugin reports it.
    let mut settings = Settings::default();
    settings.set("user_id", &user_id);
    settings.set("homeserver", server.url());
    let account = koine_matrix::account::AccountSettings::parse(&settings)?;
    let flows = koine_matrix::flows::login_flows(&account).await?;
    assert!(flows.password && flows.token, "{flows:?}");
    let providers = flows.sso.clone().expect("m.login.sso offered");
    assert_eq!(providers.len(), 1, "{flows:?}");
    assert_eq!(providers[0].id, PROVIDER_ID);
    assert_eq!(providers[0].name, "Test provider");

    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("carol");
    let mut session = passwordless(&server, &user_id, &dir)?;
    let (_, url) = sign_in_prompt(&mut session).await?;
    assert!(
        url.starts_with(&format!("{}/_matrix/client/", server.url())),
        "the prompt opens the homeserver's SSO page: {url}"
    );
    assert!(
        url.contains(PROVIDER_ID),
        "straight to the only provider: {url}"
    );

    let landed = Browser::new()?.sign_in(&url, "carol").await?;
    assert_eq!(landed.url.host_str(), Some("127.0.0.1"));
    assert!(
        landed.status.is_success(),
        "{} {}",
        landed.status,
        landed.body
    );
    assert!(
        landed.body.contains("Koine"),
        "Koine's own page ends the sign-in: {}",
        landed.body
    );
    session.online().await?;

    // The session is in the keyring, and the server knows its token as carol's.
    let saved = keyring_scope(&dir)
        .get("matrix-session")?
        .expect("session in the keyring");
    let saved: serde_json::Value = serde_json::from_str(saved.expose())?;
    assert_eq!(saved["user_id"], user_id.as_str());
    let token = saved["access_token"].as_str().expect("token").to_owned();
    let device = saved["device_id"].as_str().expect("device").to_owned();
    let someone = server.register("someone").await?;
    assert_eq!(someone.whoami_with(&token).await?, Ok(user_id.clone()));
    // An account without a password gets a cross-signing identity too.
    someone.wait_master_key(&user_id).await?;
    assert!(matches!(
        session.stop().await?,
        SessionEnd::Returned(Ok(()))
    ));

    // Next start: restored from the keyring, no browser, the same device.
    let mut session = passwordless(&server, &user_id, &dir)?;
    session.online().await?;
    assert!(
        !session
            .log
            .iter()
            .any(|e| matches!(e, Event::PromptRaised(_))),
        "a restored session asks for nothing: {:?}",
        session.log
    );
    let saved = keyring_scope(&dir)
        .get("matrix-session")?
        .expect("session in the keyring");
    let saved: serde_json::Value = serde_json::from_str(saved.expose())?;
    assert_eq!(saved["device_id"], device.as_str());
    session.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_or_signing_in_as_someone_else_fails() -> anyhow::Result<()> {
    let provider = Provider::start().await?;
    let server = Synapse::start_with_sso(&provider).await?;
    let dirs = tempfile::tempdir()?;

    // Reject on the prompt: the session ends, refused.
    let dave = format!("@dave:{}", server.server_name());
    let mut session = passwordless(&server, &dave, &dirs.path().join("dave"))?;
    let (id, _) = sign_in_prompt(&mut session).await?;
    session
        .command(Command::AnswerPrompt {
            prompt: id,
            answer: PromptAnswer::Reject,
        })
        .await?;
    match session.ended_without_online().await? {
        SessionEnd::Returned(Err(koine_api::SessionError::AuthFailed)) => {}
        other => panic!("cancelled sign-in: {other:?}"),
    }

    // Signed in as frank for erin's account: refused, nothing kept.
    let erin = format!("@erin:{}", server.server_name());
    let dir = dirs.path().join("erin");
    let mut session = passwordless(&server, &erin, &dir)?;
    let (_, url) = sign_in_prompt(&mut session).await?;
    Browser::new()?.sign_in(&url, "frank").await?;
    match session.ended_without_online().await? {
        SessionEnd::Returned(Err(koine_api::SessionError::AuthFailed)) => {}
        other => panic!("wrong account: {other:?}"),
    }
    assert!(
        keyring_scope(&dir).get("matrix-session")?.is_none(),
        "nothing kept for a refused sign-in"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_password_or_sso_the_account_is_refused() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let user = server.register("gina").await?;
    let account = koine_matrix::account::AccountSettings::parse(&server.settings(&user))?;
    let flows = koine_matrix::flows::login_flows(&account).await?;
    assert!(flows.password && flows.sso.is_none(), "{flows:?}");

    let dirs = tempfile::tempdir()?;
    let mut session = passwordless(&server, &user.user_id, &dirs.path().join("gina"))?;
    match session.ended_without_online().await? {
        SessionEnd::Returned(Err(koine_api::SessionError::AuthFailed)) => {}
        other => panic!("no way to sign in: {other:?}"),
    }
    assert!(
        !session
            .log
            .iter()
            .any(|e| matches!(e, Event::PromptRaised(_))),
        "no prompt without SSO"
    );
    Ok(())
}
