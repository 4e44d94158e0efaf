use super::*;

#[test]
fn reads_a_3_0_card_with_folded_lines_groups_and_escapes() {
    let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dupont;Zo\\;é;;;\r\nitem1.TEL;TYPE=CELL:+33 6 12 34\r\n  56 78\r\nEMAIL;TYPE=INTERNET:Zoe@Example.ORG\r\nX-JABBER:zoe@xmpp.example\r\nTEL:06 12 34 56 78\r\nEND:VCARD\r\n";
    let cards = parse(text).expect("valid");
    assert_eq!(cards.len(), 1);
    let c = &cards[0];
    assert_eq!(c.name, "Zo;é Dupont");
    assert_eq!(
        c.phones,
        vec![PhoneNumber::parse("+33612345678").expect("e164")]
    );
    assert_eq!(c.emails, vec!["zoe@example.org".to_owned()]);
    assert_eq!(
        c.addresses,
        vec![Address::Jid(Jid::parse("zoe@xmpp.example").expect("jid"))]
    );
    assert_eq!(c.skipped, vec!["TEL:06 12 34 56 78".to_owned()]);
}

#[test]
fn reads_4_0_uris_and_several_cards() {
    let text = "BEGIN:VCARD\nVERSION:4.0\nFN:Bob\nTEL;VALUE=uri;TYPE=\"cell,voice\":tel:+4915112345678\nIMPP:matrix:u/bob:matrix.example\nIMPP:xmpp:bob@x.example?message\nX-KOINE-PROVIDER:birdychat:u-1\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:Ann\nIMPP:sip:ann@x\nEND:VCARD\n";
    let cards = parse(text).expect("valid");
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].name, "Bob");
    assert_eq!(cards[0].phones[0].as_str(), "+4915112345678");
    assert_eq!(cards[0].addresses.len(), 3);
    assert!(
        matches!(&cards[0].addresses[0], Address::Mxid(m) if m.as_str() == "@bob:matrix.example")
    );
    assert!(matches!(&cards[0].addresses[2], Address::Provider(_)));
    assert_eq!(cards[1].skipped, vec!["IMPP:sip:ann@x".to_owned()]);
}

#[test]
fn writes_what_it_reads() {
    let card = Card {
        name: "Zoé, the long-named person whose name goes past seventy-five octets of text".into(),
        phones: vec![PhoneNumber::parse("+33612345678").expect("e164")],
        emails: vec!["zoe@example.org".into()],
        addresses: vec![
            Address::Jid(Jid::parse("zoe@xmpp.example").expect("jid")),
            Address::Mxid(Mxid::parse("@zoe:matrix.example").expect("mxid")),
        ],
        skipped: Vec::new(),
    };
    let text = write(std::slice::from_ref(&card));
    assert!(text.lines().all(|l| l.len() <= 76), "{text}");
    assert!(text.contains("\r\n "), "long lines are folded");
    assert_eq!(parse(&text).expect("round trip"), vec![card]);
}

#[test]
fn malformed_input_is_a_typed_error() {
    assert_eq!(parse(""), Err(VcardError::NoCard));
    assert_eq!(parse("hello"), Err(VcardError::Malformed(1)));
    assert_eq!(
        parse("BEGIN:VCARD\nFN:x\n"),
        Err(VcardError::Unterminated(1))
    );
    assert_eq!(parse("FN:x\n"), Err(VcardError::Misplaced(1)));
    assert_eq!(
        parse("BEGIN:VCARD\nBEGIN:VCARD\n"),
        Err(VcardError::Misplaced(2))
    );
    assert_eq!(parse("END:VCARD\n"), Err(VcardError::Misplaced(1)));
    // Odd bytes never panic.
    for text in [
        "BEGIN:VCARD\nTEL:\\\nEND:VCARD",
        "BEGIN:VCARD\n;:\nEND:VCARD",
        "BEGIN:VCARD\nIMPP:xmpp:\nIMPP:matrix:u/\nEND:VCARD",
        "\u{feff}BEGIN:VCARD",
    ] {
        let _ = parse(text);
    }
}
