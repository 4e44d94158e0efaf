//! Routes as Koine stores them: encrypted and plaintext rooms, bridges.

mod support;

use koine_api::{
    E2eEnd, E2eScheme, Event, HopKind, Protection, Route, TransportSecurity, Visibility,
};
use serde_json::json;
use support::{Synapse, koine_session, wait_text};

fn conversation_route(event: &Event, room: &str) -> Option<Route> {
    match event {
        Event::ConversationUpserted(c) if c.key.as_str() == room => Some(c.route.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_with_m_bridge_shows_the_bridge_hop() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = bob.create_room(&[&alice], false, false).await?;
    bob.put_state(
        &room,
        "m.bridge",
        "whatsapp/1234",
        json!({"bridgebot": "@whatsappbot:bridges.example", "creator": "@bob:koine.test",
               "protocol": {"id": "whatsapp", "displayname": "WhatsApp"},
               "channel": {"id": "1234"}}),
    )
    .await?;
    alice.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let mut session = koine_session(&server, &alice, &dirs.path().join("a"))?;
    session.online().await?;
    bob.send_text(&room, "hello from the other network").await?;
    let message = wait_text(&mut session, "hello from the other network").await?;
    let route = &message.route;
    route.validate()?;
    let hosts: Vec<_> = route.hosts().collect();
    assert_eq!(
        hosts,
        [
            "koine.test",
            "bridges.example",
            "@whatsappbot:bridges.example"
        ]
    );
    let bridge = &route.hops[2];
    assert_eq!(
        bridge.kind,
        HopKind::Bridge {
            remote_network: "WhatsApp".into()
        }
    );
    assert_eq!(bridge.reads, Visibility::Content);
    assert_eq!(route.hops[1].kind, HopKind::Federation);
    assert_eq!(
        route.end_to_end.scheme,
        E2eScheme::None,
        "the room is not encrypted"
    );
    assert_eq!(
        route.hops[0].reads,
        Visibility::Content,
        "your homeserver reads plaintext rooms"
    );
    assert_eq!(
        route.protection(),
        Protection::Exposed,
        "plain HTTP on loopback"
    );
    // The conversation itself carries the same route.
    let conversation = session
        .log
        .iter()
        .find_map(|e| conversation_route(e, &room))
        .expect("the room was reported");
    assert_eq!(&conversation, route);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_added_later_changes_the_route_and_ends_megolm() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = bob.create_room(&[&alice], true, true).await?;
    alice.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let mut session = koine_session(&server, &alice, &dirs.path().join("a"))?;
    session.online().await?;
    let before = session
        .log
        .iter()
        .find_map(|e| conversation_route(e, &room))
        .expect("the room was reported");
    assert_eq!(before.end_to_end.scheme, E2eScheme::Megolm);
    assert_eq!(before.end_to_end.ends, E2eEnd::RecipientDevices);
    assert_eq!(before.hops[0].reads, Visibility::MetadataOnly);
    assert_eq!(before.hops[0].transport, TransportSecurity::Plaintext);
    assert_eq!(before.protection(), Protection::EndToEndUnverified);

    // The unstable event type of older bridges, with the bot on our server.
    bob.put_state(
        &room,
        "uk.half-shot.bridge",
        "telegram/99",
        json!({"bridgebot": "@telegrambot:koine.test", "protocol": {"id": "telegram"}}),
    )
    .await?;
    let after = session
        .wait_for("the route with the bridge", |e| {
            conversation_route(e, &room).filter(|r| r.hops.len() > 1)
        })
        .await?;
    after.validate()?;
    assert_eq!(
        after.hosts().collect::<Vec<_>>(),
        ["koine.test", "@telegrambot:koine.test"]
    );
    assert_eq!(
        after.hops[1].kind,
        HopKind::Bridge {
            remote_network: "telegram".into()
        }
    );
    assert_eq!(
        after.end_to_end.ends,
        E2eEnd::Hop(1),
        "Megolm ends at the bridge"
    );
    assert!(!after.is_end_to_end());
    Ok(())
}
