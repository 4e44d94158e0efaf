//! Contacts' profiles on a real Prosody: a contact who published a vCard4 on
//! PEP (XEP-0292) and one who has only a vcard-temp (XEP-0054) each have
//! their phone number and e-mail address reported as `ProfileLearned`, when
//! added to the roster and again at the next login. A raw client plays the
//! contacts, writing the vCards as other clients do.

mod support;

use koine_api::{Address, Command, Event, PhoneNumber, Profile};
use support::raw::RawPeer;
use support::{Extra, Prosody, client};

const PUBSUB: &str = "http://jabber.org/protocol/pubsub";

fn profile_of(e: &Event, who: &Address) -> Option<Profile> {
    match e {
        Event::ProfileLearned(p) if p.address == *who => Some(p.clone()),
        _ => None,
    }
}

fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).expect("e164")
}

#[tokio::test(flavor = "multi_thread")]
async fn vcard4_and_vcard_temp_numbers_and_emails_are_reported() {
    let server = Prosody::start_with(Extra {
        modules: vec!["vcard".into()],
        ..Extra::default()
    });
    let (sa, pa, _) = server.account("alice");
    let (sd, pd, jd) = server.account("dora");
    let (se, pe, je) = server.account("erin");

    let mut dora = RawPeer::login(&sd, &pd).await;
    let vcard4 = format!(
        "<pubsub xmlns='{PUBSUB}'><publish node='urn:xmpp:vcard4'><item id='current'>\
         <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Dora</text></fn>\
         <tel><parameters><type><text>cell</text></type></parameters>\
         <uri>tel:+33-6-12-34-56-78</uri></tel>\
         <email><text>dora@mail.example</text></email></vcard></item></publish>\
         <publish-options><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE' type='hidden'><value>{PUBSUB}#publish-options</value></field>\
         <field var='pubsub#access_model'><value>open</value></field></x></publish-options>\
         </pubsub>"
    );
    dora.iq("set", None, &vcard4).await;
    let mut erin = RawPeer::login(&se, &pe).await;
    erin.iq(
        "set",
        None,
        "<vCard xmlns='vcard-temp'><FN>Erin</FN>\
         <TEL><CELL/><NUMBER>+44 7700 900123</NUMBER></TEL>\
         <TEL><HOME/><NUMBER>020 7946 0000</NUMBER></TEL>\
         <EMAIL><INTERNET/><USERID>erin@mail.example</USERID></EMAIL></vCard>",
    )
    .await;

    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa.clone(), pa.clone(), dir.path().join("a"));
    a.online().await;
    let (dora_addr, erin_addr) = (Address::Jid(jd.clone()), Address::Jid(je.clone()));
    for who in [&dora_addr, &erin_addr] {
        a.send(Command::AddContact {
            address: who.clone(),
            name: None,
        })
        .await;
    }
    let want_dora = Profile {
        address: dora_addr.clone(),
        phones: vec![phone("+33612345678")],
        emails: vec!["dora@mail.example".into()],
    };
    let want_erin = Profile {
        address: erin_addr.clone(),
        phones: vec![phone("+447700900123")],
        emails: vec!["erin@mail.example".into()],
    };
    let got = a
        .wait_for("dora's vCard4", |e| profile_of(e, &dora_addr).is_some())
        .await;
    assert_eq!(profile_of(&got, &dora_addr), Some(want_dora.clone()));
    let got = a
        .wait_for("erin's vcard-temp", |e| profile_of(e, &erin_addr).is_some())
        .await;
    assert_eq!(
        profile_of(&got, &erin_addr),
        Some(want_erin.clone()),
        "the national number cannot be placed and is left out"
    );
    a.stop().await.expect("stop");

    // The next login asks again, from the roster.
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let got = a
        .wait_for("dora's vCard4 at login", |e| {
            profile_of(e, &dora_addr).is_some()
        })
        .await;
    assert_eq!(profile_of(&got, &dora_addr), Some(want_dora));
    let got = a
        .wait_for("erin's vcard-temp at login", |e| {
            profile_of(e, &erin_addr).is_some()
        })
        .await;
    assert_eq!(profile_of(&got, &erin_addr), Some(want_erin));
    a.stop().await.expect("stop");
}
