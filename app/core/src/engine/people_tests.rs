//! People: merge, split, undo, suggestion rules, vCard import and export.

use super::test_net::Nets;
use super::*;
use crate::people::{
    AddressSource, HintSource, Identifier, PeopleChange, PersonAddress, Strength, SuggestionReason,
};

fn addr(text: &str) -> Address {
    Address::parse_any(text).expect("address")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn sorted(mut addresses: Vec<PersonAddress>) -> Vec<(Option<AccountId>, Address)> {
    addresses.sort_by_key(|a| (a.account.clone(), a.address.to_string()));
    addresses
        .into_iter()
        .map(|a| (a.account, a.address))
        .collect()
}

#[test]
fn merge_split_and_undo_restore_each_state() {
    rt().block_on(async {
        let n = Nets::new();
        let gk = n.account("gk", "+33600000001").await;
        let sms = n.account("sms", "phone").await;
        let chat = n.account("chat", "me@chat.example").await;
        let e = &n.engine;
        let bob_gk = e
            .create_person("Bob", &[(Some(gk.clone()), addr("+33612345678"))])
            .expect("create");
        let bob_sms = e
            .create_person("Bobby", &[(Some(sms.clone()), addr("+33612345678"))])
            .expect("create");
        let bob_chat = e
            .create_person(
                "bob@chat",
                &[(Some(chat.clone()), addr("bob@chat.example"))],
            )
            .expect("create");
        e.allow_downgrade(bob_sms, &sms).expect("allow");
        let before: Vec<_> = e.people().expect("people");
        assert_eq!(before.len(), 3);

        e.merge_people(bob_gk, &[bob_sms, bob_chat]).expect("merge");
        let people = e.people().expect("people");
        assert_eq!(people.len(), 1, "merged into one");
        assert_eq!(people[0].id, bob_gk);
        assert_eq!(people[0].name, "Bob");
        assert_eq!(people[0].addresses.len(), 3);
        assert_eq!(
            e.with_store(|s| s.downgrade_allowances(bob_gk))
                .expect("allowances"),
            vec![sms.clone()],
            "a merged person keeps the allowances of both"
        );

        let split = e
            .split_person(
                bob_gk,
                &[(Some(chat.clone()), addr("bob@chat.example"))],
                None,
            )
            .expect("split");
        let merged = e.person(bob_gk).expect("person");
        assert_eq!(merged.addresses.len(), 2);
        let split_person = e.person(split).expect("split person");
        assert_eq!(split_person.name, "bob@chat.example");
        assert_eq!(
            sorted(split_person.addresses),
            vec![(Some(chat.clone()), addr("bob@chat.example"))]
        );

        assert_eq!(e.undo_people().expect("undo"), Some(PeopleChange::Split));
        assert!(e.person(split).is_err(), "the split-off person is gone");
        assert_eq!(e.person(bob_gk).expect("person").addresses.len(), 3);

        assert_eq!(e.undo_people().expect("undo"), Some(PeopleChange::Merge));
        let after = e.people().expect("people");
        assert_eq!(after.len(), 3);
        for p in &before {
            let now = after.iter().find(|q| q.id == p.id).expect("restored");
            assert_eq!(now.name, p.name);
            assert_eq!(sorted(now.addresses.clone()), sorted(p.addresses.clone()));
        }
        assert_eq!(
            e.with_store(|s| s.downgrade_allowances(bob_gk))
                .expect("allowances"),
            Vec::<AccountId>::new(),
            "undo takes back the allowance the merge brought"
        );
        assert_eq!(
            e.with_store(|s| s.downgrade_allowances(bob_sms))
                .expect("allowances"),
            vec![sms]
        );
        assert_eq!(e.undo_people().expect("undo"), None, "nothing left to undo");
    });
}

#[test]
fn strong_signals_are_suggested_display_names_only_weakly_and_nothing_merges_alone() {
    rt().block_on(async {
        let n = Nets::new();
        let gk = n.account("gk", "+33600000001").await;
        let sms = n.account("sms", "phone").await;
        let chat = n.account("chat", "me@chat.example").await;
        let e = &n.engine;
        // Seen in rosters: the same number on the gatekeeper and SMS.
        n.contact(&gk, "+33612345678", "Bob G");
        n.contact(&sms, "+33612345678", "Bob S");
        // Only the same display name.
        n.contact(&chat, "ann@chat.example", "Ann Martin");
        n.contact(&gk, "+33699999999", "ann martin");
        // A profile naming a number.
        n.contact(&chat, "carol@chat.example", "Carol");
        n.contact(&sms, "+33655555555", "C.");
        e.record_profile_identifier(
            &chat,
            &addr("carol@chat.example"),
            Identifier::Phone(koine_api::PhoneNumber::parse("+33655555555").expect("e164")),
        )
        .expect("profile");

        let people = e.people().expect("people");
        assert_eq!(
            people.len(),
            6,
            "every contact is a person of its own: no auto-merge"
        );
        let id = |name: &str| people.iter().find(|p| p.name == name).expect(name).id;
        let pair = |a: &str, b: &str| (id(a).min(id(b)), id(a).max(id(b)));

        let suggestions = e.suggestions().expect("suggestions");
        let find = |a: &str, b: &str| {
            suggestions
                .iter()
                .find(|s| (s.a, s.b) == pair(a, b))
                .unwrap_or_else(|| panic!("no suggestion for {a} and {b}: {suggestions:?}"))
        };
        let bob = find("Bob G", "Bob S");
        assert_eq!(bob.strength, Strength::Strong);
        assert_eq!(
            bob.reason,
            SuggestionReason::SamePhoneNumber("+33612345678".into())
        );
        // A number in a contact's own profile is self-asserted: weak.
        let carol = find("Carol", "C.");
        assert_eq!(carol.strength, Strength::Weak);
        assert_eq!(
            carol.reason,
            SuggestionReason::InProfile("+33655555555".into())
        );
        let ann = find("Ann Martin", "ann martin");
        assert_eq!(ann.strength, Strength::Weak);
        assert!(matches!(ann.reason, SuggestionReason::SameDisplayName(_)));
        assert_eq!(suggestions.len(), 3, "{suggestions:?}");
        assert_eq!(suggestions[2].strength, Strength::Weak, "strong ones first");
        assert_eq!(
            e.people().expect("people").len(),
            6,
            "suggesting merges nothing"
        );

        // An address the user typed is a strong signal too.
        e.add_person_address(id("Ann Martin"), None, &addr("+33699999999"))
            .expect("typed");
        let s = e.suggestions().expect("suggestions");
        let ann = s
            .iter()
            .find(|s| (s.a, s.b) == pair("Ann Martin", "ann martin"))
            .expect("ann");
        assert_eq!(ann.strength, Strength::Strong);
        assert_eq!(
            ann.reason,
            SuggestionReason::TypedByYou("+33699999999".into())
        );

        // Dismissed pairs and split people are not suggested again.
        e.dismiss_suggestion(id("Bob G"), id("Bob S"))
            .expect("dismiss");
        e.merge_people(id("Carol"), &[id("C.")]).expect("merge");
        let carol_again = e
            .split_person(
                id("Carol"),
                &[(Some(sms.clone()), addr("+33655555555"))],
                Some("C."),
            )
            .expect("split");
        let s = e.suggestions().expect("suggestions");
        assert!(
            !s.iter().any(|x| (x.a, x.b) == pair("Bob G", "Bob S")
                || x.a == carol_again
                || x.b == carol_again),
            "{s:?}"
        );
    });
}

#[test]
fn a_vcard_address_book_becomes_people_on_the_networks_that_reach_them() {
    rt().block_on(async {
        let n = Nets::new();
        let gk = n.account("gk", "+33600000001").await;
        let sms = n.account("sms", "phone").await;
        let e = &n.engine;
        n.contact(&gk, "+33612345678", "Bob on gk");
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Dupont\r\nTEL;TYPE=CELL:+33 6 12 34 56 78\r\nEMAIL:bob@mail.example\r\nIMPP:xmpp:bob@chat.example\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoé\r\nTEL:0612\r\nEND:VCARD\r\n";
        let report = e.import_vcard(text).expect("import");
        assert_eq!((report.created, report.updated), (1, 1));
        assert_eq!(report.skipped, vec!["TEL:0612".to_owned()]);
        let bob = e.find_person("+33612345678").expect("bob");
        assert_eq!(bob.name, "Bob on gk", "the existing person is reused");
        let key = |(a, x): &(Option<AccountId>, Address)| (a.clone(), x.to_string());
        let mut got = sorted(bob.addresses.clone());
        got.sort_by_key(key);
        let mut want = vec![
            (None, addr("bob@chat.example")),
            (Some(gk.clone()), addr("+33612345678")),
            (Some(sms.clone()), addr("+33612345678")),
        ];
        want.sort_by_key(key);
        assert_eq!(
            got, want,
            "a number goes to both phone networks; a JID no account reaches is kept apart"
        );
        assert!(bob.addresses.iter().all(|a| a.source == AddressSource::Imported));
        assert!(bob.hints.iter().any(|h| h.source == HintSource::Imported
            && h.identifier == Identifier::Email("bob@mail.example".into())));
        assert!(e.import_vcard("BEGIN:VCARD\nFN:x\n").is_err(), "bad input is an error");

        let out = e.export_vcard(Some(&[bob.id])).expect("export");
        let cards = crate::vcard::parse(&out).expect("reads back");
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].name, "Bob on gk");
        assert_eq!(cards[0].phones.len(), 1, "one number though two networks");
        assert_eq!(cards[0].emails, vec!["bob@mail.example".to_owned()]);
        assert_eq!(cards[0].addresses, vec![addr("bob@chat.example")]);
    });
}

