//! Received files: kept sealed on disk, previewed from memory, opened with
//! the desktop's viewer through the engine; a file still on the server has
//! nothing to open.

mod common;

use common::*;
use koine_api::{Attachment, AttachmentSource, DeliveryState, Direction, RemoteId};
use koine_core::{EngineEvent, MessageId, StoredMessage};
use koine_ui::actions::Action;
use koine_ui::app::{App, Effect, Message};

fn file(name: &str, mime: &str, source: AttachmentSource) -> Attachment {
    Attachment {
        name: name.into(),
        mime: mime.into(),
        size: 1_200,
        source,
        sha256: None,
    }
}

fn with_files(id: i64, files: Vec<Attachment>) -> StoredMessage {
    let mut m = message(
        id,
        ALICE,
        Direction::Incoming,
        1,
        "",
        DeliveryState::Delivered,
    );
    m.remote_id = Some(RemoteId::new(format!("$m{id}")));
    m.content.attachments = files;
    m
}

fn open_alice(app: &mut App) {
    let messages = click(app, "Alice");
    let _ = apply(app, messages);
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn a_sealed_image_is_previewed_from_memory_once() {
    let mut app = app();
    open_alice(&mut app);
    let photo = with_files(
        30,
        vec![
            file(
                "beach.png",
                "image/png",
                AttachmentSource::Sealed("/p/accounts/a/media/1.sealed".into()),
            ),
            file(
                "notes.txt",
                "text/plain",
                AttachmentSource::Sealed("/p/accounts/a/media/2.sealed".into()),
            ),
        ],
    );
    let effects = app.update(Message::MessagesLoaded(ALICE, vec![photo.clone()]));
    let previews: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadPreview(..)))
        .collect();
    assert_eq!(
        previews,
        [&Effect::LoadPreview(MessageId(30), 0)],
        "the image only"
    );
    // The same message again (a receipt, an edit) asks nothing more.
    let effects = app.update(Message::Engine(Box::new(EngineEvent::MessageUpdated {
        account: koine_api::AccountId::new("acct-m"),
        message: photo,
    })));
    assert!(!effects.iter().any(|e| matches!(e, Effect::LoadPreview(..))));
    let handle = iced::widget::image::Handle::from_bytes(PNG.to_vec());
    let _ = app.update(Message::Act(Action::PreviewLoaded(
        MessageId(30),
        0,
        Some(handle),
    )));
    assert!(app.previews.get((MessageId(30), 0)).is_some());
    assert!(shows(&app, "beach.png"), "{:?}", texts(&app));
    // Another chat forgets the previews.
    let messages = click(&app, "Mum");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::MessagesLoaded(MUM_SMS, Vec::new()));
    assert!(app.previews.get((MessageId(30), 0)).is_none());
}

#[test]
fn open_asks_the_engine_and_a_failure_is_said() {
    let mut app = app();
    open_alice(&mut app);
    let m = with_files(
        31,
        vec![file(
            "report.pdf",
            "application/pdf",
            AttachmentSource::Sealed("/p/accounts/a/media/3.sealed".into()),
        )],
    );
    let _ = app.update(Message::MessagesLoaded(ALICE, vec![m]));
    let messages = click(&app, "Open");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::OpenAttachment(MessageId(31), 0)]);
    let _ = app.update(Message::Act(Action::OpenFailed(
        "the account's file key is missing".into(),
    )));
    assert!(
        shows(
            &app,
            "Could not open the file: the account's file key is missing"
        ),
        "{:?}",
        texts(&app)
    );
}

#[test]
fn a_file_still_on_the_server_has_nothing_to_open() {
    let mut app = app();
    open_alice(&mut app);
    let m = with_files(
        32,
        vec![file(
            "big.mov",
            "video/quicktime",
            AttachmentSource::Remote("mxc://their.server/abc".into()),
        )],
    );
    let _ = app.update(Message::MessagesLoaded(ALICE, vec![m]));
    assert!(shows(&app, "on the server"));
    assert!(!shows(&app, "Open"), "{:?}", texts(&app));
    assert!(
        app.update(Message::Act(Action::OpenFile(MessageId(32), 0)))
            .is_empty()
    );
}
