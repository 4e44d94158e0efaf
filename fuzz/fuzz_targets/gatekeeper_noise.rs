//! Gatekeeper: `NoiseSession::open` on an established session. The input is
//! a series of records `[kind, len_hi, len_lo, bytes...]`: kind 0 hands the
//! bytes to `open` as they are (forged or garbage transport messages), any
//! other kind has the peer seal them first (so the frame decoder behind
//! `open` sees arbitrary plaintext).
#![no_main]

use koine_gatekeeper::wire::noise::{self, NoiseSession};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

/// One client and one server session, made once (the handshake costs far
/// more than an input).
fn pair() -> Option<(NoiseSession, NoiseSession)> {
    let rt = tokio::runtime::Builder::new_current_thread().build().ok()?;
    rt.block_on(async {
        let (client_key, _) = noise::generate_static_key().ok()?;
        let (server_key, _) = noise::generate_static_key().ok()?;
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        let (client, server) = tokio::join!(
            noise::client_handshake(&mut a, &client_key, None),
            noise::server_handshake(&mut b, &server_key)
        );
        Some((client.ok()?, server.ok()?))
    })
}

thread_local! {
    static PAIR: RefCell<Option<(NoiseSession, NoiseSession)>> = RefCell::new(pair());
}

fuzz_target!(|data: &[u8]| {
    PAIR.with_borrow_mut(|p| {
        let Some((peer, ours)) = p.as_mut() else {
            return;
        };
        ours.discard_partial_frame();
        let mut rest = data;
        while let [kind, hi, lo, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
            let (record, next) = tail.split_at(len);
            rest = next;
            if *kind == 0 {
                let _ = ours.open(record);
            } else if let Ok(sealed) = peer.seal_raw(record) {
                // seal_raw puts the 2-byte length first; open takes the message.
                let _ = ours.open(sealed.get(2..).unwrap_or_default());
            }
        }
    });
});
