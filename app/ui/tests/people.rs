//! Simulator tests of the People screen (`ICED_TEST_BACKEND=tiny-skia`):
//! people with their addresses per network, merge suggestions labelled
//! strong or weak with their reason, manual merge, split, Undo, vCard
//! import and export, and a person's history across networks with routes.

mod common;

use common::*;
use koine_api::{AccountId, Address, DeliveryState, Direction};
use koine_core::people::{PeopleChange, SuggestionReason};
use koine_core::{PersonId, PersonMessage, Strength, Suggestion};
use koine_ui::app::{App, Effect, Message};
use koine_ui::people_screen::{Action, Job};

const ALICE_P: PersonId = PersonId(1);
const ALICE_SMS: PersonId = PersonId(2);
const MUM_P: PersonId = PersonId(3);

fn people_app() -> App {
    let mut app = app();
    let _ = app.update(Message::PeopleLoaded(vec![
        person(
            1,
            "Alice",
            &[
                ("acct-m", "@alice:their.server"),
                ("acct-x", "alice@jabber.example"),
            ],
        ),
        person(2, "Alice M.", &[("acct-s", "+33622222222")]),
        person(3, "Mum", &[("acct-s", "+33611111111")]),
    ]));
    let messages = click(&app, "People");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::LoadSuggestions)]);
    app
}

fn suggestions() -> Vec<Suggestion> {
    vec![
        Suggestion {
            a: ALICE_P,
            b: ALICE_SMS,
            strength: Strength::Strong,
            reason: SuggestionReason::InProfile("+33622222222".into()),
        },
        Suggestion {
            a: ALICE_SMS,
            b: MUM_P,
            strength: Strength::Weak,
            reason: SuggestionReason::SameDisplayName("m".into()),
        },
    ]
}

#[test]
fn people_are_listed_with_their_addresses_per_network() {
    let app = people_app();
    for needle in [
        "Alice",
        "@alice:their.server · Matrix",
        "alice@jabber.example · XMPP",
        "+33622222222 · SMS",
        "Mum",
    ] {
        assert!(shows(&app, needle), "{needle:?} in {:?}", texts(&app));
    }
    // Only a person with several addresses can be split.
    assert_eq!(
        texts(&app).iter().filter(|t| *t == "Split out").count(),
        2,
        "{:?}",
        texts(&app)
    );
}

#[test]
fn suggestions_say_strong_or_weak_and_why_and_are_merged_or_dismissed() {
    let mut app = people_app();
    let _ = app.update(Message::People(Action::SuggestionsLoaded(suggestions())));
    assert!(shows(&app, "Strong match"), "{:?}", texts(&app));
    assert!(shows(&app, "A profile names +33622222222"));
    assert!(shows(&app, "Weak match (name only)"));
    assert!(shows(&app, "Only the same name: m"));
    assert!(shows(&app, "Alice and Alice M."));

    let messages = click_below(&app, "A profile names +33622222222", "Merge");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::People(Job::Merge(ALICE_P, vec![ALICE_SMS]))]
    );

    let messages = click_below(&app, "Only the same name: m", "Not the same");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::Dismiss(ALICE_SMS, MUM_P))]);
    assert!(!shows(&app, "Weak match (name only)"), "dismissed");
}

#[test]
fn two_picked_people_are_merged_and_the_merge_can_be_undone() {
    let mut app = people_app();
    assert!(!shows(&app, "Undo"), "nothing to undo yet");
    // The merge button waits for two people.
    assert!(click(&app, "Tick two people to merge them").is_empty());
    for name in ["Mum", "Alice M."] {
        let at = text_bounds(&app)
            .into_iter()
            .find(|(t, b)| t == name && b.x > 330.0)
            .expect("name")
            .1;
        // The checkbox left of the name.
        let messages = click_at(&app, iced::Point::new(at.x - 16.0, at.center_y()));
        let _ = apply(&mut app, messages);
    }
    let messages = click(&app, "Merge the 2 picked");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::People(Job::Merge(MUM_P, vec![ALICE_SMS]))]
    );

    let _ = app.update(Message::People(Action::Changed));
    let messages = click(&app, "Undo");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::Undo)]);
    let _ = app.update(Message::People(Action::Undone(Some(PeopleChange::Merge))));
    assert!(shows(&app, "The merge was undone."));
    assert!(!shows(&app, "Undo"));
}

#[test]
fn an_address_is_split_out_and_undo_appears() {
    let mut app = people_app();
    let messages = click_on_line(&app, "alice@jabber.example · XMPP", "Split out");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::People(Job::Split(
            ALICE_P,
            vec![(
                Some(AccountId::new("acct-x")),
                Address::parse_any("alice@jabber.example").expect("jid")
            )]
        ))]
    );
    let _ = app.update(Message::People(Action::Changed));
    assert!(shows(&app, "Undo"));
    // The engine's change re-reads the people and the suggestions.
    let effects = app.update(Message::Engine(Box::new(
        koine_core::EngineEvent::PeopleChanged,
    )));
    assert!(effects.contains(&Effect::LoadPeople), "{effects:?}");
    assert!(!effects.contains(&Effect::LoadLists), "{effects:?}");
    assert!(effects.contains(&Effect::People(Job::LoadSuggestions)));
}

