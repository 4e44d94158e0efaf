//! End-to-end encryption: encrypted new direct chats, cross-signing, key
//! backup with a recovery key in the keyring, SAS emoji verification.

mod support;

use koine_api::{
    Command, ConversationKind, E2eScheme, Event, PromptAnswer, PromptKind, SecretStore,
    Verification,
};
use std::time::Duration;
use support::{Synapse, keyring_scope, koine_session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_direct_chats_are_encrypted_and_keys_backed_up() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("a");
    let mut session = koine_session(&server, &alice, &dir)?;
    session.online().await?;
    session
        .command(Command::OpenConversation {
            with: bob.address(),
        })
        .await?;
    let conversation = session
        .wait_for("the new direct chat", |e| match e {
            Event::ConversationUpserted(c) if c.peer.as_ref() == Some(&bob.address()) => {
                Some(c.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(conversation.kind, ConversationKind::Direct);
    assert_eq!(
        conversation.route.end_to_end.scheme,
        E2eScheme::Megolm,
        "encrypted from the start"
    );
    assert!(conversation.route.is_end_to_end());

    // Cross-signing identity and key backup exist on the server; the
    // recovery key is in the keyring.
    alice.wait_master_key(&alice.user_id).await?;
    let mut version = None;
    for _ in 0..300 {
        version = alice.backup_version().await?;
        if version.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(version.is_some(), "a key backup version was created");
    let mut key = None;
    for _ in 0..100 {
        key = keyring_scope(&dir).get("matrix-recovery-key")?;
        if key.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key = key.expect("the recovery key is kept in the keyring");
    assert!(
        key.expose().split_whitespace().count() >= 12,
        "a base58 recovery key in groups"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sas_emoji_verification_between_two_koine_accounts() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = alice.create_room(&[&bob], true, true).await?;
    bob.join(&room).await?;
    bob.set_direct(&alice.user_id, &room).await?;
    let dirs = tempfile::tempdir()?;
    let mut a = koine_session(&server, &alice, &dirs.path().join("a"))?;
    let mut b = koine_session(&server, &bob, &dirs.path().join("b"))?;
    a.online().await?;
    b.online().await?;
    alice.wait_master_key(&alice.user_id).await?;
    alice.wait_master_key(&bob.user_id).await?;

    a.command(Command::SetVerified {
        with: bob.address(),
        verified: true,
    })
    .await?;
    let pick = |e: &Event| match e {
        Event::PromptRaised(p) => match &p.kind {
            PromptKind::CompareEmoji { with, emoji } => {
                Some((p.id.clone(), with.clone(), emoji.clone()))
            }
            _ => None,
        },
        _ => None,
    };
    let (a_prompt, a_with, a_emoji) = a.wait_for("alice's emoji", pick).await?;
    let (b_prompt, b_with, b_emoji) = b.wait_for("bob's emoji", pick).await?;
    assert_eq!(a_with, bob.address());
    assert_eq!(b_with, alice.address());
    assert_eq!(a_emoji.len(), 7);
    assert_eq!(a_emoji, b_emoji, "both sides show the same seven emoji");
    a.command(Command::AnswerPrompt {
        prompt: a_prompt,
        answer: PromptAnswer::Confirm,
    })
    .await?;
    b.command(Command::AnswerPrompt {
        prompt: b_prompt,
        answer: PromptAnswer::Confirm,
    })
    .await?;
    let verified = |e: &Event| match e {
        Event::ConversationUpserted(c)
            if c.key.as_str() == room
                && c.route.end_to_end.verification == Verification::Verified =>
        {
            Some(())
        }
        _ => None,
    };
    a.wait_for("alice's route verified", verified).await?;
    b.wait_for("bob's route verified", verified).await?;
    Ok(())
}

/// The recovery key of the key backup.
fn recovery_prompt(e: &Event) -> Option<(koine_api::PromptId, String)> {
    match e {
        Event::PromptRaised(p) => match &p.kind {
            PromptKind::SaveRecoveryKey { key, .. } => {
                Some((p.id.clone(), key.expose().to_owned()))
            }
            _ => None,
        },
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_key_is_shown_until_the_user_says_it_is_saved() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("a");

    // Key backup is set up at the first login, and its key shown.
    let mut session = koine_session(&server, &alice, &dir)?;
    session.online().await?;
    let (_, shown) = session
        .wait_for("the recovery key shown to the user", recovery_prompt)
        .await?;
    let kept = keyring_scope(&dir)
        .get("matrix-recovery-key")?
        .expect("the recovery key is in the keyring");
    assert_eq!(shown, kept.expose(), "the key shown is the backup's key");
    session.stop().await?;

    // Not confirmed: shown again at the next login.
    let mut session = koine_session(&server, &alice, &dir)?;
    session.online().await?;
    let (id, again) = session
        .wait_for("the recovery key shown again", recovery_prompt)
        .await?;
    assert_eq!(again, shown);
    session
        .command(Command::AnswerPrompt {
            prompt: id,
            answer: PromptAnswer::Confirm,
        })
        .await?;
    for _ in 0..100 {
        if keyring_scope(&dir)
            .get("matrix-recovery-key-saved")?
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.stop().await?;

    // Saved: not shown any more.
    let mut session = koine_session(&server, &alice, &dir)?;
    session.online().await?;
    let later = session.drain_for(Duration::from_secs(10)).await;
    assert!(
        later.iter().all(|e| recovery_prompt(e).is_none()),
        "the recovery key was shown again after the user saved it"
    );
    Ok(())
}
