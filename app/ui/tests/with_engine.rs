//! The window against a real engine (SQLite in a temporary profile, no
//! network): a suggestion merged and undone, a person renamed, a vCard
//! imported and exported, a request answered while its account is offline,
//! a block lifted — each through the same effect runner the window uses
//! (`koine_ui::tasks::run`) and the engine's own events.

mod common;

use common::*;
use koine_api::Address;
use koine_core::{Engine, EngineConfig, Profile, Registry};
use koine_ui::app::{App, Effect, Message};
use koine_ui::people_screen::Action;
use std::collections::VecDeque;

/// Runs effects on the engine and feeds the answers and the engine's
/// events back into the window until nothing is left to do.
async fn drive(
    app: &mut App,
    engine: &Engine,
    rx: &mut tokio::sync::broadcast::Receiver<koine_core::EngineEvent>,
    effects: Vec<Effect>,
) {
    let mut queue: VecDeque<Effect> = effects.into();
    for _ in 0..200 {
        let Some(effect) = queue.pop_front() else {
            return;
        };
        let message = match effect {
            // The shell reads the lists and the people for this effect.
            Effect::LoadLists => {
                queue.extend(app.update(Message::ListsLoaded {
                    accounts: engine.accounts().expect("accounts"),
                    conversations: engine.conversations().expect("conversations"),
                }));
                Message::PeopleLoaded(engine.people().expect("people"))
            }
            other => koine_ui::tasks::run(engine.clone(), other).await,
        };
        queue.extend(app.update(message));
        while let Ok(event) = rx.try_recv() {
            queue.extend(app.update(Message::Engine(Box::new(event))));
        }
    }
    panic!("the window never settled");
}

