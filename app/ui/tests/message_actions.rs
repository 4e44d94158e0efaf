//! Replies, corrections, reactions, deletions and attachments from the chat,
//! and the networks' notices, driven through the real view in the simulator.

mod common;

use common::*;
use koine_api::{
    AccountId, Address, Attachment, AttachmentSource, DeliveryState, Direction, Notice, RemoteId,
};
use koine_core::{EngineEvent, MessageId, OwnChange, StoredMessage};
use koine_ui::actions::Action;
use koine_ui::app::{App, Effect, Message};

fn sent(mut m: StoredMessage, remote: &str) -> StoredMessage {
    m.remote_id = Some(RemoteId::new(remote));
    m
}

/// Alice's chat with one message from her and one of ours, both taken by
/// the network.
fn chat() -> App {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let theirs = sent(
        message(
            20,
            ALICE,
            Direction::Incoming,
            1,
            "Lunch at noon?",
            DeliveryState::Delivered,
        ),
        "$theirs",
    );
    let mut mine = sent(
        message(
            21,
            ALICE,
            Direction::Outgoing,
            0,
            "Sure, see you tehre",
            DeliveryState::Read,
        ),
        "$mine",
    );
    mine.sender = Address::Room("@me:matrix.example".into());
    let _ = app.update(Message::MessagesLoaded(ALICE, vec![theirs, mine]));
    app
}

fn open_actions(app: &mut App, text: &str) {
    let messages = click(app, text);
    assert!(!messages.is_empty(), "clicking a message does something");
    let _ = apply(app, messages);
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let _ = app.update(Message::Compose(iced::widget::text_editor::Action::Edit(
            iced::widget::text_editor::Edit::Insert(c),
        )));
    }
}

#[test]
fn a_reply_quotes_the_message_and_goes_out_with_its_id() {
    let mut app = chat();
    assert!(
        !shows(&app, "Reply"),
        "actions only for the clicked message"
    );
    open_actions(&mut app, "Lunch at noon?");
    let messages = click(&app, "Reply");
    let _ = apply(&mut app, messages);
    assert!(
        shows(&app, "Replying to Alice: Lunch at noon?"),
        "{:?}",
        texts(&app)
    );
    type_text(&mut app, "Yes!");
    let effects = app.update(Message::Send);
    let send = effects
        .iter()
        .find(|e| matches!(e, Effect::Send { .. }))
        .unwrap_or_else(|| panic!("{effects:?}"));
    assert!(
        matches!(send, Effect::Send { text, reply_to: Some(r), .. } if text == "Yes!" && r.as_str() == "$theirs"),
        "{send:?}"
    );
    assert!(
        !shows(&app, "Replying to"),
        "the reply mode ends with the send"
    );

    // Once stored, the reply shows the message it answers.
    let mut reply = sent(
        message(
            22,
            ALICE,
            Direction::Outgoing,
            0,
            "Yes!",
            DeliveryState::Sent,
        ),
        "$reply",
    );
    reply.reply_to = Some(RemoteId::new("$theirs"));
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageStored {
        account: AccountId::new("acct-m"),
        message: reply,
    })));
    assert!(shows(&app, "↩ Alice: Lunch at noon?"), "{:?}", texts(&app));
}

#[test]
fn correcting_ones_own_message_sends_an_edit_and_esc_cancels() {
    let mut app = chat();
    open_actions(&mut app, "Lunch at noon?");
    assert!(
        !shows(&app, "Edit"),
        "someone else's message cannot be corrected"
    );
    open_actions(&mut app, "Sure, see you tehre");
    assert!(shows(&app, "Delete"));
    let messages = click(&app, "Edit");
    let _ = apply(&mut app, messages);
    assert!(shows(&app, "Editing your message"));
    assert_eq!(
        koine_ui::app::composer_text(&app.composer),
        "Sure, see you tehre",
        "the composer holds the text to correct"
    );
    let _ = app.update(Message::CloseInspector);
    assert!(
        !shows(&app, "Editing your message"),
        "Esc leaves the correction"
    );
    assert_eq!(koine_ui::app::composer_text(&app.composer), "");

    let _ = app.update(Message::Act(Action::Edit(MessageId(21))));
    for _ in 0..5 {
        let _ = app.update(Message::Compose(iced::widget::text_editor::Action::Edit(
            iced::widget::text_editor::Edit::Backspace,
        )));
    }
    type_text(&mut app, "there");
    let effects = app.update(Message::Send);
    assert_eq!(
        effects,
        [Effect::Change(
            MessageId(21),
            OwnChange::Edit("Sure, see you there".into())
        )]
    );
}

