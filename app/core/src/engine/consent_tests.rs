//! Consent: the stranger policy per network, the Requests inbox, and
//! answers (the network's own mechanism, a local block for SMS).

use super::test_net::{Nets, Push, message, wait};
use super::*;
use crate::people::{AddressSource, StrangerPolicy};
use koine_api::{
    Conversation, ConversationKind, Decision, HopKind, Request, RequestId, RequestKind,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Pushes a message to an account and waits until it is stored.
pub(super) async fn deliver(n: &Nets, account: &AccountId, m: koine_api::Message) -> StoredMessage {
    let mut rx = n.engine.subscribe();
    let remote = m.remote_id.clone();
    n.push
        .send((account.clone(), Push::Message(m)))
        .expect("push");
    let EngineEvent::MessageStored { message, .. } = wait(&mut rx, "stored", |e| {
        matches!(e, EngineEvent::MessageStored { message, .. } if message.remote_id.as_ref() == Some(&remote))
    })
    .await
    else {
        unreachable!()
    };
    message
}

/// Waits until the plugin got the answer.
async fn answered(n: &Nets, request: &str, decision: Decision) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !lock(&n.log.answers)
        .iter()
        .any(|(_, id, d)| id.as_str() == request && *d == decision)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the plugin never got {decision:?} for {request}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_request(n: &Nets, message: &StoredMessage) -> bool {
    n.engine
        .with_store(|s| s.conversation(message.conversation))
        .expect("conversation")
        .is_request
}

#[test]
fn strangers_land_in_requests_as_each_network_policy_says() {
    rt().block_on(async {
        let n = Nets::new();
        let sms = n.account("sms", "phone").await;
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&sms).await;
        n.start(&chat).await;
        let e = &n.engine;
        assert_eq!(
            e.stranger_policy(&ProtocolId::new("sms")).expect("policy"),
            StrangerPolicy::Contacts
        );

        let m = deliver(
            &n,
            &sms,
            message(
                "+33611111111",
                "a",
                "hello, who is this",
                HopKind::Carrier,
                false,
            ),
        )
        .await;
        assert!(
            is_request(&n, &m),
            "an unknown SMS sender starts in Requests"
        );
        let requests = e.requests().expect("requests");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].kind, RequestKind::FirstMessage);
        assert_eq!(requests[0].preview.as_deref(), Some("hello, who is this"));
        assert_eq!(requests[0].conversation, Some(m.conversation));

        // Someone from the imported address book is a contact on SMS.
        e.create_person(
            "Known",
            &[(None, Address::parse_any("+33622222222").expect("n"))],
        )
        .expect("person");
        let m = deliver(
            &n,
            &sms,
            message("+33622222222", "b", "it's me", HopKind::Carrier, false),
        )
        .await;
        assert!(
            !is_request(&n, &m),
            "a person the user vouched for is no stranger"
        );

        e.set_stranger_policy(&ProtocolId::new("sms"), StrangerPolicy::Anyone)
            .expect("set");
        let m = deliver(
            &n,
            &sms,
            message("+33633333333", "c", "hi", HopKind::Carrier, false),
        )
        .await;
        assert!(!is_request(&n, &m), "anyone may write on SMS now");
        let m = deliver(
            &n,
            &chat,
            message("dave@chat.example", "d", "hi", HopKind::ClientLink, false),
        )
        .await;
        assert!(is_request(&n, &m), "the policy is per network");

        // Contacts and people in a shared room.
        e.set_stranger_policy(&ProtocolId::new("chat"), StrangerPolicy::SharedRoom)
            .expect("set");
        let room = Conversation {
            key: ConversationKey::new("room@muc.chat.example"),
            title: "Room".into(),
            kind: ConversationKind::Group,
            peer: None,
            route: super::test_net::route(HopKind::ClientLink, false),
            read_only: false,
        };
        e.with_store(|s| s.upsert_conversation(&chat, &room))
            .expect("room");
        let mut in_room = message(
            "carol@chat.example",
            "e",
            "in the room",
            HopKind::ClientLink,
            false,
        );
        in_room.conversation = room.key.clone();
        deliver(&n, &chat, in_room).await;
        let m = deliver(
            &n,
            &chat,
            message("carol@chat.example", "f", "hi", HopKind::ClientLink, false),
        )
        .await;
        assert!(!is_request(&n, &m), "carol shares a room with us");
        let m = deliver(
            &n,
            &chat,
            message("erin@chat.example", "g", "hi", HopKind::ClientLink, false),
        )
        .await;
        assert!(is_request(&n, &m), "erin does not");
    });
}

