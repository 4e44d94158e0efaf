//! The decoders over a few thousand pseudo-random and mutated inputs, on the
//! stable toolchain (the cargo-fuzz targets in `fuzz/` go further). No input
//! may panic; valid seeds must still decode after the round.

use koine_sms::kdeconnect::{Typed, decode_typed};
use koine_sms::smsgate::http;

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
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{"id":1,"type":"kdeconnect.identity","body":{"deviceId":"phone_1","deviceName":"Pixel","deviceType":"phone","protocolVersion":8,"incomingCapabilities":[],"outgoingCapabilities":[]}}"#,
    r#"{"id":"2","type":"kdeconnect.pair","body":{"pair":true,"timestamp":1764237600}}"#,
    r#"{"id":3,"type":"kdeconnect.sms.messages","body":{"version":2,"messages":[{"event":1,"body":"hi","addresses":[{"address":"+33612345678"}],"date":5,"type":1,"read":0,"thread_id":3,"_id":9,"sub_id":1,"attachments":[{"part_id":4,"mime_type":"image/png","encoded_thumbnail":"","unique_identifier":"p4"}]}]}}"#,
    r#"{"id":4,"type":"kdeconnect.sms.request","body":{"version":2,"addresses":[{"address":"+33612345678"}],"messageBody":"yo","subID":2}}"#,
    r#"{"id":5,"type":"kdeconnect.sms.request_conversation","body":{"threadID":3,"rangeStartTimestamp":100,"numberToRequest":-1}}"#,
    r#"{"id":6,"type":"kdeconnect.sms.attachment_file","body":{"filename":"p4"},"payloadSize":12,"payloadTransferInfo":{"port":1739}}"#,
];

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"\\u0000",
    b"\"id\"",
    b"\"type\"",
    b"\"body\"",
    b"\"payloadSize\"",
    b"18446744073709551616",
    b"\xff",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let cut = rng.below(v.len());
                v.truncate(cut);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(i..i, t.iter().copied());
            }
            3 if v.len() > 2 => {
                let a = rng.below(v.len());
                let b = (a + rng.below(16)).min(v.len());
                v.drain(a..b);
            }
            _ => {
                let i = rng.below(v.len() + 1);
                let n = rng.below(8);
                let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, junk);
            }
        }
    }
    v
}

#[test]
fn packet_decoder_never_panics_on_random_and_mutated_input() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in SEEDS {
        let typed = decode_typed(seed.as_bytes()).expect("seeds are valid");
        assert!(!matches!(typed, Typed::Other(_)), "{seed}");
    }
    let (mut ok, mut refused) = (0, 0);
    for round in 0..4000 {
        let input = if round % 4 == 0 {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            let pick = rng.below(SEEDS.len());
            mutate(&mut rng, SEEDS[pick].as_bytes())
        };
        match decode_typed(&input) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    // Both outcomes happen: the mutations are neither all fatal nor all harmless.
    assert!(ok > 100 && refused > 1000, "ok {ok}, refused {refused}");
}

#[tokio::test]
async fn http_request_reader_never_panics_on_mutated_input() {
    let seed = b"POST /koine-webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Signature: ab\r\nX-Timestamp: 1\r\nContent-Length: 2\r\n\r\n{}";
    let chunked = b"POST /h HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    let mut rng = Rng(42);
    let mut ok = 0;
    for round in 0..2000 {
        let base: &[u8] = if round % 2 == 0 { seed } else { chunked };
        let input = mutate(&mut rng, base);
        if http::read_request(&input[..]).await.is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 0);
}
