//! Interop with an independent implementation: matrix-nio (Python, with its
//! e2e extra) and Koine exchange Megolm-encrypted messages both ways.

mod support;

use koine_api::{Command, Content, ConversationKey, E2eScheme, Event, LocalId};
use std::process::Stdio;
use std::time::Duration;
use support::{PASSWORD, Synapse, koine_session, wait_text};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nio_and_koine_exchange_encrypted_messages() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = bob.create_room(&[&alice], true, true).await?;
    alice.join(&room).await?;
    alice.set_direct(&bob.user_id, &room).await?;
    let dirs = tempfile::tempdir()?;
    let mut koine = koine_session(&server, &alice, &dirs.path().join("koine"))?;
    koine.online().await?;

    let store = dirs.path().join("nio");
    std::fs::create_dir_all(&store)?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/nio_peer.py");
    let mut nio = tokio::process::Command::new(support::python())
        .arg(script)
        .args([&server.url(), &bob.user_id, PASSWORD, &room])
        .arg(&store)
        .args(["hello from nio", "hello from koine"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(nio.stdout.take().expect("stdout")).lines();
    let sent = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await??;
    assert!(
        sent.as_deref().is_some_and(|l| l.starts_with("SENT $")),
        "nio sent: {sent:?}"
    );

    // nio → Koine, decrypted, on a Megolm route.
    let message = wait_text(&mut koine, "hello from nio").await?;
    assert_eq!(message.route.end_to_end.scheme, E2eScheme::Megolm);
    assert!(message.route.is_end_to_end());

    // Koine → nio.
    let local_id = LocalId::new("interop-1");
    koine
        .command(Command::SendMessage {
            local_id: local_id.clone(),
            conversation: ConversationKey::new(&room),
            content: Content::text("hello from koine"),
            reply_to: None,
        })
        .await?;
    koine
        .wait_for("the send acknowledged", |e| match e {
            Event::SendAcked { local_id: id, .. } if *id == local_id => Some(()),
            _ => None,
        })
        .await?;
    let mut got = None;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(90), lines.next_line()).await
    {
        if line.starts_with("GOT ") {
            got = Some(line);
            break;
        }
        eprintln!("nio: {line}");
    }
    assert_eq!(
        got.as_deref(),
        Some("GOT hello from koine"),
        "nio decrypted Koine's message"
    );
    assert!(nio.wait().await?.success());
    Ok(())
}