#[test]
fn blocking_an_sms_sender_is_local_and_drops_their_messages_silently() {
    rt().block_on(async {
        let n = Nets::new();
        let sms = n.account("sms", "phone").await;
        n.start(&sms).await;
        let e = &n.engine;
        let first = deliver(
            &n,
            &sms,
            message("+33611111111", "a", "spam", HopKind::Carrier, false),
        )
        .await;
        let request = e.find_request("+33611111111").expect("request");
        assert_eq!(request.network_request, None);
        let outcome = e
            .answer_request(&request, Decision::Block)
            .await
            .expect("block");
        assert!(outcome.blocked_locally);
        assert!(!outcome.network_answered, "SMS has no blocking of its own");
        assert!(e.requests().expect("requests").is_empty());
        assert!(
            e.with_store(|s| s.conversation(first.conversation))
                .is_err()
        );

        let mut rx = e.subscribe();
        n.push
            .send((
                sms.clone(),
                Push::Message(message(
                    "+33611111111",
                    "b",
                    "more spam",
                    HopKind::Carrier,
                    false,
                )),
            ))
            .expect("push");
        deliver(
            &n,
            &sms,
            message("+33644444444", "c", "a friend", HopKind::Carrier, false),
        )
        .await;
        // Events are in order: the blocked message came first and left no trace.
        while let Ok(ev) = rx.try_recv() {
            if let EngineEvent::MessageStored { message, .. } = &ev {
                assert_ne!(
                    message.content.text, "more spam",
                    "a blocked sender was notified"
                );
            }
        }
        let texts: Vec<String> = e
            .search("spam", 10)
            .expect("search")
            .into_iter()
            .map(|h| h.message.content.text)
            .collect();
        assert!(
            texts.is_empty(),
            "nothing of the blocked sender is stored: {texts:?}"
        );
        assert!(e.unblock_address(&sms, &first.sender).expect("unblock"));
        let m = deliver(
            &n,
            &sms,
            message("+33611111111", "d", "sorry", HopKind::Carrier, false),
        )
        .await;
        assert!(is_request(&n, &m), "unblocked: back to Requests");
    });
}

#[test]
fn network_requests_are_answered_through_the_plugin() {
    rt().block_on(async {
        let n = Nets::new();
        let gk = n.account("gk", "+33600000001").await;
        let e = &n.engine;
        let request = |id: &str, from: &str| Request {
            id: RequestId::new(id),
            kind: RequestKind::ThirdPartyOptIn { provider: "birdy".into() },
            from: Address::parse_any(from).expect("address"),
            display_name: Some("Zed".into()),
            conversation: Some(ConversationKey::new(from)),
            preview: Some("hi".into()),
            received: Timestamp::now(),
        };
        let mut rx = e.subscribe();
        n.start(&gk).await;
        n.push.send((gk.clone(), Push::Request(request("r1", "+33677777777")))).expect("push");
        wait(&mut rx, "request", |ev| matches!(ev, EngineEvent::RequestReceived { .. })).await;
        deliver(&n, &gk, message("+33677777777", "m1", "hi", HopKind::ClientLink, true)).await;
        let inbox = e.requests().expect("requests");
        assert_eq!(inbox.len(), 1, "one entry for the request and its conversation: {inbox:?}");
        assert_eq!(inbox[0].network_request, Some(RequestId::new("r1")));
        assert!(inbox[0].conversation.is_some());

        // Offline: the network cannot be asked, so nothing changes.
        e.stop(&gk).await;
        assert!(matches!(
            e.answer_request(&inbox[0], Decision::Accept).await,
            Err(EngineError::Offline(_))
        ));
        n.start(&gk).await;
        let outcome = e.answer_request(&inbox[0], Decision::Accept).await.expect("accept");
        assert!(outcome.network_answered);
        answered(&n, "r1", Decision::Accept).await;
        let c = e.with_store(|s| s.conversation(inbox[0].conversation.expect("c"))).expect("c");
        assert!(!c.is_request, "accepted: in the inbox");
        let zed = e.find_person("+33677777777").expect("person");
        assert_eq!(zed.name, "Zed");
        assert_eq!(zed.addresses[0].source, AddressSource::Accepted);

        n.push.send((gk.clone(), Push::Request(request("r2", "+33688888888")))).expect("push");
        wait(&mut rx, "request", |ev| matches!(ev, EngineEvent::RequestReceived { request, .. } if request.id.as_str() == "r2")).await;
        let r2 = e.find_request("r2").expect("r2");
        let outcome = e.answer_request(&r2, Decision::Report).await.expect("report");
        assert!(outcome.network_answered && outcome.blocked_locally);
        answered(&n, "r2", Decision::Report).await;
        // A blocked sender's new request is dropped.
        n.push.send((gk.clone(), Push::Request(request("r3", "+33688888888")))).expect("push");
        deliver(&n, &gk, message("+33699999990", "m2", "other", HopKind::ClientLink, true)).await;
        assert!(e.find_request("r3").is_err());
    });
}

