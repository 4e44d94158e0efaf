//! What another member of a room sends cannot crash the session or lose a
//! message: a raw client (the server's own API, no SDK checks) plays the
//! hostile peer against a real Synapse.

mod support;

use koine_api::Event;
use serde_json::json;
use support::{Synapse, koine_session, wait_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mxc_uris_with_long_server_names_neither_crash_nor_lose_messages() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let mallory = server.register("mallory").await?;
    let room = mallory.create_room(&[&alice], false, false).await?;
    alice.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let mut a = koine_session(&server, &alice, &dirs.path().join("a"))?;
    a.online().await?;

    // ruma 0.12 panics on a 250-character server name and slices out of
    // range on 251 to 255; 256 is past the spec's limit.
    for n in [250, 251, 255, 256] {
        let uri = format!("mxc://{}/abc", "a".repeat(n));
        mallory
            .send_message(
                &room,
                json!({"msgtype": "m.image", "body": format!("long-{n}.png"), "url": uri,
                       "info": {"mimetype": "image/png", "size": 3}}),
            )
            .await?;
    }
    mallory.send_text(&room, "after the long names").await?;
    wait_text(&mut a, "after the long names").await?;
    // Each image arrives as a message (its file could not be fetched: no
    // such server), the invalid one without its attachment.
    for n in [250, 251, 255, 256] {
        let name = format!("long-{n}.png");
        let m = a
            .wait_for_seen(&format!("the message with {name}"), |e| match e {
                Event::MessageReceived(m)
                    if m.content.attachments.iter().any(|x| x.name == name)
                        || (n == 256 && m.content.text == name) =>
                {
                    Some(m.clone())
                }
                _ => None,
            })
            .await?;
        if n == 256 {
            assert!(m.content.attachments.is_empty(), "{m:?}");
        }
    }
    // The session is still the same one (a panic would have ended it).
    mallory.send_text(&room, "still here").await?;
    wait_text(&mut a, "still here").await?;
    Ok(())
}
