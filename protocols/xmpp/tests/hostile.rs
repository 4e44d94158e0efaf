//! A hostile peer on the same real Prosody: a raw client (Mallory) sends
//! well-formed stanzas that once broke the account. Each case ends with a
//! plain message, so "nothing else happened" is checked on the events that
//! came before it, in order, without waiting on a clock.

mod support;

use koine_api::{Event, Jid};
use support::raw::RawPeer;
use support::{Prosody, client};

/// A chat message from Mallory to `to`, with `extra` children after the body.
fn chat(to: &Jid, id: &str, body: &str, extra: &str) -> String {
    let to = to.as_str();
    format!(
        "<message xmlns='jabber:client' to='{to}' type='chat' id='{id}'>\
         <body>{body}</body>{extra}</message>"
    )
}

fn received<'a>(e: &'a Event, text: &str) -> Option<&'a koine_api::Message> {
    match e {
        Event::MessageReceived(m) if m.content.text == text => Some(m),
        _ => None,
    }
}

async fn wait_text(c: &mut client::Client, text: &str) -> koine_api::Message {
    let e = c.wait_for(text, |e| received(e, text).is_some()).await;
    received(&e, text).cloned().expect("matched")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_ascii_link_neither_crashes_the_session_nor_loses_the_message() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sm, pm, _) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let mut mallory = RawPeer::login(&sm, &pm).await;
    for (i, url) in ["https:/é", "https://é/é", "aesgcm://é#é"]
        .iter()
        .enumerate()
    {
        let oob = format!("<x xmlns='jabber:x:oob'><url>{url}</url></x>");
        mallory
            .send_xml(&chat(&ja, &format!("u{i}"), url, &oob))
            .await;
    }
    mallory
        .send_xml(&chat(&ja, "after", "after the links", ""))
        .await;
    for url in ["https:/é", "aesgcm://é#é"] {
        let m = wait_text(&mut a, url).await;
        assert!(m.content.attachments.is_empty(), "{url} is no file link");
    }
    wait_text(&mut a, "after the links").await;
    a.stop().await.expect("the session ends cleanly");
}
