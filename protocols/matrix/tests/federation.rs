//! Federation on the route: two Synapse servers on loopback with different
//! server names (`127.0.0.1:<port>`), federating over TLS with a test CA.
//! A Koine user on the first chats with a user on the second; the route says
//! client → their homeserver → federation → the other homeserver, and
//! messages flow both ways.

mod support;

use koine_api::{Command, Content, ConversationKey, HopKind, LocalId};
use support::{Synapse, koine_session, wait_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_across_two_homeservers_shows_the_federation_hop() -> anyhow::Result<()> {
    let certs = tempfile::tempdir()?;
    let tls = koine_tls::test_ca::TestCa::create(certs.path())?;
    let home = Synapse::start_federating(&tls).await?;
    let remote = Synapse::start_federating(&tls).await?;
    assert_ne!(home.server_name(), remote.server_name());
    let alice = home.register("alice").await?;
    let bob = remote.register("bob").await?;
    assert!(alice.user_id.ends_with(home.server_name()));
    assert!(bob.user_id.ends_with(remote.server_name()));

    // Alice invites Bob across servers; Bob joins through his own server.
    let room = alice.create_room(&[&bob], false, false).await?;
    bob.join(&room).await?;

    let dirs = tempfile::tempdir()?;
    let mut session = koine_session(&home, &alice, &dirs.path().join("a"))?;
    session.online().await?;

    // Bob → Alice, over federation.
    bob.send_text(&room, "hello from the other server").await?;
    let message = wait_text(&mut session, "hello from the other server").await?;
    assert_eq!(message.sender, bob.address());
    let route = &message.route;
    route.validate()?;
    let hosts: Vec<_> = route.hosts().collect();
    assert_eq!(hosts, [home.server_name(), remote.server_name()]);
    assert_eq!(route.hops[0].kind, HopKind::ClientLink);
    assert_eq!(route.hops[1].kind, HopKind::Federation);

    // Alice → Bob, over federation.
    session
        .command(Command::SendMessage {
            local_id: LocalId::new("back"),
            conversation: ConversationKey::new(room.as_str()),
            content: Content::text("and back to you"),
            reply_to: None,
        })
        .await?;
    let sender = bob.wait_text(&room, "and back to you").await?;
    assert_eq!(sender, alice.user_id);
    Ok(())
}
