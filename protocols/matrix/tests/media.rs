//! Incoming images and files are downloaded into the account's data
//! directory, byte for byte, in plain and in end-to-end encrypted rooms; a
//! file over the size limit keeps its remote reference and the user is told.

mod support;

use koine_api::{
    Attachment, AttachmentSource, Command, Content, ConversationKey, Event, LocalId, Message,
    Notice, SecretStore,
};
use koine_conformance::RunningSession;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{Synapse, koine_session, noise, wait_text};

/// Waits for a message whose first attachment is named `name` (files finish
/// downloading in any order).
async fn with_file(s: &mut RunningSession, name: &str) -> anyhow::Result<Message> {
    s.wait_for_seen(&format!("a message with {name:?}"), |e| match e {
        Event::MessageReceived(m)
            if m.content
                .attachments
                .first()
                .is_some_and(|a| a.name == name) =>
        {
            Some(m.clone())
        }
        _ => None,
    })
    .await
}

/// Checks that the attachment is a sealed file inside the session's data
/// dir, holding exactly `bytes` once opened with the account's file key and
/// none of them in plaintext on disk.
fn assert_stored(a: &Attachment, bytes: &[u8], data_dir: &std::path::Path) {
    let AttachmentSource::Sealed(path) = &a.source else {
        panic!("{} was not downloaded and sealed: {:?}", a.name, a.source)
    };
    let path = std::path::Path::new(path);
    assert!(
        path.starts_with(data_dir),
        "{path:?} is outside the data dir"
    );
    let raw = std::fs::read(path).expect("the sealed file");
    let probe = bytes.get(..bytes.len().min(64)).unwrap_or_default();
    assert!(
        !raw.windows(probe.len()).any(|w| w == probe),
        "{} lies in plaintext on disk",
        a.name
    );
    let vault = koine_vault::Vault::existing(&support::keyring_scope(data_dir))
        .expect("the keyring")
        .expect("the account's file key");
    let stored = vault.read(path).expect("opens").expect("exists");
    assert!(
        stored.as_slice() == bytes,
        "{} differs from what was sent",
        a.name
    );
    assert_eq!(a.size, bytes.len() as u64);
    assert_eq!(
        a.sha256.as_deref(),
        Some(hex::encode(Sha256::digest(bytes)).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_in_a_plain_room_are_stored_byte_for_byte() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = alice.create_room(&[&bob], false, false).await?;
    bob.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("b");
    let mut b = koine_session(&server, &bob, &dir)?;
    b.online().await?;

    // An image large enough to report progress, and a small file.
    let image = noise(1536 * 1024 + 7, 1);
    let file = noise(4093, 2);
    let image_uri = alice.upload(image.clone(), "image/png").await?;
    let file_uri = alice.upload(file.clone(), "application/pdf").await?;
    alice
        .send_message(
            &room,
            json!({"msgtype": "m.image", "body": "photo.png", "url": image_uri,
                   "info": {"mimetype": "image/png", "size": image.len()}}),
        )
        .await?;
    alice
        .send_message(
            &room,
            json!({"msgtype": "m.file", "body": "report.pdf", "url": file_uri,
                   "info": {"mimetype": "application/pdf", "size": file.len()}}),
        )
        .await?;
    // A file announced over the limit is not fetched.
    alice
        .send_message(
            &room,
            json!({"msgtype": "m.file", "body": "huge.iso", "url": file_uri,
                   "info": {"mimetype": "application/octet-stream", "size": 200u64 * 1024 * 1024}}),
        )
        .await?;

    let got = with_file(&mut b, "photo.png").await?;
    assert_stored(&got.content.attachments[0], &image, &dir);
    assert_eq!(got.content.attachments[0].mime, "image/png");
    let got = with_file(&mut b, "report.pdf").await?;
    assert_stored(&got.content.attachments[0], &file, &dir);
    let huge = with_file(&mut b, "huge.iso").await?;
    assert_eq!(
        huge.content.attachments[0].source,
        AttachmentSource::Remote(file_uri.clone()),
        "the remote reference is kept"
    );
    assert!(
        b.log.iter().any(|e| matches!(
            e,
            Event::Notice(Notice::AttachmentTooLarge { max_bytes }) if *max_bytes == 50 * 1024 * 1024
        )),
        "the user is told the file is too large"
    );
    assert!(
        b.log.iter().any(|e| matches!(
            e,
            Event::Notice(Notice::Progress { task, done, total })
                if task == "download" && *done == image.len() as u64 && *total == Some(image.len() as u64)
        )),
        "the big download reported its progress"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_in_an_encrypted_room_are_decrypted_and_stored() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = alice.create_room(&[&bob], true, true).await?;
    bob.join(&room).await?;
    bob.set_direct(&alice.user_id, &room).await?;
    let dirs = tempfile::tempdir()?;
    let mut a = koine_session(&server, &alice, &dirs.path().join("a"))?;
    let dir = dirs.path().join("b");
    let mut b = koine_session(&server, &bob, &dir)?;
    a.online().await?;
    b.online().await?;
    let conversation = ConversationKey::new(room.as_str());
    a.command(Command::SendMessage {
        local_id: LocalId::new("hello"),
        conversation: conversation.clone(),
        content: Content::text("keys first"),
        reply_to: None,
    })
    .await?;
    wait_text(&mut b, "keys first").await?;

    let image = noise(70_001, 3);
    let file = noise(12_345, 4);
    let sent = tempfile::tempdir()?;
    let local = |name: &str, mime: &str, bytes: &[u8]| -> anyhow::Result<Attachment> {
        let path = sent.path().join(name);
        std::fs::write(&path, bytes)?;
        Ok(Attachment {
            name: name.into(),
            mime: mime.into(),
            size: bytes.len() as u64,
            source: AttachmentSource::LocalPath(path.to_string_lossy().into_owned()),
            sha256: None,
        })
    };
    for (id, attachment) in [
        ("img", local("secret.png", "image/png", &image)?),
        ("doc", local("secret.txt", "text/plain", &file)?),
    ] {
        a.command(Command::SendMessage {
            local_id: LocalId::new(id),
            conversation: conversation.clone(),
            content: Content {
                text: String::new(),
                attachments: vec![attachment],
            },
            reply_to: None,
        })
        .await?;
    }
    let got = with_file(&mut b, "secret.png").await?;
    assert_stored(&got.content.attachments[0], &image, &dir);
    let got = with_file(&mut b, "secret.txt").await?;
    assert_stored(&got.content.attachments[0], &file, &dir);

    // What the server holds is ciphertext: the plaintext is nowhere in its
    // media store.
    let media = server.dir().join("media");
    let mut stack = vec![media];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in std::fs::read_dir(&p)? {
                stack.push(entry?.path());
            }
        } else {
            let held = std::fs::read(&p)?;
            assert!(held != image && held != file, "{p:?} holds plaintext");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_short_resumes_on_the_next_start() -> anyhow::Result<()> {
    use matrix_sdk::StateStore;
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let room = alice.create_room(&[&bob], false, false).await?;
    bob.join(&room).await?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("b");
    let mut b = koine_session(&server, &bob, &dir)?;
    b.online().await?;
    alice.send_text(&room, "before the cut").await?;
    let first = wait_text(&mut b, "before the cut").await?;
    b.stop().await?;

    // The state a session leaves when it ends while a file downloads: the
    // held message in the pending list of its encrypted store.
    let bytes = noise(20_011, 5);
    let uri = alice.upload(bytes.clone(), "audio/ogg").await?;
    let held = Message {
        remote_id: koine_api::RemoteId::new("$held-while-downloading"),
        content: Content {
            text: String::new(),
            attachments: vec![Attachment {
                name: "voice.ogg".into(),
                mime: "audio/ogg".into(),
                size: bytes.len() as u64,
                source: AttachmentSource::Remote(uri),
                sha256: None,
            }],
        },
        ..first
    };
    let passphrase = support::keyring_scope(&dir)
        .get("matrix-store-passphrase")?
        .expect("the store passphrase");
    let store =
        matrix_sdk::SqliteStateStore::open(dir.join("matrix-store"), Some(passphrase.expose()))
            .await?;
    store
        .set_custom_value(b"koine.media-pending", serde_json::to_vec(&[held])?)
        .await?;
    drop(store);

    let mut b = koine_session(&server, &bob, &dir)?;
    let got = with_file(&mut b, "voice.ogg").await?;
    assert_eq!(got.remote_id.as_str(), "$held-while-downloading");
    assert_stored(&got.content.attachments[0], &bytes, &dir);
    Ok(())
}
