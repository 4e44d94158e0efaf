//! Two Koine profiles talk through the reference gatekeeper server with the
//! headless CLI, both directions: text, an image and a file; typing and the
//! delivery receipt come through. The server runs in this test process on loopback
//! (the gatekeeper crate's `server::run`); the clients are the real `koine`
//! binary. Run inside `scripts/with-keyring`.

mod common;

mod gk;

use common::koine;
use gk::{
    ALICE, BOB, Tail, alice_and_bob, contains_text, files_containing, is_online, is_type,
    saved_files,
};
use std::time::Duration;

#[test]
fn two_profiles_exchange_text_image_and_file_through_the_reference_server() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_db, pa, pb) = alice_and_bob(dir.path(), Duration::ZERO);
    let image: Vec<u8> = (0..40_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let file = b"%PDF-1.4 a small report\n".repeat(200);
    let (image_path, file_path) = (dir.path().join("photo.png"), dir.path().join("report.pdf"));
    std::fs::write(&image_path, &image).expect("image");
    std::fs::write(&file_path, &file).expect("file");

    // Bob comes online once (publishing his keys), Alice writes.
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    let text_ab = format!("hello bob {}", std::process::id());
    let out = koine(
        &pa,
        &[
            "send",
            ALICE,
            BOB,
            &text_ab,
            "--attach",
            image_path.to_str().expect("path"),
            "--attach",
            file_path.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "send A→B: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = tail_b.wait_for("Alice's message at Bob", |v| {
        is_type(v, "message_stored") && contains_text(v, &text_ab)
    });
    tail_b.stop();
    let contents = saved_files(&pb, &got, dir.path());
    assert!(contents.contains(&image), "the image arrived intact");
    assert!(contents.contains(&file), "the file arrived intact");
    // Sealed at rest: neither file lies in Bob's profile as it is.
    for needle in [&image[..4096], &file[..512]] {
        let found = files_containing(&pb, needle);
        assert!(
            found.is_empty(),
            "plaintext of a received file in {found:?}"
        );
    }
    // Every file Koine wrote in the profile is Bob's alone.
    #[cfg(unix)]
    {
        let open = gk::not_private(&pb);
        assert!(open.is_empty(), "readable by others: {open:?}");
    }

    // Bob answers with a file while Alice is online in the same chat: she
    // sees him typing, then the message, and the receipt of hers.
    let tail_a = Tail::start(&pa);
    tail_a.wait_for("Alice online", is_online);
    let text_ba = format!("hello alice {}", std::process::id());
    let out = koine(
        &pb,
        &[
            "send",
            "--typing",
            BOB,
            ALICE,
            &text_ba,
            "--attach",
            file_path.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "send B→A: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut typing, mut message, mut delivered) = (false, None, false);
    tail_a.wait_for("Bob typing, his message and the receipt of Alice's", |v| {
        if is_type(v, "chat_state") && contains_text(v, "composing") && message.is_none() {
            typing = true;
        }
        if is_type(v, "message_stored") && contains_text(v, &text_ba) && message.is_none() {
            message = Some(v.clone());
        }
        if is_type(v, "message_updated")
            && contains_text(v, &text_ab)
            && contains_text(v, "delivered")
        {
            delivered = true;
        }
        message.is_some() && delivered
    });
    assert!(typing, "Bob's typing arrived before his message");
    let got = message.expect("message");
    tail_a.stop();
    assert!(
        saved_files(&pa, &got, dir.path()).contains(&file),
        "the file arrived intact"
    );
}
