//! Roster and subscriptions on a real Prosody: a subscription request becomes
//! a Koine request, accepting makes both sides mutual contacts with presence,
//! blocking stops a sender; and the route gets a federation hop only when the
//! other side's domain differs.

mod support;

use koine_api::{
    Address, Availability, Command, Content, ConversationKey, Decision, Event, HopKind, LocalId,
    RequestKind,
};
use std::time::Duration;
use support::{OTHER_DOMAIN, Prosody, client};

#[tokio::test(flavor = "multi_thread")]
async fn subscription_request_accept_presence_and_block() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let (sd, pd, jd) = server.account("dave");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    let mut d = client::start(sd, pd, dir.path().join("d"));
    a.online().await;
    b.online().await;
    d.online().await;

    a.send(Command::AddContact {
        address: Address::Jid(jb.clone()),
        name: Some("Bob".into()),
    })
    .await;
    a.wait_for("bob in alice's roster", |e| {
        matches!(e, Event::ContactUpdated(c) if c.address == Address::Jid(jb.clone()) && c.name.as_deref() == Some("Bob"))
    })
    .await;
    let request = match b
        .wait_for("request", |e| matches!(e, Event::RequestReceived(_)))
        .await
    {
        Event::RequestReceived(r) => r,
        _ => unreachable!(),
    };
    assert_eq!(request.kind, RequestKind::ContactRequest);
    assert_eq!(request.from, Address::Jid(ja.clone()));
    b.send(Command::AnswerRequest {
        request: request.id.clone(),
        decision: Decision::Accept,
    })
    .await;
    b.wait_for(
        "resolved",
        |e| matches!(e, Event::RequestResolved(id) if *id == request.id),
    )
    .await;
    // Bob's subscription back is approved by Alice's client on its own,
    // since she asked first: both end mutual.
    a.wait_for("mutual on alice's side", |e| {
        matches!(e, Event::ContactUpdated(c) if c.address == Address::Jid(jb.clone()) && c.mutual)
    })
    .await;
    b.wait_for("mutual on bob's side", |e| {
        matches!(e, Event::ContactUpdated(c) if c.address == Address::Jid(ja.clone()) && c.mutual)
    })
    .await;
    assert!(
        !a.seen
            .iter()
            .any(|e| matches!(e, Event::RequestReceived(_))),
        "alice is not asked about bob's request: she asked first"
    );
    a.wait_for("bob online", |e| {
        matches!(e, Event::PresenceChanged { address, availability: Availability::Online, .. } if *address == Address::Jid(jb.clone()))
    })
    .await;
    b.wait_for("alice online", |e| {
        matches!(e, Event::PresenceChanged { address, availability: Availability::Online, .. } if *address == Address::Jid(ja.clone()))
    })
    .await;

    a.stop().await.expect("stop");

    // Dave asks; Bob blocks him: Dave's messages no longer reach Bob.
    d.send(Command::AddContact {
        address: Address::Jid(jb.clone()),
        name: None,
    })
    .await;
    let request = match b
        .wait_for(
            "dave's request",
            |e| matches!(e, Event::RequestReceived(r) if r.from == Address::Jid(jd.clone())),
        )
        .await
    {
        Event::RequestReceived(r) => r,
        _ => unreachable!(),
    };
    b.send(Command::AnswerRequest {
        request: request.id,
        decision: Decision::Block,
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.send(Command::SendMessage {
        local_id: LocalId::new("d-1"),
        conversation: ConversationKey::new(jb.as_str()),
        content: Content::text("let me in"),
        reply_to: None,
    })
    .await;
    d.wait_for("ack", |e| matches!(e, Event::SendAcked { .. }))
        .await;
    b.drain(1500).await;
    assert!(
        !b.seen
            .iter()
            .any(|e| matches!(e, Event::MessageReceived(m) if m.content.text == "let me in")),
        "a blocked sender's message must not arrive"
    );
    b.stop().await.expect("stop");
    d.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn federation_hop_only_for_another_domain() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let (se, pe, je) = server.account_on("eve", OTHER_DOMAIN);
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    let mut e = client::start(se, pe, dir.path().join("e"));
    a.online().await;
    b.online().await;
    let eve_link = e.online().await;
    assert_eq!(eve_link.host, OTHER_DOMAIN);

    for (to, id) in [(&jb, "to-bob"), (&je, "to-eve")] {
        a.send(Command::SendMessage {
            local_id: LocalId::new(id),
            conversation: ConversationKey::new(to.as_str()),
            content: Content::text(id),
            reply_to: None,
        })
        .await;
    }
    let route_of = |events: &[Event], id: &str| {
        events.iter().find_map(|e| match e {
            Event::SendAcked {
                local_id, route, ..
            } if local_id.as_str() == id => Some(route.clone()),
            _ => None,
        })
    };
    a.wait_for(
        "ack to eve",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "to-eve"),
    )
    .await;
    a.wait_for(
        "ack to bob",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "to-bob"),
    )
    .await;
    let to_bob = route_of(&a.seen, "to-bob").expect("route");
    let to_eve = route_of(&a.seen, "to-eve").expect("route");
    assert_eq!(to_bob.hosts().collect::<Vec<_>>(), [ja.domain()]);
    assert_eq!(
        to_eve.hosts().collect::<Vec<_>>(),
        [ja.domain(), OTHER_DOMAIN]
    );
    assert_eq!(to_eve.hops[1].kind, HopKind::Federation);
    assert_eq!(to_eve.validate(), Ok(()));

    let got = e
        .wait_for(
            "eve receives",
            |ev| matches!(ev, Event::MessageReceived(m) if m.content.text == "to-eve"),
        )
        .await;
    let Event::MessageReceived(m) = got else {
        unreachable!()
    };
    assert_eq!(
        m.route.hosts().collect::<Vec<_>>(),
        [OTHER_DOMAIN, ja.domain()]
    );
    assert_eq!(m.route.hops[1].kind, HopKind::Federation);
    // The conversation carries the same route.
    e.wait_for("conversation", |ev| {
        matches!(ev, Event::ConversationUpserted(c) if c.key.as_str() == ja.as_str() && c.route.hops.len() == 2)
    })
    .await;
    for c in [a, b, e] {
        c.stop().await.expect("stop");
    }
}
