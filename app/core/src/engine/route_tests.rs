//! Route choice: the order of routes, the downgrade prompt, consent once or
//! always, and replies by the route the message came from.

use super::test_net::{Nets, Push, message, route, wait};
use super::*;
use crate::people::PersonId;
use koine_api::{
    Conversation, ConversationKind, Hop, HopKind, Protection, Route, TransportSecurity,
    Verification,
};

fn addr(text: &str) -> Address {
    Address::parse_any(text).expect("address")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A conversation whose last reported route is `route`.
fn conversation_with(n: &Nets, account: &AccountId, peer: &str, route: Route) {
    let c = Conversation {
        key: ConversationKey::new(peer),
        title: peer.into(),
        kind: ConversationKind::Direct,
        peer: Some(addr(peer)),
        route,
        read_only: false,
    };
    n.engine
        .with_store(|s| s.upsert_conversation(account, &c))
        .expect("conversation");
}

#[test]
fn routes_are_ordered_by_protection_then_directness() {
    rt().block_on(async {
        let n = Nets::new();
        let accounts = [
            n.account("sms", "phone").await,
            n.account("chat", "bridged@chat.example").await,
            n.account("chat", "me@chat.example").await,
            n.account("gk", "+33600000001").await,
            n.account("gk", "+33600000002").await,
        ];
        let [sms, bridged, chat, gk_unverified, gk_verified] = &accounts;
        let mut verified = route(HopKind::ClientLink, true);
        verified.end_to_end.verification = Verification::Verified;
        let mut via_bridge = route(HopKind::ClientLink, false);
        via_bridge.hops.push(Hop::new(
            "bridge.example",
            HopKind::Bridge {
                remote_network: "whatsapp".into(),
            },
            TransportSecurity::Unknown,
        ));
        conversation_with(&n, sms, "+33612345678", route(HopKind::Carrier, false));
        conversation_with(&n, bridged, "bob@bridge.example", via_bridge);
        conversation_with(
            &n,
            chat,
            "bob@chat.example",
            route(HopKind::ClientLink, false),
        );
        conversation_with(
            &n,
            gk_unverified,
            "+33612345678",
            route(HopKind::ClientLink, true),
        );
        conversation_with(&n, gk_verified, "+33612345678", verified);
        let addresses = [
            (sms, "+33612345678"),
            (bridged, "bob@bridge.example"),
            (chat, "bob@chat.example"),
            (gk_unverified, "+33612345678"),
            (gk_verified, "+33612345678"),
        ]
        .map(|(a, x)| (Some((*a).clone()), addr(x)));
        let bob = n.engine.create_person("Bob", &addresses).expect("person");

        let routes = n.engine.routes_to(bob).expect("routes");
        let order: Vec<(&AccountId, Protection, bool)> = routes
            .iter()
            .map(|r| (&r.account, r.protection, r.bridged))
            .collect();
        assert_eq!(
            order,
            vec![
                (gk_verified, Protection::EndToEndVerified, false),
                (gk_unverified, Protection::EndToEndUnverified, false),
                (chat, Protection::TransportOnly, false),
                (bridged, Protection::TransportOnly, true),
                (sms, Protection::Exposed, false),
            ]
        );
        let best = n
            .engine
            .choose_route(bob, &RouteSelection::Best)
            .expect("choice");
        assert_eq!(&best.chosen.account, gk_verified);
        assert!(!best.needs_consent_for_downgrade);
        assert_eq!(best.alternatives.len(), 4);
        for (account, downgrade) in [
            (gk_unverified, true),
            (chat, true),
            (bridged, true),
            (sms, true),
            (gk_verified, false),
        ] {
            let c = n
                .engine
                .choose_route(bob, &RouteSelection::Via(account.clone()))
                .expect("choice");
            assert_eq!(c.needs_consent_for_downgrade, downgrade, "{account}");
        }
    });
}

async fn gatekeeper_and_sms_person(n: &Nets) -> (AccountId, AccountId, PersonId) {
    let gk = n.account("gk", "+33600000001").await;
    let sms = n.account("sms", "phone").await;
    let bob = n
        .engine
        .create_person(
            "Bob",
            &[
                (Some(sms.clone()), addr("+33612345678")),
                (Some(gk.clone()), addr("+33612345678")),
            ],
        )
        .expect("person");
    n.start(&gk).await;
    n.start(&sms).await;
    (gk, sms, bob)
}

#[test]
fn a_downgrade_to_sms_is_refused_without_consent_and_sent_with_it() {
    rt().block_on(async {
        let n = Nets::new();
        let (gk, sms, bob) = gatekeeper_and_sms_person(&n).await;
        let e = &n.engine;
        let choice = e.choose_route(bob, &RouteSelection::Best).expect("choice");
        assert_eq!(choice.chosen.account, gk, "end-to-end before SMS");
        assert!(choice.chosen.estimated);
        assert_eq!(choice.alternatives.len(), 1);
        assert_eq!(choice.alternatives[0].account, sms);
        assert_eq!(choice.alternatives[0].protection, Protection::Exposed);

        let via_sms = RouteSelection::Via(sms.clone());
        let refused = e
            .send_to_person(bob, &via_sms, Content::text("by sms?"), DowngradeConsent::NotGiven)
            .await;
        assert!(
            matches!(refused, Err(EngineError::DowngradeNeedsConsent { ref account, protection: Protection::Exposed, .. }) if account == &sms),
            "{refused:?}"
        );
        assert_eq!(e.outbox_len().expect("outbox"), 0, "nothing queued");

        let mut rx = e.subscribe();
        let sent = e
            .send_to_person(bob, &via_sms, Content::text("once"), DowngradeConsent::Once)
            .await
            .expect("sent once");
        assert_eq!(sent.route.account, sms);
        wait(&mut rx, "ack", |ev| matches!(ev, EngineEvent::MessageUpdated { message, .. } if message.id == sent.message && message.route.is_some())).await;
        assert!(
            e.choose_route(bob, &via_sms).expect("choice").needs_consent_for_downgrade,
            "once is once"
        );
        e.send_to_person(bob, &via_sms, Content::text("always"), DowngradeConsent::Always)
            .await
            .expect("sent");
        let again = e.choose_route(bob, &via_sms).expect("choice");
        assert!(!again.needs_consent_for_downgrade, "allowed for Bob from now on");
        assert!(again.chosen.allowed);
        e.send_to_person(bob, &RouteSelection::Best, Content::text("best"), DowngradeConsent::NotGiven)
            .await
            .expect("best needs no consent");
        for text in ["once", "always", "best"] {
            wait_sent(&n, text).await;
        }
        let sent: Vec<(AccountId, String)> = lock(&n.log.sent)
            .iter()
            .map(|(a, _, t)| (a.clone(), t.clone()))
            .collect();
        assert!(sent.contains(&(sms.clone(), "once".into())));
        assert!(sent.contains(&(sms.clone(), "always".into())));
        assert!(sent.contains(&(gk.clone(), "best".into())));
        assert!(!sent.iter().any(|(_, t)| t == "by sms?"));
    });
}

async fn wait_sent(n: &Nets, text: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !lock(&n.log.sent).iter().any(|(_, _, t)| t == text) {
        assert!(tokio::time::Instant::now() < deadline, "{text} never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_reply_goes_back_by_the_route_the_message_came_from_after_consent() {
    rt().block_on(async {
        let n = Nets::new();
        let (gk, sms, bob) = gatekeeper_and_sms_person(&n).await;
        let e = &n.engine;
        let mut rx = e.subscribe();
        let m = message("+33612345678", "s1", "hi by sms", HopKind::Carrier, false);
        n.push.send((sms.clone(), Push::Message(m))).expect("push");
        let EngineEvent::MessageStored {
            message: stored, ..
        } = wait(&mut rx, "sms stored", |ev| {
            matches!(ev, EngineEvent::MessageStored { .. })
        })
        .await
        else {
            unreachable!()
        };
        let history = e.person_history(bob, None, 50).expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].account, sms);
        assert_eq!(history[0].protocol.as_str(), "sms");
        assert_eq!(
            history[0].message.route.as_ref().map(Route::protection),
            Some(Protection::Exposed)
        );

        let reply = RouteSelection::ReplyTo(stored.id);
        let choice = e.choose_route(bob, &reply).expect("choice");
        assert_eq!(choice.chosen.account, sms, "the reply goes back by SMS");
        assert!(
            choice.needs_consent_for_downgrade,
            "but SMS is a downgrade from gk"
        );
        assert_eq!(choice.alternatives[0].account, gk);
        assert!(matches!(
            e.send_to_person(bob, &reply, Content::text("r"), DowngradeConsent::NotGiven)
                .await,
            Err(EngineError::DowngradeNeedsConsent { .. })
        ));
        let sent = e
            .send_to_person(bob, &reply, Content::text("reply"), DowngradeConsent::Once)
            .await
            .expect("reply");
        assert_eq!(sent.route.account, sms);
        let stored = e.with_store(|s| s.message(sent.message)).expect("stored");
        assert_eq!(stored.reply_to, Some(RemoteId::new("s1")));
        // Back by the route a message came, without replying to it: the
        // window's plain message in a chat with a person is not a quote.
        let back = RouteSelection::CameBy(stored.id);
        let plain = e
            .send_to_person(bob, &back, Content::text("plain"), DowngradeConsent::Once)
            .await
            .expect("plain");
        assert_eq!(plain.route.account, sms);
        let plain = e.with_store(|s| s.message(plain.message)).expect("stored");
        assert_eq!(plain.reply_to, None, "not sent as a reply");
        // Both networks' history, in time order.
        let gk_msg = message("+33612345678", "g1", "hi by gk", HopKind::ClientLink, true);
        n.push
            .send((gk.clone(), Push::Message(gk_msg)))
            .expect("push");
        wait(
            &mut rx,
            "gk stored",
            |ev| matches!(ev, EngineEvent::MessageStored { account, .. } if account == &gk),
        )
        .await;
        let history = e.person_history(bob, None, 50).expect("history");
        let texts: Vec<&str> = history
            .iter()
            .map(|h| h.message.content.text.as_str())
            .collect();
        assert_eq!(texts, vec!["hi by sms", "reply", "plain", "hi by gk"]);
        assert_eq!(history[3].account, gk);
    });
}
