// A pseudo-random generator for mutated cards: its wrapping arithmetic is the point.
#![allow(clippy::arithmetic_side_effects)]

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

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

#[test]
fn thousands_of_mutated_cards_never_panic() {
    let seed = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\\,é\r\nN:D;Z;;;\r\nTEL;VALUE=uri:tel:+33612345678\r\nEMAIL:z@x.org\r\nIMPP:xmpp:z@x.org\r\nIMPP:matrix:u/z:x.org\r\nX-KOINE-PROVIDER:p:1\r\nEND:VCARD\r\n";
    assert!(parse(seed).is_ok());
    let tokens = [
        "\r\n",
        "\n ",
        ":",
        ";",
        "\\",
        "\"",
        "=",
        ".",
        "BEGIN:VCARD",
        "END:VCARD",
        "TEL:",
        "tel:",
        "+",
        "@",
        "matrix:u/",
        "xmpp:",
        "é",
        "\u{feff}",
        "\t",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5000 {
        let mut text: Vec<char> = seed.chars().collect();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(text.len() + 1);
            match rng.below(3) {
                0 => {
                    let t = tokens[rng.below(tokens.len())];
                    for (i, c) in t.chars().enumerate() {
                        text.insert(at + i, c);
                    }
                }
                1 if !text.is_empty() => {
                    let end = (at + rng.below(8)).min(text.len());
                    text.drain(at.min(end)..end);
                }
                _ => text.insert(at, char::from_u32(rng.below(0x3000) as u32).unwrap_or('?')),
            }
        }
        let text: String = text.into_iter().collect();
        let _ = parse(&text);
    }
}
