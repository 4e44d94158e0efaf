//! The fuzz target's property, run by plain `cargo test` on stable: the
//! frame and stanza decoders over thousands of pseudo-random and mutated
//! inputs never panic, and whatever decodes re-encodes to the same stanza.
//! (`fuzz/` holds the cargo-fuzz target for longer runs on nightly.)

use koine_gatekeeper::wire::{FrameDecoder, Stanza, encode_frame};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "<auth id='1' user='koine:alice' token='abc'/>",
    "<message id='m-1' to='+4915112345678' type='pkmsg'>AAECAw==</message>",
    "<message id='m-1' from='koine:bob' type='msg' ts='12'>AAECAw==</message>",
    "<receipt id='m-1' to='koine:bob' type='read'/>",
    "<chatstate to='koine:bob' state='composing'/>",
    "<ack id='m-1' ts='5'/>",
    "<nack id='m-1' code='rate-limited' retry-after='250'/>",
    "<iq id='q1' type='get'><bundle of='+4915112345678'/></iq>",
    "<iq id='q1' type='result'><optins><optin provider='koine' folder='separate' state='in'/></optins></iq>",
    "<iq id='q1' type='error'><error code='not-opted-in'/></iq>",
    "<notice kind='prekeys-low' remaining='3'/>",
    "<success id='1' user='koine:a' session='s' prekeys='7'/>",
    "<a b='&amp;&#x41;&#66;'><c/></a>",
];

const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/>",
    b"</",
    b"'",
    b"\"",
    b"=",
    b"&",
    b"&amp;",
    b"&#x",
    b";",
    b"<!--",
    b"<?",
    b"<![CDATA[",
    b"\xff",
    b"\x00",
    b" ",
    b"iq",
    b"message",
    b"+49",
    b":",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = rng.below(v.len() - i + 1);
                v.drain(i..i + n);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(i..i, t.iter().copied());
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                let j = rng.below(v.len());
                let (lo, hi) = (i.min(j), i.max(j));
                let dup = v[lo..hi].to_vec();
                v.splice(hi..hi, dup);
            }
            _ => v.truncate(rng.below(v.len() + 1)),
        }
    }
    v
}

fn check(input: &[u8]) {
    if let Ok(s) = Stanza::decode(input) {
        assert_eq!(
            Stanza::decode(&s.encode()).ok(),
            Some(s),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let mut d = FrameDecoder::new(64 * 1024);
    let mid = input.len() / 3;
    for chunk in [&input[..mid], &input[mid..]] {
        d.push(chunk);
        while let Ok(Some(f)) = d.next_frame() {
            let _ = Stanza::decode(&f);
        }
    }
    let _ = d.finish();
}

#[test]
fn decoders_never_panic_on_random_and_mutated_input() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    // Pseudo-random bytes, framed and unframed.
    for _ in 0..2000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check(&bytes);
        if let Ok(f) = encode_frame(&bytes) {
            check(&f);
        }
        runs += 2;
    }
    // Mutations of valid stanzas, framed and unframed.
    for _ in 0..4000 {
        let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
        let m = mutate(&mut rng, seed);
        check(&m);
        if let Ok(f) = encode_frame(&m) {
            check(&f);
        }
        runs += 2;
    }
    assert_eq!(runs, 12_000);
}
