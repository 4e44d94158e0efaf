//! Unit tests of the device bookkeeping.

use super::*;

fn omemo(own: &str, id: u32) -> Omemo {
    let device = Device::ephemeral().expect("device");
    Omemo::with_device(device, id, own.into(), trust::TrustStore::default())
}

fn published(o: &Omemo) -> wire::Bundle {
    wire::read_bundle(&o.bundle().expect("bundle"))
        .expect("ours")
        .expect("valid")
}

#[tokio::test]
async fn encrypts_for_every_device_with_a_session_and_opens_only_its_key() {
    let mut alice = omemo("a@x", 1);
    let mut bob = omemo("b@x", 7);
    alice.replenish().expect("prekeys");
    bob.replenish().expect("prekeys");
    alice.lists.insert("a@x".into(), vec![1, 2]);
    alice.lists.insert("b@x".into(), vec![7]);
    assert_eq!(alice.missing_bundles("b@x"), [7]);
    assert_eq!(alice.missing_bundles("a@x"), [2], "never our own device");
    let b = published(&bob).for_session(7);
    alice
        .device
        .start_session(&PeerId::new("b@x", 7), &b)
        .await
        .expect("session");
    assert!(alice.missing_bundles("b@x").is_empty());
    let (peer, own) = alice.targets("b@x");
    assert_eq!(peer, [PeerId::new("b@x", 7)]);
    assert!(own.is_empty(), "device 2 has no session yet");

    let e = alice.encrypt("hi bob", &peer).await.expect("encrypts");
    assert_eq!(e.sid, 1);
    assert!(e.keys[0].prekey, "the first message starts the session");
    let el = wire::encrypted(&e);
    let back = wire::read_encrypted(&[el]).expect("ours").expect("valid");
    let (opened, _) = bob
        .decrypt("a@x", &back)
        .await
        .expect("decrypts")
        .expect("a key for bob");
    assert!(matches!(opened, Opened::Body(ref t) if t == "hi bob"));
    assert!(bob.uncommitted && bob.prekey_used);
    // The consumed prekey leaves the bundle; the pool is topped up.
    let used = b.one_time_pre_key.expect("a prekey").id;
    bob.device.commit().expect("commits");
    assert_eq!(bob.device.one_time_pre_key_count(), PREKEYS - 1);
    bob.replenish().expect("replenishes");
    let now = published(&bob);
    assert_eq!(now.prekeys.len(), PREKEYS);
    assert!(now.prekeys.iter().all(|k| k.id != used));
    assert!(
        bob.e2e(
            "a@x",
            &crate::route::Routes::new("x", koine_api::TlsVersion::Tls13, false).to_domain("x")
        )
        .is_some()
    );

    let mut carol = omemo("c@x", 9);
    assert!(
        carol
            .decrypt("a@x", &back)
            .await
            .expect("no error")
            .is_none()
    );
}

#[test]
fn unanswered_queries_expire() {
    let mut o = omemo("a@x", 1);
    o.lists.insert("a@x".into(), vec![1]);
    o.fetching_lists.insert("b@x".into());
    o.fetching_bundles.insert(("a@x".into(), 3));
    let since = std::time::Instant::now();
    o.queue.push(Queued {
        since,
        local_id: LocalId::new("l1"),
        to: BareJid::new("b@x").expect("jid"),
        message: Message::chat(None),
    });
    assert_eq!(o.deadline(), Some(since + FETCH_TIMEOUT));
    o.expire(since);
    assert!(o.fetching_lists.contains("b@x"), "not late yet");
    o.expire(since + FETCH_TIMEOUT);
    assert_eq!(o.lists.get("b@x"), Some(&Vec::new()), "no device known");
    assert!(o.broken.contains(&("a@x".to_owned(), 3)));
    assert!(o.fetching_bundles.is_empty());
}
