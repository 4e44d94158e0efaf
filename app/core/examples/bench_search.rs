//! Full-text search as the window runs it (`Engine::search`, 50 hits) on a
//! seeded profile: seven queries (single words, two words, a prefix, a word
//! with no match), 20 rounds after one warm-up round. Prints p50/p95/max.
//!
//! ```text
//! cargo run --release -p koine-core --example bench_seed -- DIR 1000000 100000
//! cargo run --release -p koine-core --example bench_search -- DIR
//! ```

use koine_core::{Engine, EngineConfig, Profile, Registry};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const QUERIES: &[&str] = &[
    "café",
    "reunion demain",
    "concert ticket",
    "holid",
    "photo merci",
    "école",
    "zzz",
];

fn percentile(v: &[Duration], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: bench_search PROFILE_DIR")?;
    let engine = Engine::open(Profile::at(&dir), Registry::new(), EngineConfig::default())?;
    let mut messages: u64 = 0;
    for c in engine.conversations()? {
        messages += engine.message_count(c.id)?;
    }
    let mut samples = Vec::new();
    let mut per_query = vec![Vec::new(); QUERIES.len()];
    let mut hits = 0;
    for round in 0..=20 {
        for (i, q) in QUERIES.iter().enumerate() {
            let t = Instant::now();
            let found = engine.search(q, 50)?;
            let elapsed = t.elapsed();
            if round > 0 {
                samples.push(elapsed);
                per_query[i].push(elapsed);
                hits += found.len();
            }
        }
    }
    let each: Vec<String> = QUERIES
        .iter()
        .zip(&per_query)
        .map(|(q, v)| format!("\"{q}\": {:.2}", percentile(v, 0.5)))
        .collect();
    println!(
        "{{\"messages\": {messages}, \"searches\": {}, \"hits\": {hits}, \"p50_ms\": {:.2}, \"p95_ms\": {:.2}, \"max_ms\": {:.2}, \"p50_ms_by_query\": {{{}}}}}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 1.0),
        each.join(", "),
    );
    Ok(())
}
