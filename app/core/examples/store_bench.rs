//! Store benchmark: insert rate, full-text search latency, timeline paging and
//! the conversation list on a profile of N messages across 4 accounts.
//!
//! `cargo run --release -p koine-core --example store_bench -- [MESSAGES]`
//! (default 1,000,000). Prints one JSON object; figures go to BENCHMARKS.md.

use koine_api::{
    AccountId, Address, Content, ConversationKey, Direction, EndToEnd, Hop, HopKind, Jid, Message,
    ProtocolId, RemoteId, Route, Settings, Timestamp, TransportSecurity,
};
use koine_core::store::StoreKey;
use koine_core::{AccountRecord, Store};
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "bonjour", "café", "demain", "réunion", "train", "hello", "tomorrow", "meeting", "photo",
    "merci", "ok", "dinner", "weekend", "projet", "document", "appel", "call", "later", "soon",
    "maison", "voiture", "garden", "music", "concert", "ticket", "vacances", "holiday", "école",
];

fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn text(state: &mut u64) -> String {
    let n = 3 + rng(state) % 12;
    (0..n)
        .map(|_| WORDS[(rng(state) % WORDS.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    // Encrypted as a profile's history is, with a key made here (the keyring
    // is not part of the measure).
    let mut store = Store::open(&dir.path().join("bench.sqlite3"), &StoreKey::generate())?;
    let route = Route {
        hops: vec![Hop::new(
            "example.org",
            HopKind::ClientLink,
            TransportSecurity::Plaintext,
        )],
        end_to_end: EndToEnd::none(),
    };
    let accounts: Vec<AccountId> = (0..4)
        .map(|i| AccountId::new(format!("acct-{i}")))
        .collect();
    for (i, id) in accounts.iter().enumerate() {
        store.insert_account(&AccountRecord {
            id: id.clone(),
            protocol: ProtocolId::new(["xmpp", "matrix", "sms", "gatekeeper"][i]),
            label: format!("me{i}@example.org"),
            settings: Settings::default(),
            enabled: true,
            created_at: Timestamp(0),
        })?;
    }
    // One big conversation holds 10% of the messages; the rest spread over 400.
    let big = store
        .ensure_conversation(
            &accounts[0],
            &ConversationKey::new("big@example.org"),
            None,
            false,
        )?
        .0;
    let mut conversations = Vec::new();
    for c in 0..400 {
        let key = ConversationKey::new(format!("peer{c}@example.org"));
        conversations.push(
            store
                .ensure_conversation(&accounts[c % 4], &key, None, false)?
                .0,
        );
    }
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let start = Instant::now();
    for n in 0..total {
        let conversation = if n % 10 == 0 {
            big
        } else {
            conversations[(n % 400) as usize]
        };
        let message = Message {
            conversation: ConversationKey::new("x"),
            remote_id: RemoteId::new(format!("r{n}")),
            local_id: None,
            sender: Address::Jid(Jid::parse("peer@example.org")?),
            sender_name: Some("Peer".into()),
            direction: if n % 2 == 0 {
                Direction::Incoming
            } else {
                Direction::Outgoing
            },
            timestamp: Timestamp(1_700_000_000_000 + n as i64 * 1000),
            content: Content::text(text(&mut state)),
            reply_to: None,
            route: route.clone(),
        };
        store.insert_message(conversation, &message)?;
    }
    let insert_secs = start.elapsed().as_secs_f64();

    let queries = [
        "café",
        "reunion demain",
        "concert ticket",
        "holid",
        "photo merci",
        "école",
        "zzz",
    ];
    let mut samples = Vec::new();
    for _ in 0..20 {
        for q in queries {
            let t = Instant::now();
            let hits = store.search(q, 50)?;
            samples.push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    let search_p50 = percentile(&mut samples, 0.5);
    let search_p95 = percentile(&mut samples, 0.95);

    let mut open = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let page = store.messages(big, None, 50)?;
        open.push(t.elapsed());
        std::hint::black_box(page);
    }
    let mut list = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let all = store.conversations()?;
        list.push(t.elapsed());
        std::hint::black_box(all);
    }
    let db_bytes = std::fs::metadata(dir.path().join("bench.sqlite3"))?.len();
    // The engine's own path: what a session reports in a row is stored in
    // one transaction of up to 256 messages, synced to disk before the
    // plugin acknowledges it.
    let batched: u64 = 25_600;
    store.hold_durable()?;
    let start = Instant::now();
    for chunk in 0..batched / 256 {
        store.batch(|store| {
            for i in 0..256 {
                let n = chunk * 256 + i;
                let message = Message {
                    conversation: ConversationKey::new("x"),
                    remote_id: RemoteId::new(format!("b{n}")),
                    local_id: None,
                    sender: Address::Jid(
                        Jid::parse("peer@example.org")
                            .map_err(|e| koine_core::StoreError::Corrupt(e.to_string()))?,
                    ),
                    sender_name: Some("Peer".into()),
                    direction: Direction::Incoming,
                    timestamp: Timestamp(1_800_000_000_000 + n as i64 * 1000),
                    content: Content::text(text(&mut state)),
                    reply_to: None,
                    route: route.clone(),
                };
                store.insert_message(conversations[(n % 400) as usize], &message)?;
            }
            Ok(())
        })?;
    }
    let batched_secs = start.elapsed().as_secs_f64();
    store.release_durable()?;
    println!(
        "{}",
        serde_json::json!({
            "messages": total,
            "big_conversation_messages": store.message_count(big)?,
            "insert_messages_per_second": (total as f64 / insert_secs).round(),
            "insert_batched_messages_per_second": (batched as f64 / batched_secs).round(),
            "search_p50_ms": search_p50,
            "search_p95_ms": search_p95,
            "open_conversation_p50_ms": percentile(&mut open, 0.5),
            "conversation_list_p50_ms": percentile(&mut list, 0.5),
            "database_mib": db_bytes as f64 / 1_048_576.0,
        })
    );
    Ok(())
}
