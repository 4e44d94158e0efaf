//! The route a plugin reports when it actually sends replaces the
//! provisional one, with an event carrying the change.

use super::test_net::{Nets, route, wait};
use super::*;
use koine_api::{Conversation, ConversationKind, HopKind};

#[test]
fn the_reported_route_replaces_the_provisional_one_with_an_event() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let n = Nets::new();
            let gk = n.account("gk", "+33600000001").await;
            // The conversation was last reported in the clear: that is
            // what a message queued now expects.
            let key = ConversationKey::new("+33600000002");
            let expected = route(HopKind::ClientLink, false);
            n.engine
                .with_store(|s| {
                    s.upsert_conversation(
                        &gk,
                        &Conversation {
                            key: key.clone(),
                            title: "Bob".into(),
                            kind: ConversationKind::Direct,
                            peer: None,
                            route: expected.clone(),
                            read_only: false,
                        },
                    )
                })
                .expect("conversation");
            let (local_id, id) = n
                .engine
                .send(&gk, &key, Content::text("hi"), None)
                .await
                .expect("queued");
            let queued = n.engine.message(id).expect("message");
            assert_eq!(queued.route, Some(expected.clone()));
            assert!(queued.route_provisional);

            let mut rx = n.engine.subscribe();
            n.start(&gk).await;
            let actual = route(HopKind::ClientLink, true);
            let settled = wait(
                &mut rx,
                "route settled",
                |e| matches!(e, EngineEvent::RouteSettled { local_id: l, .. } if *l == local_id),
            )
            .await;
            assert_eq!(
                settled,
                EngineEvent::RouteSettled {
                    account: gk.clone(),
                    local_id: local_id.clone(),
                    message: Some(id),
                    subject: crate::store::RouteSubject::Message,
                    provisional: Some(expected),
                    route: actual.clone(),
                }
            );
            let EngineEvent::MessageUpdated { message, .. } = wait(
                &mut rx,
                "updated",
                |e| matches!(e, EngineEvent::MessageUpdated { message, .. } if message.id == id),
            )
            .await
            else {
                unreachable!()
            };
            assert_eq!(message.route, Some(actual));
            assert!(!message.route_provisional);
        });
}
