//! Received files sealed by a plugin, opened only by the engine: in memory,
//! to a new private file, or to a private temporary copy removed at
//! shutdown; never a file outside the account's folder.

use super::consent_tests::deliver;
use super::test_net::{Nets, message};
use super::*;
use koine_api::{Attachment, AttachmentSource, HopKind, SecretStore};

const CANARY: &[u8] = b"the key is under the blue flowerpot";

fn with_file(remote: &str, source: AttachmentSource) -> koine_api::Message {
    let mut m = message(
        "ann@chat.invalid",
        remote,
        "a file",
        HopKind::ClientLink,
        false,
    );
    m.content.attachments.push(Attachment {
        name: "../../plans.txt".into(),
        mime: "text/plain".into(),
        size: CANARY.len() as u64,
        source,
        sha256: None,
    });
    m
}

/// Seals `bytes` in an account's folder, as its plugin does.
fn seal(n: &Nets, account: &AccountId, bytes: &[u8]) -> String {
    let secrets = koine_keyring::KeyringSecrets::scoped(account.as_str());
    let vault = koine_vault::Vault::open(&secrets as &dyn SecretStore).expect("vault");
    let dir = n
        .engine
        .profile()
        .account_dir(account.as_str())
        .join("media");
    vault
        .put(&dir, bytes)
        .expect("sealed")
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_file_opens_in_memory_to_a_new_file_and_to_a_temporary_copy() {
    let n = Nets::new();
    let account = n.account("chat", "me@chat.invalid").await;
    n.start(&account).await;
    let path = seal(&n, &account, CANARY);
    let stored = deliver(
        &n,
        &account,
        with_file("f1", AttachmentSource::Sealed(path)),
    )
    .await;

    let content = n
        .engine
        .attachment_content(stored.id, 0)
        .await
        .expect("open");
    assert_eq!(content.as_slice(), CANARY);

    let out = n.engine.profile().root().join("..").join("saved.txt");
    let size = n
        .engine
        .save_attachment(stored.id, 0, &out)
        .await
        .expect("save");
    assert_eq!(size, CANARY.len() as u64);
    assert_eq!(std::fs::read(&out).expect("saved"), CANARY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(
        n.engine.save_attachment(stored.id, 0, &out).await.is_err(),
        "an existing file is not overwritten"
    );
    let _ = std::fs::remove_file(&out);

    let opened = n
        .engine
        .open_attachment(stored.id, 0)
        .await
        .expect("opened");
    assert_eq!(
        opened.file_name().and_then(|f| f.to_str()),
        Some("plans.txt"),
        "under the sender's name, without its folders"
    );
    assert!(opened.starts_with(n.engine.opened_files_dir().expect("dir")));
    assert_eq!(std::fs::read(&opened).expect("copy"), CANARY);
    n.engine.shutdown().await;
    assert!(
        !opened.exists(),
        "the temporary copy is removed at shutdown"
    );

    assert!(matches!(
        n.engine.attachment_content(stored.id, 1).await,
        Err(EngineError::NoFile(..))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_outside_the_account_folder_is_never_opened() {
    let n = Nets::new();
    let account = n.account("chat", "me@chat.invalid").await;
    let other = n.account("chat", "other@chat.invalid").await;
    n.start(&account).await;
    // Another account's sealed file, and a plaintext file elsewhere.
    let theirs = seal(&n, &other, CANARY);
    let elsewhere = n.engine.profile().root().join("settings.toml");
    std::fs::write(&elsewhere, "x = 1").expect("write");
    let climbing = format!(
        "{}/../../settings.toml",
        n.engine.profile().account_dir(account.as_str()).display()
    );
    for (remote, path) in [
        ("f1", theirs),
        ("f2", elsewhere.to_string_lossy().into_owned()),
        ("f3", climbing),
    ] {
        let stored = deliver(
            &n,
            &account,
            with_file(remote, AttachmentSource::Sealed(path)),
        )
        .await;
        assert!(
            matches!(
                n.engine.attachment_content(stored.id, 0).await,
                Err(EngineError::FileUnreadable(_))
            ),
            "{remote}"
        );
    }
    // Not downloaded: nothing to open.
    let stored = deliver(
        &n,
        &account,
        with_file(
            "f4",
            AttachmentSource::Remote("https://files.invalid/x".into()),
        ),
    )
    .await;
    assert!(n.engine.open_attachment(stored.id, 0).await.is_err());
}