fn open_engine(dir: &std::path::Path) -> Engine {
    Engine::open(Profile::at(dir), Registry::new(), EngineConfig::default()).expect("engine")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_suggestion_is_merged_and_undone_in_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(dir.path());
    let mut rx = engine.subscribe();
    for address in ["sam@chat.example", "+33633333333"] {
        engine
            .create_person(
                "Sam",
                &[(None, Address::parse_any(address).expect("address"))],
            )
            .expect("person");
    }
    let mut app = app();
    drive(&mut app, &engine, &mut rx, vec![Effect::LoadLists]).await;
    let messages = click(&app, "People");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "Weak match (name only)"), "{:?}", texts(&app));
    assert!(shows(&app, "Only the same name: sam"));

    let messages = click(&app, "Merge");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert_eq!(engine.people().expect("people").len(), 1);
    assert_eq!(app.people.list.len(), 1, "the screen follows the store");
    assert!(!shows(&app, "Weak match"), "merged: no suggestion left");

    let messages = click(&app, "Undo");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "The merge was undone."), "{:?}", texts(&app));
    assert_eq!(engine.people().expect("people").len(), 2);
    assert_eq!(app.people.list.len(), 2);

    // Renamed in place, kept by the store.
    let messages = click_on_line(&app, "Sam", "Rename");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::People(Action::RenameText("Samuel".into())));
    let messages = click(&app, "Save");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    let names: Vec<String> = engine
        .people()
        .expect("people")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"Samuel".to_owned()), "{names:?}");

    // An address typed for a person is kept (no account reaches it here).
    let messages = click_below(
        &app,
        "sam@chat.example · no account reaches it",
        "Add an address",
    );
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::People(Action::AddText("+33644444444".into())));
    let messages = click(&app, "Add");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    let people = engine.people().expect("people");
    assert!(
        people.iter().any(|p| p
            .addresses
            .iter()
            .any(|a| a.address.to_string() == "+33644444444")),
        "{people:?}"
    );
    assert!(shows(&app, "+33644444444"), "the list is re-read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vcard_file_is_imported_and_everyone_exported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(&dir.path().join("profile"));
    let mut rx = engine.subscribe();
    let input = dir.path().join("in.vcf");
    std::fs::write(
        &input,
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Lena Berg\r\nTEL:+4915112345678\r\nEND:VCARD\r\n",
    )
    .expect("write");
    let mut app = app();
    let messages = click(&app, "People");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;

    // The file the desktop's chooser returned.
    let effects = app.update(Message::People(Action::ImportFrom(input.clone())));
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(
        shows(&app, "Imported: 1 new, 0 updated"),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, "Lena Berg"), "the list is re-read");

    let output = dir.path().join("out.vcf");
    let effects = app.update(Message::People(Action::ExportTo(output.clone())));
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "One person exported."), "{:?}", texts(&app));
    let written = std::fs::read_to_string(&output).expect("exported file");
    assert!(written.contains("Lena Berg") && written.contains("+4915112345678"));

    // A file that is not there says so.
    let effects = app.update(Message::People(Action::ImportFrom(
        dir.path().join("missing.vcf"),
    )));
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "That did not work:"), "{:?}", texts(&app));

    // A file far too big for an address book is refused, not read whole.
    let big = dir.path().join("big.vcf");
    let f = std::fs::File::create(&big).expect("big");
    f.set_len(40 * 1024 * 1024).expect("sparse file");
    let effects = app.update(Message::People(Action::ImportFrom(big)));
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(
        shows(&app, "too large for an address book"),
        "{:?}",
        texts(&app)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_blocked_in_koine_is_unblocked_from_the_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(dir.path());
    let mut rx = engine.subscribe();
    let mut app = app();
    let sms = app.accounts[1].record.clone();
    engine
        .with_store(|s| s.insert_account(&sms))
        .expect("account");
    let spammer = Address::parse_any("+33699999999").expect("phone");
    engine.block_address(&sms.id, &spammer).expect("block");
    let messages = click(&app, "Settings");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "+33699999999 · SMS"), "{:?}", texts(&app));
    let messages = click(&app, "Unblock");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(engine.blocked_addresses().expect("blocked").is_empty());
    assert!(shows(&app, "No one is blocked."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_a_network_request_while_offline_says_so_and_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(dir.path());
    let mut rx = engine.subscribe();
    let mut app = app();
    let xmpp = app.accounts[2].record.clone();
    engine
        .with_store(|s| {
            s.insert_account(&xmpp)?;
            s.insert_request(
                &xmpp.id,
                &koine_api::Request {
                    id: koine_api::RequestId::new("subscribe:zed@chat.example"),
                    kind: koine_api::RequestKind::ContactRequest,
                    from: Address::parse_any("zed@chat.example").expect("jid"),
                    display_name: Some("Zed".into()),
                    conversation: None,
                    preview: None,
                    received: NOW,
                },
            )
        })
        .expect("request");
    drive(&mut app, &engine, &mut rx, vec![Effect::LoadRequests]).await;
    assert!(shows(&app, "Zed (zed@chat.example)"), "{:?}", texts(&app));
    assert!(shows(&app, "XMPP · Contact request"));

    let messages = click_below(&app, "Zed (zed@chat.example)", "Accept");
    let effects = apply(&mut app, messages);
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(
        shows(&app, "The answer did not reach the network:"),
        "{:?}",
        texts(&app)
    );
    assert_eq!(engine.requests().expect("requests").len(), 1, "kept");
    assert!(shows(&app, "Zed (zed@chat.example)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_message_is_shown_from_the_engines_event_without_reading_the_chat_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app();
    let sms = app.accounts[1].record.clone();
    // A network that only reads phone numbers: the account is never
    // started, the message stays queued.
    let engine = Engine::open(
        Profile::at(dir.path()),
        Registry::new().with(std::sync::Arc::new(Phones(sms.protocol.clone()))),
        EngineConfig::default(),
    )
    .expect("engine");
    let mut rx = engine.subscribe();
    engine
        .with_store(|s| s.insert_account(&sms))
        .expect("account");
    // A chat the engine knows, open in the window.
    let key = koine_api::ConversationKey::new("+33611111111");
    let (_, first) = engine
        .send(&sms.id, &key, koine_api::Content::text("first"), None)
        .await
        .expect("send");
    let conversation = engine.message(first).expect("first").conversation;
    drive(&mut app, &engine, &mut rx, vec![Effect::LoadLists]).await;
    let effects = app.update(Message::Select(conversation));
    drive(&mut app, &engine, &mut rx, effects).await;
    assert!(shows(&app, "first"), "{:?}", texts(&app));

    for c in "second".chars() {
        let _ = app.update(Message::Compose(iced::widget::text_editor::Action::Edit(
            iced::widget::text_editor::Edit::Insert(c),
        )));
    }
    let effects = app.update(Message::Send);
    // To the person of this chat, by the best route (this chat's).
    let send = effects
        .iter()
        .find(|e| matches!(e, Effect::Send { .. } | Effect::SendToPerson { .. }))
        .cloned()
        .unwrap_or_else(|| panic!("a send: {effects:?} {:?}", texts(&app)));
    let answer = koine_ui::tasks::run(engine.clone(), send).await;
    // The engine announced the queued row; the window shows it from there.
    let mut later = Vec::new();
    while let Ok(event) = rx.try_recv() {
        later.extend(app.update(Message::Engine(Box::new(event))));
    }
    later.extend(app.update(answer));
    assert!(shows(&app, "second"), "{:?}", texts(&app));
    assert_eq!(
        texts(&app).iter().filter(|t| *t == "second").count(),
        1,
        "shown once: {:?}",
        texts(&app)
    );
    assert!(
        !later.iter().any(|e| matches!(e, Effect::LoadMessages(_))),
        "the chat was read again: {later:?}"
    );
}

/// A network plugin that only parses phone numbers (never run here).
struct Phones(koine_api::ProtocolId);

impl koine_api::Protocol for Phones {
    fn info(&self) -> koine_api::ProtocolInfo {
        koine_api::ProtocolInfo {
            id: self.0.clone(),
            name: "phones".into(),
            capabilities: koine_api::Capabilities::text_only(),
            account_fields: Vec::new(),
            account_label: koine_api::Label::new("net-account", "Account"),
            face: Default::default(),
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, koine_api::AddressError> {
        koine_api::PhoneNumber::parse(input).map(Address::Phone)
    }

    fn run(&self, _context: koine_api::SessionContext) -> koine_api::SessionFuture {
        Box::pin(async { Ok(()) })
    }
}