#[test]
fn a_contact_request_and_a_first_message_from_one_stranger_are_one_entry() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        let e = &n.engine;
        let mut rx = e.subscribe();
        let request = Request {
            id: RequestId::new("subscribe:zed@chat.example"),
            kind: RequestKind::ContactRequest,
            from: Address::parse_any("zed@chat.example").expect("address"),
            display_name: None,
            conversation: None,
            preview: None,
            received: Timestamp::now(),
        };
        n.push
            .send((chat.clone(), Push::Request(request)))
            .expect("push");
        wait(&mut rx, "request", |ev| {
            matches!(ev, EngineEvent::RequestReceived { .. })
        })
        .await;
        let m = deliver(
            &n,
            &chat,
            message(
                "zed@chat.example",
                "z1",
                "add me?",
                HopKind::ClientLink,
                false,
            ),
        )
        .await;
        let inbox = e.requests().expect("requests");
        assert_eq!(inbox.len(), 1, "{inbox:?}");
        assert_eq!(inbox[0].kind, RequestKind::ContactRequest);
        assert_eq!(inbox[0].conversation, Some(m.conversation));
        e.answer_request(&inbox[0], Decision::Decline)
            .await
            .expect("decline");
        wait(&mut rx, "the network's confirmation", |ev| {
            matches!(ev, EngineEvent::RequestResolved { request, .. } if request.as_str() == "subscribe:zed@chat.example")
        })
        .await;
        assert!(e.requests().expect("requests").is_empty());
    });
}

#[test]
fn a_stranger_is_a_request_even_when_the_network_reports_the_conversation_first() {
    rt().block_on(async {
        let n = Nets::new();
        let sms = n.account("sms", "phone").await;
        n.start(&sms).await;
        let e = &n.engine;
        let mut rx = e.subscribe();
        let conversation = |peer: &str| Conversation {
            key: ConversationKey::new(peer),
            title: peer.into(),
            kind: ConversationKind::Direct,
            peer: Some(Address::parse_any(peer).expect("address")),
            route: super::test_net::route(HopKind::Carrier, false),
            read_only: false,
        };
        n.push
            .send((
                sms.clone(),
                Push::Conversation(conversation("+33655555555")),
            ))
            .expect("push");
        wait(&mut rx, "conversation", |ev| {
            matches!(ev, EngineEvent::ConversationChanged { .. })
        })
        .await;
        let m = deliver(
            &n,
            &sms,
            message("+33655555555", "x1", "hi", HopKind::Carrier, false),
        )
        .await;
        assert!(is_request(&n, &m));
        // A blocked stranger's conversation is not even created.
        e.block_address(&sms, &Address::parse_any("+33666666666").expect("n"))
            .expect("block");
        n.push
            .send((
                sms.clone(),
                Push::Conversation(conversation("+33666666666")),
            ))
            .expect("push");
        n.push
            .send((
                sms.clone(),
                Push::Conversation(conversation("+33677777777")),
            ))
            .expect("push");
        wait(&mut rx, "the next conversation", |ev| {
            matches!(ev, EngineEvent::ConversationChanged { conversation, .. }
                if conversation.key.as_str() == "+33677777777")
        })
        .await;
        let peers: Vec<String> = e
            .conversations()
            .expect("list")
            .into_iter()
            .filter_map(|c| c.peer.map(|p| p.to_string()))
            .collect();
        assert!(peers.contains(&"+33677777777".to_owned()));
        assert!(!peers.contains(&"+33666666666".to_owned()), "{peers:?}");
    });
}

