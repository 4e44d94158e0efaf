//! Spam reporting (XEP-0377) on a real Prosody. Debian's Prosody 0.12 has no
//! reporting module, so the test server gets a small one written here: it
//! advertises `urn:xmpp:reporting:1` and logs each report carried by a block
//! request, leaving the block to Prosody's own mod_blocklist. Without it,
//! `Report` falls back to a plain block and says so with a typed notice.

mod support;

use koine_api::{Address, Command, Content, ConversationKey, Decision, Event, LocalId, Notice};
use std::time::Duration;
use support::{Extra, Prosody, client};

const REPORTS_MODULE: &str = r#"
module:add_feature("urn:xmpp:reporting:1");
module:hook("iq-set/self/urn:xmpp:blocking:block", function(event)
  local block = event.stanza.tags[1];
  for item in block:childtags("item") do
    local report = item:get_child("report", "urn:xmpp:reporting:1");
    if report then
      module:log("info", "spam report by %s about %s: %s",
        event.origin.username, item.attr.jid, report.attr.reason or "no reason");
    end
  end
end, 10);
"#;

/// Dave asks Bob to be a contact; Bob answers `Report`. Returns whether Bob
/// was told that reporting is not offered, after checking Dave is blocked.
async fn report_dave(server: &Prosody) -> (bool, String) {
    let (sb, pb, jb) = server.account("bob");
    let (sd, pd, jd) = server.account("dave");
    let dir = tempfile::tempdir().expect("tmp");
    let mut b = client::start(sb, pb, dir.path().join("b"));
    let mut d = client::start(sd, pd, dir.path().join("d"));
    b.online().await;
    d.online().await;
    d.send(Command::AddContact {
        address: Address::Jid(jb.clone()),
        name: None,
    })
    .await;
    let request = match b
        .wait_for("dave's request", |e| matches!(e, Event::RequestReceived(_)))
        .await
    {
        Event::RequestReceived(r) => r,
        _ => unreachable!(),
    };
    b.send(Command::AnswerRequest {
        request: request.id.clone(),
        decision: Decision::Report,
    })
    .await;
    b.wait_for(
        "resolved",
        |e| matches!(e, Event::RequestResolved(id) if *id == request.id),
    )
    .await;
    // The block is in place either way: Dave's message does not arrive.
    // (Bob's session sent the block before the request was resolved; a
    // message from Bob to himself behind it proves the server handled it.)
    b.send(Command::SendMessage {
        local_id: LocalId::new("barrier"),
        conversation: ConversationKey::new(jb.as_str()),
        content: Content::text("barrier"),
        reply_to: None,
    })
    .await;
    b.wait_for(
        "barrier",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "barrier"),
    )
    .await;
    d.send(Command::SendMessage {
        local_id: LocalId::new("d-1"),
        conversation: ConversationKey::new(jb.as_str()),
        content: Content::text("buy now"),
        reply_to: None,
    })
    .await;
    d.wait_for("ack", |e| matches!(e, Event::SendAcked { .. }))
        .await;
    b.drain(1500).await;
    assert!(
        !b.seen
            .iter()
            .any(|e| matches!(e, Event::MessageReceived(m) if m.content.text == "buy now")),
        "a reported sender is blocked"
    );
    let told = b.seen.iter().any(|e| {
        matches!(e, Event::Notice(Notice::Unsupported { feature }) if feature == "spam-reporting")
    });
    b.stop().await.expect("stop");
    d.stop().await.expect("stop");
    (told, jd.as_str().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn report_reaches_a_server_that_takes_reports() {
    let server = Prosody::start_with(Extra {
        modules: vec!["koine_reports".into()],
        plugins: vec![("koine_reports".into(), REPORTS_MODULE.into())],
        ..Extra::default()
    });
    let (told, dave) = report_dave(&server).await;
    assert!(!told, "the server takes reports: no fallback notice");
    let expected = format!("spam report by bob about {dave}: urn:xmpp:reporting:spam");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !server.log().contains(&expected) {
        assert!(
            std::time::Instant::now() < deadline,
            "no report in the server log: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn report_falls_back_to_a_block_and_says_so() {
    let server = Prosody::start();
    let (told, _) = report_dave(&server).await;
    assert!(told, "the user learns the report could not be sent");
    assert!(!server.log().contains("spam report"));
}
