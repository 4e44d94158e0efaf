//! Seeds a profile for the window's benchmarks: 4 accounts (XMPP, Matrix,
//! SMS, gatekeeper; stored disabled, so nothing connects) and TOTAL messages
//! written through the store, in time order over two years up to now.
//!
//! `cargo run --release -p koine-core --example bench_seed -- DIR TOTAL [LARGEST]`
//!
//! Without LARGEST, the messages spread over 240 direct chats (60 per
//! account) the way real histories do: a few chats hold most of them (Zipf).
//! With LARGEST, one chat ("Lena") holds that many and the rest spread.
//! Prints one JSON object with what was written.

use koine_api::{
    AccountId, Address, Content, Conversation, ConversationKey, ConversationKind, Direction,
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Message, ProtocolId, RemoteId, Route, Settings,
    Timestamp, TlsVersion, TransportSecurity, Verification,
};
use koine_core::{AccountRecord, ConversationId, Profile, Store};
use std::path::PathBuf;
use std::time::Instant;

const CHATS_PER_ACCOUNT: usize = 60;
const SPAN_MS: i64 = 2 * 365 * 24 * 3_600_000;

const WORDS: &[&str] = &[
    "bonjour", "café", "demain", "réunion", "train", "hello", "tomorrow", "meeting", "photo",
    "merci", "ok", "dinner", "weekend", "projet", "document", "appel", "call", "later", "soon",
    "maison", "voiture", "garden", "music", "concert", "ticket", "vacances", "holiday", "école",
    "the", "and", "le", "la", "et", "de", "you", "je", "tu", "on", "is", "est", "pour", "with",
];
const NAMES: &[&str] = &[
    "Alice", "Bob", "Camille", "Dmitri", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jonas",
    "Karim", "Lena", "Mathis", "Nora", "Oscar", "Paula",
];

fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Mostly short lines, now and then a long one.
fn text(state: &mut u64) -> String {
    let n = match rng(state) % 10 {
        0 => 15 + rng(state) % 30,
        _ => 1 + rng(state) % 10,
    };
    (0..n)
        .map(|_| WORDS[(rng(state) % WORDS.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn tls() -> TransportSecurity {
    TransportSecurity::Tls {
        version: TlsVersion::Tls13,
        pinned: false,
    }
}

/// A route like the account's network gives.
fn route(protocol: &str) -> Route {
    let e2e = |scheme| EndToEnd {
        scheme,
        ends: E2eEnd::RecipientDevices,
        verification: Verification::Unverified,
        fingerprint: None,
    };
    match protocol {
        "sms" => Route {
            hops: vec![
                Hop::new(
                    "Pixel 7",
                    HopKind::RelayDevice,
                    TransportSecurity::LanTlsPinned {
                        fingerprint: "3f9a0c11d2e4b7a85c6d".into(),
                    },
                ),
                Hop::new("carrier", HopKind::Carrier, TransportSecurity::Cellular),
            ],
            end_to_end: EndToEnd::none(),
        },
        "matrix" => Route {
            hops: vec![
                Hop::new("matrix.example", HopKind::ClientLink, tls()).seeing_your_ip(),
                Hop::new("their.server", HopKind::Federation, tls()),
            ],
            end_to_end: e2e(E2eScheme::Megolm),
        },
        "xmpp" => Route {
            hops: vec![
                Hop::new("jabber.example", HopKind::ClientLink, tls()).seeing_your_ip(),
                Hop::new("chat.example.org", HopKind::Federation, tls()),
            ],
            end_to_end: e2e(E2eScheme::Omemo),
        },
        _ => Route {
            hops: vec![Hop::new("gatekeeper.example", HopKind::ClientLink, tls())],
            end_to_end: e2e(E2eScheme::Signal),
        },
    }
}

struct Chat {
    id: ConversationId,
    key: String,
    title: String,
    account_label: String,
    route: Route,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: bench_seed DIR TOTAL [LARGEST]";
    let dir: PathBuf = args.next().map(PathBuf::from).ok_or(usage)?;
    let total: u64 = args.next().ok_or(usage)?.to_string_lossy().parse()?;
    let largest: Option<u64> = args
        .next()
        .map(|a| a.to_string_lossy().parse())
        .transpose()?;
    let profile = Profile::at(&dir);
    profile.ensure()?;
    let mut store = Store::open_with_keyring(&profile)?;
    let now = Timestamp::now().0;

    let protocols = [
        ("xmpp", "me@jabber.example"),
        ("matrix", "@me:matrix.example"),
        ("sms", "+33 6 12 34 56 78"),
        ("gatekeeper", "+33 6 12 34 56 78 (gatekeeper)"),
    ];
    let mut chats = Vec::new();
    for (a, (protocol, label)) in protocols.iter().enumerate() {
        let account = AccountRecord {
            id: AccountId::new(format!("acct-{protocol}")),
            protocol: ProtocolId::new(*protocol),
            label: (*label).into(),
            settings: Settings::default(),
            enabled: false,
            created_at: Timestamp(now - SPAN_MS),
        };
        store.insert_account(&account)?;
        for c in 0..CHATS_PER_ACCOUNT {
            let n = a * CHATS_PER_ACCOUNT + c;
            let name = format!("{} {n}", NAMES[n % NAMES.len()]);
            let key = match *protocol {
                "xmpp" => format!("peer{n}@chat.example.org"),
                "matrix" => format!("!room{n}:their.server"),
                _ => format!("+3361{n:07}"),
            };
            let route = route(protocol);
            let id = store.upsert_conversation(
                &account.id,
                &Conversation {
                    key: ConversationKey::new(key.clone()),
                    title: name.clone(),
                    kind: ConversationKind::Direct,
                    peer: None,
                    route: route.clone(),
                    read_only: false,
                },
            )?;
            chats.push(Chat {
                id,
                key,
                title: name,
                account_label: (*label).into(),
                route,
            });
        }
    }
    // The big chat, when asked for, is the first one: an XMPP friend.
    if let Some(chat) = chats.first_mut().filter(|_| largest.is_some()) {
        chat.title = "Lena".into();
        store.upsert_conversation(
            &AccountId::new("acct-xmpp"),
            &Conversation {
                key: ConversationKey::new(chat.key.clone()),
                title: chat.title.clone(),
                kind: ConversationKind::Direct,
                peer: None,
                route: chat.route.clone(),
                read_only: false,
            },
        )?;
    }
    // Zipf weights: chat k gets a share proportional to 1 / (k + 1).
    let weights: Vec<f64> = (0..chats.len()).map(|k| 1.0 / (k + 1) as f64).collect();
    let sum: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in &weights {
        acc += w / sum;
        cumulative.push(acc);
    }
    // Shuffle which chat has which rank, so big chats sit on every account.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut rank: Vec<usize> = (0..chats.len()).collect();
    for i in (1..rank.len()).rev() {
        rank.swap(i, (rng(&mut state) % (i as u64 + 1)) as usize);
    }

    let start = Instant::now();
    let mut per_chat = vec![0u64; chats.len()];
    for n in 0..total {
        // The big chat takes its share evenly along the history.
        let big = largest.unwrap_or(0);
        let index =
            if u128::from(per_chat[0]) * u128::from(total) < u128::from(big) * u128::from(n + 1) {
                0
            } else {
                let pick = (rng(&mut state) % 1_000_000) as f64 / 1_000_000.0;
                let k = cumulative
                    .partition_point(|&c| c < pick)
                    .min(chats.len() - 1);
                let i = rank[k];
                if largest.is_some() && i == 0 { 1 } else { i }
            };
        per_chat[index] += 1;
        let chat = &chats[index];
        let outgoing = rng(&mut state).is_multiple_of(2);
        let (sender, sender_name) = if outgoing {
            (Address::Room(chat.account_label.clone()), None)
        } else {
            (Address::Room(chat.key.clone()), Some(chat.title.clone()))
        };
        let message = Message {
            conversation: ConversationKey::new(chat.key.clone()),
            remote_id: RemoteId::new(format!("bench-{n}")),
            local_id: None,
            sender,
            sender_name,
            direction: if outgoing {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            timestamp: Timestamp(now - SPAN_MS + (n as i64 * SPAN_MS) / total.max(1) as i64),
            content: Content::text(text(&mut state)),
            reply_to: None,
            route: chat.route.clone(),
        };
        store.insert_message(chat.id, &message)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    // Everything read.
    for chat in &chats {
        store.mark_read(chat.id)?;
    }
    let db = std::fs::metadata(profile.database())?.len();
    println!(
        "{{\"dir\": {:?}, \"accounts\": 4, \"conversations\": {}, \"messages\": {total}, \"largest_conversation\": {}, \"insert_seconds\": {seconds:.1}, \"database_mib\": {:.1}}}",
        dir.display().to_string(),
        chats.len(),
        per_chat.iter().max().copied().unwrap_or(0),
        db as f64 / 1_048_576.0
    );
    Ok(())
}