#[test]
fn a_burst_is_stored_in_batches_each_message_once_and_announced() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        n.contact(&chat, "bob@chat.example", "Bob");
        let mut rx = n.engine.subscribe();
        let burst: Vec<_> = (0..600)
            .map(|i| {
                message(
                    "bob@chat.example",
                    &format!("b{i}"),
                    &format!("burst {i}"),
                    HopKind::ClientLink,
                    false,
                )
            })
            .collect();
        // The same burst again: the network may deliver twice.
        n.push
            .send((chat.clone(), Push::Burst(burst.clone())))
            .expect("push");
        n.push
            .send((chat.clone(), Push::Burst(burst)))
            .expect("push");
        let mut announced = 0;
        while announced < 600 {
            wait(&mut rx, "stored", |e| {
                matches!(e, EngineEvent::MessageStored { .. })
            })
            .await;
            announced += 1;
        }
        // Stored after the second burst: that one has been dealt with too.
        deliver(
            &n,
            &chat,
            message(
                "bob@chat.example",
                "after",
                "after",
                HopKind::ClientLink,
                false,
            ),
        )
        .await;
        let conversation = n
            .engine
            .conversations()
            .expect("list")
            .into_iter()
            .find(|c| c.key.as_str() == "bob@chat.example")
            .expect("bob's chat");
        let mut stored = Vec::new();
        let mut before = None;
        loop {
            let page = n
                .engine
                .messages(conversation.id, before, 200)
                .expect("page");
            if page.is_empty() {
                break;
            }
            before = page.first().map(|m| m.id);
            stored.extend(page);
        }
        assert_eq!(stored.len(), 601, "each message once");
        assert_eq!(
            stored
                .iter()
                .filter(|m| m.content.text.starts_with("burst "))
                .count(),
            600
        );
    });
}

/// Reading a chat tells the contact (a read marker up to the newest message
/// received), once; reading a stranger's message in Requests tells them
/// nothing.
#[test]
fn reading_a_chat_tells_the_contact_but_never_a_stranger() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.contact(&chat, "bob@chat.example", "Bob");
        n.start(&chat).await;
        let e = &n.engine;
        let first = deliver(
            &n,
            &chat,
            message("bob@chat.example", "b1", "hi", HopKind::ClientLink, false),
        )
        .await;
        deliver(
            &n,
            &chat,
            message(
                "bob@chat.example",
                "b2",
                "there?",
                HopKind::ClientLink,
                false,
            ),
        )
        .await;
        let spam = deliver(
            &n,
            &chat,
            message(
                "spam@chat.example",
                "s1",
                "win big",
                HopKind::ClientLink,
                false,
            ),
        )
        .await;
        assert!(is_request(&n, &spam));

        e.mark_read(first.conversation).await.expect("read");
        e.mark_read(spam.conversation).await.expect("read spam");
        // Reading again without anything new sends nothing more.
        e.mark_read(first.conversation).await.expect("read again");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while lock(&n.log.read).is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no read marker");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A marker after the spam's would have arrived by now: the session
        // handles its commands in order, and this one goes after them.
        e.command(
            &chat,
            Command::MarkRead {
                conversation: koine_api::ConversationKey::new("probe@chat.example"),
                up_to: RemoteId::new("probe"),
            },
        )
        .await
        .expect("probe");
        while !lock(&n.log.read)
            .iter()
            .any(|(_, _, up_to)| up_to == "probe")
        {
            assert!(tokio::time::Instant::now() < deadline, "no probe");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let read: Vec<(String, String)> = lock(&n.log.read)
            .iter()
            .filter(|(_, _, up_to)| up_to != "probe")
            .map(|(_, c, u)| (c.clone(), u.clone()))
            .collect();
        assert_eq!(
            read,
            vec![("bob@chat.example".to_owned(), "b2".to_owned())],
            "one marker, up to Bob's newest; none to the stranger"
        );
        let unread = |id| e.with_store(|s| s.conversation(id)).expect("c").unread;
        assert_eq!(unread(first.conversation), 0);
        assert_eq!(unread(spam.conversation), 0);
    });
}