#[test]
fn a_persons_history_joins_their_networks_each_with_its_route() {
    let mut app = people_app();
    let messages = click_on_line(&app, "Alice", "History");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::History(ALICE_P))]);

    let mut on_matrix = message(
        10,
        ALICE,
        Direction::Incoming,
        3,
        "Hello from Matrix",
        DeliveryState::Delivered,
    );
    on_matrix.route = Some(matrix_verified());
    let mut by_sms = message(
        11,
        MUM_SMS,
        Direction::Outgoing,
        2,
        "Answer by SMS",
        DeliveryState::Sent,
    );
    by_sms.route = Some(sms_route());
    let history = vec![
        PersonMessage {
            account: AccountId::new("acct-m"),
            protocol: koine_api::ProtocolId::new("matrix"),
            conversation: ALICE,
            message: on_matrix,
        },
        PersonMessage {
            account: AccountId::new("acct-s"),
            protocol: koine_api::ProtocolId::new("sms"),
            conversation: MUM_SMS,
            message: by_sms,
        },
    ];
    let _ = app.update(Message::People(Action::HistoryLoaded(ALICE_P, history)));
    let all = texts(&app);
    assert!(shows(&app, "Alice on every network"), "{all:?}");
    assert!(shows(&app, "Hello from Matrix"));
    assert!(shows(&app, "Answer by SMS"));
    assert!(
        all.iter().any(
            |t| t.starts_with("Matrix · matrix.example → federation → their.server")
                && t.contains("verified")
        ),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|t| t.starts_with("SMS · Pixel 7 → carrier") && t.contains("carrier")),
        "{all:?}"
    );
    assert!(shows(&app, "You ·"), "own messages say so");
    // Close hides it.
    let messages = click(&app, "Close");
    let _ = apply(&mut app, messages);
    assert!(!shows(&app, "Hello from Matrix"));
    let _ = app.update(Message::People(Action::OpenPerson(ALICE_P)));
    // A merge or split elsewhere re-reads the open history.
    let effects = app.update(Message::Engine(Box::new(
        koine_core::EngineEvent::PeopleChanged,
    )));
    assert!(
        effects.contains(&Effect::People(Job::History(ALICE_P))),
        "{effects:?}"
    );
}

#[test]
fn vcard_import_and_export_use_the_desktops_file_chooser_and_a_dropped_file() {
    let mut app = people_app();
    let messages = click(&app, "Import vCard…");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::PickImport)]);
    let effects = app.update(Message::People(Action::ImportFrom(
        "/home/me/contacts.vcf".into(),
    )));
    assert_eq!(
        effects,
        [Effect::People(Job::Import("/home/me/contacts.vcf".into()))]
    );
    let messages = click(&app, "Export vCard…");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::People(Job::PickExport)]);
    let effects = app.update(Message::People(Action::ExportTo("/home/me/out.vcf".into())));
    assert_eq!(
        effects,
        [Effect::People(Job::Export("/home/me/out.vcf".into()))]
    );
    assert!(shows(&app, "or drop a vCard file here"));
    // A vCard dropped on the People screen is imported.
    let effects = app.update(Message::Act(koine_ui::actions::Action::Dropped(
        "/home/me/Downloads/Lena.VCF".into(),
    )));
    assert_eq!(
        effects,
        [Effect::People(Job::Import(
            "/home/me/Downloads/Lena.VCF".into()
        ))]
    );
    let _ = app.update(Message::People(Action::Imported(
        koine_core::ImportReport {
            created: 2,
            updated: 1,
            addresses: 5,
            skipped: vec!["0612".into()],
        },
    )));
    assert!(shows(&app, "Imported: 2 new, 1 updated, 1 values skipped."));
    let _ = app.update(Message::People(Action::Exported(3)));
    assert!(shows(&app, "3 people exported."));
}

#[test]
fn a_person_is_renamed_in_place() {
    let mut app = people_app();
    let messages = click_on_line(&app, "Mum", "Rename");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::People(Action::RenameText("Maman ".into())));
    let messages = click(&app, "Save");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::People(Job::Rename(MUM_P, "Maman".into()))]
    );
    assert!(!shows(&app, "Save"), "the field is gone");
    // An empty name is not saved.
    let messages = click_on_line(&app, "Alice", "Rename");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::People(Action::RenameText("  ".into())));
    let messages = click(&app, "Save");
    assert!(apply(&mut app, messages).is_empty());
}

#[test]
fn an_address_is_typed_for_a_person_with_the_account_that_reaches_it() {
    let mut app = people_app();
    let messages = click_below(&app, "+33611111111 · SMS", "Add an address");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::People(Action::AddText("not an address".into())));
    let messages = click(&app, "Add");
    assert!(apply(&mut app, messages).is_empty());
    assert!(shows(&app, "That is not an address:"), "{:?}", texts(&app));

    let _ = app.update(Message::People(Action::AddText(
        "mum@jabber.example".into(),
    )));
    let messages = click(&app, "XMPP · me@jabber.example");
    let _ = apply(&mut app, messages);
    let messages = click(&app, "Add");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::People(Job::AddAddress(
            MUM_P,
            Some(AccountId::new("acct-x")),
            Address::parse_any("mum@jabber.example").expect("jid")
        ))]
    );
    assert!(!shows(&app, "XMPP · me@jabber.example"), "the form is gone");
}
