//! Fills a throwaway profile with accounts, conversations and messages for
//! the screenshots (`scripts/screenshots.sh`): real rows through the engine's
//! store API, real routes. Usage: `cargo run -p koine-ui --example seed_profile -- DIR`.

use koine_api::{
    AccountId, Address, Content, Conversation, ConversationKey, ConversationKind, Direction,
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Message, ProtocolId, RemoteId, Route, Settings,
    Timestamp, TlsVersion, TransportSecurity, Verification, Visibility,
};
use koine_core::{AccountRecord, Profile, Store};
use std::path::PathBuf;

const HOUR: i64 = 3_600_000;

/// (hours ago, outgoing, text)
type Lines = &'static [(i64, bool, &'static str)];
/// (account, key, title, route, messages)
type Chat<'a> = (&'a AccountRecord, &'a str, &'a str, &'a Route, Lines);

fn tls() -> TransportSecurity {
    TransportSecurity::Tls {
        version: TlsVersion::Tls13,
        pinned: false,
    }
}

fn e2e(scheme: E2eScheme, verification: Verification, fingerprint: Option<&str>) -> EndToEnd {
    EndToEnd {
        scheme,
        ends: E2eEnd::RecipientDevices,
        verification,
        fingerprint: fingerprint.map(str::to_owned),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: seed_profile DIR")?;
    let profile = Profile::at(&dir);
    profile.ensure()?;
    let mut store = Store::open_with_keyring(&profile)?;
    let now = Timestamp::now().0;

    let account = |id: &str, protocol: &str, label: &str, settings: &[(&str, &str)]| {
        let mut s = Settings::default();
        for (k, v) in settings {
            s.set((*k).to_owned(), (*v).to_owned());
        }
        AccountRecord {
            id: AccountId::new(id),
            protocol: ProtocolId::new(protocol),
            label: label.into(),
            settings: s,
            enabled: false,
            created_at: Timestamp(now - 100 * HOUR),
        }
    };
    let matrix = account("acct-matrix", "matrix", "@me:matrix.example", &[]);
    let sms = account("acct-sms", "sms", "+33 6 12 34 56 78", &[]);
    let xmpp = account("acct-xmpp", "xmpp", "me@jabber.example", &[]);
    for a in [&matrix, &sms, &xmpp] {
        store.insert_account(a)?;
    }

    let matrix_route = Route {
        hops: vec![
            Hop::new("matrix.example", HopKind::ClientLink, tls()).seeing_your_ip(),
            Hop::new("their.server", HopKind::Federation, tls()),
        ],
        end_to_end: e2e(
            E2eScheme::Megolm,
            Verification::Verified,
            Some("🐶 🔑 🌵 🎸 ⚓ 🍄 🚲"),
        ),
    };
    let bridged = Route {
        hops: vec![
            Hop::new("matrix.example", HopKind::ClientLink, tls()).seeing_your_ip(),
            Hop::new(
                "wa.bridge.example",
                HopKind::Bridge {
                    remote_network: "WhatsApp".into(),
                },
                tls(),
            )
            .reading(Visibility::Content)
            .operated_by("bridge.example"),
        ],
        end_to_end: EndToEnd {
            ends: E2eEnd::Hop(1),
            ..e2e(E2eScheme::Megolm, Verification::Unverified, None)
        },
    };
    let sms_route = Route {
        hops: vec![
            Hop::new(
                "Pixel 7",
                HopKind::RelayDevice,
                TransportSecurity::LanTlsPinned {
                    fingerprint: "3f9a0c11d2e4b7a85c6d".into(),
                },
            )
            .reading(Visibility::Content),
            Hop::new("carrier", HopKind::Carrier, TransportSecurity::Cellular)
                .reading(Visibility::Content)
                .operated_by("your carrier"),
        ],
        end_to_end: EndToEnd::none(),
    };
    let xmpp_route = Route {
        hops: vec![
            Hop::new("jabber.example", HopKind::ClientLink, tls()).seeing_your_ip(),
            Hop::new("chat.example.org", HopKind::Federation, tls()),
        ],
        end_to_end: e2e(E2eScheme::Omemo, Verification::Unverified, None),
    };

    let chats: [Chat<'_>; 5] = [
        (
            &matrix,
            "!alice:their.server",
            "Alice",
            &matrix_route,
            &[
                (27, false, "Are we still on for tomorrow?"),
                (26, true, "Yes! 10:00 at the station."),
                (2, false, "Running five minutes late, sorry"),
                (1, true, "No problem, I'll grab coffee ☕"),
            ],
        ),
        (
            &sms,
            "+33611111111",
            "Mum",
            &sms_route,
            &[
                (30, false, "Call me when you can"),
                (3, false, "Dinner on Sunday?"),
            ],
        ),
        (
            &matrix,
            "!wa:matrix.example",
            "Bob (WhatsApp)",
            &bridged,
            &[(5, false, "Sent the photos"), (4, true, "Thanks Bob!")],
        ),
        (
            &xmpp,
            "carol@chat.example.org",
            "Carol",
            &xmpp_route,
            &[(50, true, "Happy birthday 🎉"), (49, false, "Thank you!")],
        ),
        (
            &xmpp,
            "stranger@spam.example",
            "stranger@spam.example",
            &xmpp_route,
            &[(0, false, "Hi, can I add you?")],
        ),
    ];
    for (i, (account, key, title, route, messages)) in chats.into_iter().enumerate() {
        let id = store.upsert_conversation(
            &account.id,
            &Conversation {
                key: ConversationKey::new(key),
                title: title.into(),
                kind: ConversationKind::Direct,
                peer: None,
                route: (*route).clone(),
                read_only: false,
            },
        )?;
        for (n, (hours_ago, outgoing, text)) in messages.iter().enumerate() {
            let (sender, name) = if *outgoing {
                (Address::Room(account.label.clone()), None)
            } else {
                (Address::Room(key.to_string()), Some(title.to_string()))
            };
            store.insert_message(
                id,
                &Message {
                    conversation: ConversationKey::new(key),
                    remote_id: RemoteId::new(format!("seed-{i}-{n}")),
                    local_id: None,
                    sender,
                    sender_name: name,
                    direction: if *outgoing {
                        Direction::Outgoing
                    } else {
                        Direction::Incoming
                    },
                    timestamp: Timestamp(now - hours_ago * HOUR - 60_000 * (7 * n as i64)),
                    content: Content::text(*text),
                    reply_to: None,
                    route: (*route).clone(),
                },
            )?;
        }
        if title == "Mum" {
            store.set_pinned(id, true)?;
        }
        if key.starts_with("stranger") {
            store.set_request(id, true)?;
        }
        if title == "Alice" || title == "Bob (WhatsApp)" {
            store.mark_read(id)?;
        }
    }
    println!("{}", dir.display());
    Ok(())
}