#[test]
fn a_profile_a_plugin_reports_suggests_merging_with_the_number_it_lists() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        let sms = n.account("sms", "phone").await;
        let e = &n.engine;
        n.contact(&chat, "dora@chat.example", "Dora");
        n.contact(&sms, "+33644444444", "D.");
        assert!(e.suggestions().expect("suggestions").is_empty());

        let mut rx = e.subscribe();
        n.start(&chat).await;
        let profile = koine_api::Profile {
            address: addr("dora@chat.example"),
            phones: vec![koine_api::PhoneNumber::parse("+33 6 44 44 44 44").expect("e164")],
            emails: vec![" Dora@Mail.Example ".into(), "not an address".into()],
        };
        n.push
            .send((chat.clone(), super::test_net::Push::Profile(profile)))
            .expect("push");
        let hints_of_dora = || {
            let people = e.people().expect("people");
            let dora = people.iter().find(|p| p.name == "Dora").expect("Dora");
            dora.hints.clone()
        };
        while hints_of_dora().len() < 2 {
            super::test_net::wait(&mut rx, "people changed", |ev| {
                matches!(ev, EngineEvent::PeopleChanged)
            })
            .await;
        }

        let suggestions = e.suggestions().expect("suggestions");
        assert_eq!(suggestions.len(), 1, "{suggestions:?}");
        assert_eq!(suggestions[0].strength, Strength::Weak, "self-asserted");
        assert_eq!(
            suggestions[0].reason,
            SuggestionReason::InProfile("+33644444444".into())
        );
        assert_eq!(
            e.people().expect("people").len(),
            2,
            "suggested, never merged"
        );
        let hints = hints_of_dora();
        let keys: Vec<String> = hints.iter().map(|h| h.identifier.key()).collect();
        assert!(
            keys.contains(&"email:dora@mail.example".to_owned()),
            "{keys:?}"
        );
        assert_eq!(keys.len(), 2, "the malformed e-mail is skipped: {keys:?}");
    });
}

#[test]
fn an_sms_sender_name_is_only_a_weak_signal() {
    rt().block_on(async {
        let n = Nets::new();
        let one = n.account("sms", "phone one").await;
        let two = n.account("sms", "phone two").await;
        // "MyBank" on two phones: anyone can send an SMS under that name.
        n.contact_at(&one, Address::SmsSender("MyBank".into()), "MyBank");
        n.contact_at(&two, Address::SmsSender("MyBank".into()), "MyBank 2");
        let e = &n.engine;
        let people = e.people().expect("people");
        assert_eq!(people.len(), 2, "no auto-merge");
        let suggestions = e.suggestions().expect("suggestions");
        assert_eq!(suggestions.len(), 1, "{suggestions:?}");
        assert_eq!(
            suggestions[0].strength,
            Strength::Weak,
            "an unverified sender name is not a strong signal: {suggestions:?}"
        );
    });
}
