//! One slow part must not stall the account: a phone with 25,000
//! conversations, and an MMS part whose payload port never answers. While
//! either is in progress, a new SMS is still delivered and a send still goes
//! out. The checks are on the order of events, not on timings.

mod common;

use common::{KdeRig, NUMBERS};
use koine_api::{
    AttachmentSource, Command, Content, ConversationKey, Event, LocalId, Notice, Protocol,
};
use koine_conformance::RunningSession;
use koine_sms::SmsRelay;
use koine_sms::kdeconnect::sms::message_type;
use koine_sms::sim::{Carrier, Part};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);
const THREADS: usize = 25_000;

fn start(rig: &KdeRig, dir: &std::path::Path) -> RunningSession {
    let plugin: Arc<dyn Protocol> = Arc::new(SmsRelay::new("FR"));
    RunningSession::start(&plugin, &rig.paired_account(NUMBERS[0]), dir, TIMEOUT).expect("session")
}

fn send(to: &str, text: &str, id: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

fn is_list_message(e: &Event) -> bool {
    matches!(e, Event::MessageReceived(m) if m.content.text.starts_with("old thread "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_conversation_list_does_not_hold_up_a_new_sms_or_a_send() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let now = rig.phone.now_ms();
    rig.phone
        .with_store(|s| {
            for i in 0..THREADS {
                let from = format!("+3361{i:07}");
                let date = now.saturating_sub(1_000_000).saturating_add(i as i64);
                s.add(
                    &[from],
                    &format!("old thread {i}"),
                    message_type::INBOX,
                    date,
                    -1,
                    &[],
                );
            }
        })
        .expect("store");
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&rig, &dirs.path().join("huge"));
    s.online().await.expect("online");
    // The list is on its way in: the first of its messages is reported.
    s.wait_for("the first message of the list", |e| {
        is_list_message(e).then_some(())
    })
    .await
    .expect("list starts");
    rig.phone.inject_sms("+33698765432", "fresh news");
    s.command(send("+33698765433", "going out", "busy-1"))
        .await
        .expect("cmd");
    s.wait_for("the new SMS", |e| match e {
        Event::MessageReceived(m) if m.content.text == "fresh news" => Some(()),
        _ => None,
    })
    .await
    .expect("new SMS");
    s.wait_for_seen("the send's acknowledgement", |e| match e {
        Event::SendAcked { local_id, .. } if local_id.as_str() == "busy-1" => Some(()),
        _ => None,
    })
    .await
    .expect("send acknowledged");
    let before = s.log.iter().filter(|e| is_list_message(e)).count();
    assert!(
        before < THREADS,
        "the new SMS and the send waited for the whole list ({before} of {THREADS} first)"
    );
    // Nothing of the list is lost: it goes on after them.
    let mut seen = before;
    while seen < THREADS {
        s.wait_for("the rest of the list", |e| is_list_message(e).then_some(()))
            .await
            .expect("rest of the list");
        seen += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_never_answers_does_not_hold_up_the_account() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    rig.kde.hang_payloads(true);
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&rig, &dirs.path().join("hang"));
    s.online().await.expect("online");
    rig.phone.inject_mms(
        "+33698765432",
        "a picture that never comes",
        Part {
            name: "cat.png".into(),
            mime: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        },
    );
    // The phone offered the part (on a port that never answers).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !rig
        .kde
        .journal()
        .iter()
        .any(|r| r.packet.kind == koine_sms::kdeconnect::packet::kind::SMS_REQUEST_ATTACHMENT)
    {
        assert!(tokio::time::Instant::now() < deadline, "no part requested");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    rig.phone.inject_sms("+33698765434", "after the picture");
    s.command(send("+33698765435", "going out meanwhile", "busy-2"))
        .await
        .expect("cmd");
    s.wait_for_seen("the SMS that came after the MMS", |e| match e {
        Event::MessageReceived(m) if m.content.text == "after the picture" => Some(()),
        _ => None,
    })
    .await
    .expect("new SMS");
    s.wait_for_seen("the send's acknowledgement", |e| match e {
        Event::SendAcked { local_id, .. } if local_id.as_str() == "busy-2" => Some(()),
        _ => None,
    })
    .await
    .expect("send acknowledged");
    let is_mms = |e: &Event| matches!(e, Event::MessageReceived(m) if m.content.text == "a picture that never comes");
    assert!(
        !s.log.iter().any(is_mms),
        "the MMS was reported before the later SMS and send: the stalled payload held them up"
    );
    // The stalled transfer times out; the MMS is reported without its file.
    let mms = s
        .wait_for("the MMS after its payload timed out", |e| match e {
            Event::MessageReceived(m) if m.content.text == "a picture that never comes" => {
                Some(m.clone())
            }
            _ => None,
        })
        .await
        .expect("MMS");
    assert!(matches!(
        mms.content.attachments.first().map(|a| &a.source),
        Some(AttachmentSource::Remote(_))
    ));
    assert!(s.log.iter().any(|e| matches!(
        e,
        Event::Notice(Notice::MalformedInput { detail, .. }) if detail.contains("cat.png")
    )));
}
