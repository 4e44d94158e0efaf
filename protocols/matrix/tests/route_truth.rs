//! Each event's route is the one it actually took, whatever the room's
//! state says: a plaintext event in an encrypted room was read by the
//! homeserver, and a reaction (never encrypted by Matrix clients) too.

mod support;

use koine_api::{Command, ConversationKey, E2eScheme, Event, LocalId, Visibility};
use support::{Synapse, koine_session, wait_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_events_and_reactions_in_an_encrypted_room_are_not_claimed_encrypted()
-> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = bob.create_room(&[&alice], true, true).await?;
    alice.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let mut koine = koine_session(&server, &alice, &dirs.path().join("koine"))?;
    koine.online().await?;

    // Bob's client ignores the room's encryption: the server reads it.
    let plain = bob.send_text(&room, "sent in the clear").await?;
    let message = wait_text(&mut koine, "sent in the clear").await?;
    assert_eq!(message.remote_id.as_str(), plain);
    assert_eq!(
        message.route.end_to_end.scheme,
        E2eScheme::None,
        "a plaintext event is not end-to-end encrypted: {:?}",
        message.route
    );
    assert_eq!(message.route.hops[0].reads, Visibility::Content);
    message.route.validate()?;

    // Koine's own message is encrypted; its reaction is not.
    let conversation = ConversationKey::new(&room);
    koine
        .command(Command::SendMessage {
            local_id: LocalId::new("rt-1"),
            conversation: conversation.clone(),
            content: koine_api::Content::text("sent encrypted"),
            reply_to: None,
        })
        .await?;
    let (event, route) = acked(&mut koine, "rt-1").await?;
    assert_eq!(route.end_to_end.scheme, E2eScheme::Megolm, "{route:?}");
    koine
        .command(Command::React {
            local_id: LocalId::new("rt-2"),
            conversation,
            target: event,
            key: "👍".into(),
            remove: false,
        })
        .await?;
    let (_, route) = acked(&mut koine, "rt-2").await?;
    assert_eq!(
        route.end_to_end.scheme,
        E2eScheme::None,
        "reactions go in the clear: {route:?}"
    );
    assert_eq!(route.hops[0].reads, Visibility::Content);
    Ok(())
}

async fn acked(
    koine: &mut koine_conformance::RunningSession,
    id: &str,
) -> anyhow::Result<(koine_api::RemoteId, koine_api::Route)> {
    koine
        .wait_for(&format!("{id} acknowledged"), |e| match e {
            Event::SendAcked {
                local_id,
                remote_id,
                route,
            } if local_id.as_str() == id => Some((remote_id.clone(), route.clone())),
            Event::SendFailed { local_id, error } if local_id.as_str() == id => {
                panic!("{id} failed: {error}")
            }
            _ => None,
        })
        .await
}