#[test]
fn a_reaction_is_added_then_taken_back_and_deleting_asks_the_engine() {
    let mut app = chat();
    open_actions(&mut app, "Lunch at noon?");
    let messages = click(&app, "👍");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::Change(MessageId(20), OwnChange::React("👍".into()))]
    );

    // The engine applied it: the reaction shows, and a second click takes it back.
    let mut theirs = app.messages[0].clone();
    theirs.reactions = vec![("@me:matrix.example".into(), "👍".into())];
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageUpdated {
        account: AccountId::new("acct-m"),
        message: theirs,
    })));
    let effects = app.update(Message::Act(Action::React(MessageId(20), "👍".into())));
    assert_eq!(
        effects,
        [Effect::Change(
            MessageId(20),
            OwnChange::Unreact("👍".into())
        )]
    );

    open_actions(&mut app, "Sure, see you tehre");
    let messages = click(&app, "Delete");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::Change(MessageId(21), OwnChange::Delete)]);
}

#[test]
fn picked_files_are_listed_and_sent_with_the_message() {
    let mut app = chat();
    let messages = click(&app, "Attach…");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::PickFiles]);
    let photo = Attachment {
        name: "beach.jpg".into(),
        mime: "image/jpeg".into(),
        size: 2_400_000,
        source: AttachmentSource::LocalPath("/home/me/beach.jpg".into()),
        sha256: None,
    };
    let _ = app.update(Message::Act(Action::Picked(Ok(vec![photo.clone()]))));
    assert!(shows(&app, "📎 beach.jpg · 2.4 MB"), "{:?}", texts(&app));
    // A file alone is enough to send.
    let effects = app.update(Message::Send);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Send { attachments, text, .. } if *attachments == vec![photo.clone()] && text.is_empty())),
        "{effects:?}"
    );
    assert!(!shows(&app, "📎 beach.jpg"));

    let _ = app.update(Message::Act(Action::Picked(Err(
        "gone.txt: not found".into()
    ))));
    assert!(shows(&app, "Could not attach: gone.txt: not found"));
}

#[test]
fn a_networks_notice_is_shown_translated_and_can_be_closed() {
    let mut app = chat();
    let notice = |n: Notice| {
        Message::Engine(Box::new(EngineEvent::Notice {
            account: AccountId::new("acct-x"),
            notice: n,
        }))
    };
    let _ = app.update(notice(Notice::CertificateRejected {
        host: "jabber.example".into(),
        reason: "expired".into(),
    }));
    assert!(shows(&app, "XMPP · me@jabber.example"), "{:?}", texts(&app));
    assert!(shows(
        &app,
        "The certificate of jabber.example was refused: expired"
    ));

    // Progress updates one line in place and goes when done.
    for done in [10, 20] {
        let _ = app.update(notice(Notice::Progress {
            task: "history-sync".into(),
            done,
            total: Some(40),
        }));
    }
    assert!(shows(&app, "Syncing history: 20 of 40"));
    assert!(!shows(&app, "Syncing history: 10 of 40"));
    let _ = app.update(notice(Notice::Progress {
        task: "history-sync".into(),
        done: 40,
        total: Some(40),
    }));
    assert!(!shows(&app, "Syncing history"));

    let _ = app.update(Message::DismissNotice(0));
    assert!(!shows(&app, "was refused"));
}

/// How many pixels of the rendered window are exactly `rgb`.
fn pixels_of(app: &App, rgb: [u8; 3]) -> usize {
    let dir = tempfile::tempdir().expect("tmp");
    let mut sim = simulator(app);
    let snapshot = sim.snapshot(&theme()).expect("renders");
    let base = dir.path().join("frame.png");
    assert!(snapshot.matches_image(&base).expect("written"));
    let written = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("the frame");
    let frame = image::open(written).expect("png").to_rgba8();
    frame
        .pixels()
        .filter(|p| p.0[..3] == rgb && p.0[3] == 255)
        .count()
}

#[test]
fn an_image_on_this_machine_is_previewed_in_the_chat() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("magenta.png");
    image::RgbaImage::from_pixel(64, 64, image::Rgba([255, 0, 255, 255]))
        .save(&path)
        .expect("png");
    let size = std::fs::metadata(&path).expect("size").len();
    let mut app = chat();
    assert_eq!(pixels_of(&app, [255, 0, 255]), 0);
    let mut m = sent(
        message(
            30,
            ALICE,
            Direction::Incoming,
            0,
            "",
            DeliveryState::Delivered,
        ),
        "$photo",
    );
    let attachment = |source| Attachment {
        name: "magenta.png".into(),
        mime: "image/png".into(),
        size,
        source,
        sha256: None,
    };
    // Only a link to it: named, not drawn.
    m.content.attachments = vec![attachment(AttachmentSource::Remote(
        "https://media.example/magenta.png".into(),
    ))];
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageStored {
        account: AccountId::new("acct-m"),
        message: m.clone(),
    })));
    assert!(shows(&app, "magenta.png"));
    assert_eq!(pixels_of(&app, [255, 0, 255]), 0);

    // Downloaded: drawn.
    m.content.attachments = vec![attachment(AttachmentSource::LocalPath(
        path.to_string_lossy().into_owned(),
    ))];
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageUpdated {
        account: AccountId::new("acct-m"),
        message: m,
    })));
    let drawn = pixels_of(&app, [255, 0, 255]);
    assert!(drawn > 1000, "the preview is drawn: {drawn} pixels");
}
