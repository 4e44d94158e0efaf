//! Trust decisions against the real reference server: a lost keyring key
//! stops the account instead of starting a new identity, a verified
//! contact's new key blocks sends until the user accepts it, the server's
//! key is shown and confirmed before the password leaves, and received files
//! are kept apart per sender and capped per message.

mod common;

use common::{Live, Server, outcome, received, text};
use koine_api::{
    Attachment, AttachmentSource, Command, Content, ConversationKey, Event, LocalId, Notice,
    PromptAnswer, PromptKind, SecretError, SecretStore, SendError, SessionError, Verification,
};
use koine_gatekeeper::wire::Stanza;
use koine_gatekeeper::wire::noise::{generate_static_key, read_message, server_handshake};
use tokio::net::TcpListener;

const ALICE: &str = "koine:alice";
const BOB: &str = "+4915112345678";

fn setup() -> anyhow::Result<Server> {
    let s = Server::start()?;
    s.admin(&["add-user", ALICE, "pw-a"])?;
    s.admin(&["add-user", BOB, "pw-b"])?;
    s.admin(&["opt-in", BOB, "koine"])?;
    Ok(s)
}

/// Every row of the plugin's sealed E2EE file, as stored.
fn e2ee_rows(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String, Vec<u8>)>> {
    let c = rusqlite::Connection::open(dir.join("e2ee.sqlite"))?;
    let mut stmt = c.prepare("SELECT kind, key, value FROM sealed ORDER BY kind, key")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_keyring_key_stops_the_account_until_the_user_starts_over() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("a");
    let acc = server.account(ALICE, "pw-a");
    let mut a = Live::start(&acc, &dir)?;
    a.online().await?;
    assert!(a.ended().await?.is_ok());
    let before = e2ee_rows(&dir)?;
    assert!(!before.is_empty());

    // A restored profile on another keyring: the store's key is gone.
    common::keyring(&dir).delete(koine_e2ee::STORE_KEY_NAME)?;
    let a = Live::start(&acc, &dir)?;
    let why = match a.ended().await? {
        Err(SessionError::Secret(SecretError::Other(why))) => why,
        other => anyhow::bail!("expected the keyring reason, got {other:?}"),
    };
    assert!(why.contains("e2ee_start_over"), "{why}");
    assert_eq!(e2ee_rows(&dir)?, before, "nothing was wiped");
    assert!(
        common::keyring(&dir)
            .get(koine_e2ee::STORE_KEY_NAME)?
            .is_none(),
        "no new key was made"
    );
    let store_id = why
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_owned();

    // A start-over meant for another store does not apply to this one.
    let mut stale = server.account(ALICE, "pw-a");
    stale.settings.set("e2ee_start_over", "0123456789abcdef");
    let s = Live::start(&stale, &dir)?;
    assert!(matches!(s.ended().await?, Err(SessionError::Secret(_))));
    assert_eq!(e2ee_rows(&dir)?, before);

    // The user chooses to start over with a new identity for this store.
    let mut fresh = server.account(ALICE, "pw-a");
    fresh.settings.set("e2ee_start_over", &store_id);
    let mut a = Live::start(&fresh, &dir)?;
    a.online().await?;
    assert!(a.ended().await?.is_ok());
    assert_ne!(e2ee_rows(&dir)?, before);
    Ok(())
}

/// Alice and Bob talk once; Alice's session is returned with the safety
/// number prompt answered as `verify` says.
async fn talked(
    server: &Server,
    dirs: &std::path::Path,
    verify: bool,
) -> anyhow::Result<(Live, Live)> {
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.join("a"))?;
    a.online().await?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.join("b"))?;
    b.online().await?;
    a.send(text(BOB, "before", "t1")).await?;
    outcome(&mut a, "t1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    received(&mut b, "before").await?;
    if verify {
        a.send(Command::SetVerified {
            with: koine_api::Address::parse_any(BOB)?,
            verified: true,
        })
        .await?;
        b.send(text(ALICE, "verified now", "t2")).await?;
        let m = received(&mut a, "verified now").await?;
        assert_eq!(m.route.end_to_end.verification, Verification::Verified);
    }
    Ok((a, b))
}

/// Bob reinstalls and writes first; Alice's events until his message.
async fn bob_reinstalls(
    server: &Server,
    dirs: &std::path::Path,
    a: &mut Live,
) -> anyhow::Result<(Live, Vec<Event>)> {
    let mut b2 = Live::start(&server.account(BOB, "pw-b"), &dirs.join("b-new"))?;
    b2.online().await?;
    b2.send(text(ALICE, "new phone", "n1")).await?;
    outcome(&mut b2, "n1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut seen = Vec::new();
    a.wait("the new identity's message", |e| {
        seen.push(e.clone());
        matches!(e, Event::MessageReceived(m) if m.content.text == "new phone").then_some(())
    })
    .await?;
    Ok((b2, seen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_contacts_new_key_blocks_sends_until_the_user_accepts_it() -> anyhow::Result<()>
{
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let (mut a, b) = talked(&server, dirs.path(), true).await?;
    drop(b);
    let (mut b2, seen) = bob_reinstalls(&server, dirs.path(), &mut a).await?;
    assert!(seen.iter().any(
        |e| matches!(e, Event::Notice(Notice::IdentityKeyChanged { contact }) if contact.to_string() == BOB)
    ));
    let prompt = seen
        .iter()
        .find_map(|e| match e {
            Event::PromptRaised(p) if matches!(p.kind, PromptKind::IdentityChanged { .. }) => {
                Some(p.clone())
            }
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no identity prompt"))?;
    let m = seen
        .iter()
        .find_map(|e| match e {
            Event::MessageReceived(m) => Some(m.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no message"))?;
    assert_eq!(
        m.route.end_to_end.verification,
        Verification::IdentityChanged
    );

    // Sends to the new key wait for the user.
    a.send(text(BOB, "blocked one", "x1")).await?;
    match outcome(&mut a, "x1").await? {
        Err(SendError::IdentityChanged { with }) => assert_eq!(with.to_string(), BOB),
        other => anyhow::bail!("a send to the unaccepted key went out: {other:?}"),
    }
    // Rejecting the new key keeps them blocked.
    a.send(Command::AnswerPrompt {
        prompt: prompt.id.clone(),
        answer: PromptAnswer::Reject,
    })
    .await?;
    a.send(text(BOB, "blocked two", "x2")).await?;
    assert!(matches!(
        outcome(&mut a, "x2").await?,
        Err(SendError::IdentityChanged { .. })
    ));
    // Opening the chat asks again; accepting lets sends go.
    a.send(Command::OpenConversation {
        with: koine_api::Address::parse_any(BOB)?,
    })
    .await?;
    let again = a
        .wait("the identity prompt again", |e| match e {
            Event::PromptRaised(p) if matches!(p.kind, PromptKind::IdentityChanged { .. }) => {
                Some(p.clone())
            }
            _ => None,
        })
        .await?;
    a.send(Command::AnswerPrompt {
        prompt: again.id,
        answer: PromptAnswer::Confirm,
    })
    .await?;
    a.send(text(BOB, "accepted", "x3")).await?;
    let route = outcome(&mut a, "x3")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(route.end_to_end.verification, Verification::Unverified);
    // The server delivers in order: nothing blocked reached Bob before it.
    let first = b2
        .wait("a message for the new phone", |e| match e {
            Event::MessageReceived(m) => Some(m.content.text.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(first, "accepted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_contacts_new_key_is_a_notice_and_the_route_says_so() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let (mut a, b) = talked(&server, dirs.path(), false).await?;
    drop(b);
    let (mut b2, seen) = bob_reinstalls(&server, dirs.path(), &mut a).await?;
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Notice(Notice::IdentityKeyChanged { .. })))
    );
    a.send(text(BOB, "goes on", "u1")).await?;
    let route = outcome(&mut a, "u1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        route.end_to_end.verification,
        Verification::IdentityChanged,
        "the route says the key changed"
    );
    received(&mut b2, "goes on").await?;
    Ok(())
}

fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_server_key_is_shown_and_confirmed_before_the_password_leaves()
-> anyhow::Result<()> {
    // An impostor on first contact: whoever answers learns nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let impostor = listener.local_addr()?.to_string();
    let (private, _) = generate_static_key()?;
    let (told, heard) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut noise) = server_handshake(&mut s, &private).await else {
            return;
        };
        let got = match read_message(&mut s).await {
            Ok(Some(m)) => match noise.open(&m) {
                Ok(frames) => frames
                    .first()
                    .and_then(|f| Stanza::decode(f).ok())
                    .map(|s| format!("{s:?}")),
                Err(_) => None,
            },
            _ => None,
        };
        let _ = told.send(got);
    });
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let mut acc = server.account(ALICE, "pw-a");
    acc.settings.set("server_key", "");
    acc.settings.set("endpoint", &impostor);
    let mut i = Live::start(&acc, &dirs.path().join("i"))?;
    let prompt = i
        .wait("the server key prompt", |e| match e {
            Event::PromptRaised(p) => Some(p.clone()),
            _ => None,
        })
        .await?;
    assert!(matches!(prompt.kind, PromptKind::PinCertificate { .. }));
    let got = heard.await?;
    assert!(got.is_none(), "the impostor was sent {got:?}");
    i.send(Command::AnswerPrompt {
        prompt: prompt.id,
        answer: PromptAnswer::Reject,
    })
    .await?;
    assert!(matches!(i.ended().await?, Err(SessionError::Untrusted(_))));

    // The real server: its key is shown, the user confirms, then the
    // password goes over a link to exactly that key.
    let dir = dirs.path().join("a");
    let mut acc = server.account(ALICE, "pw-a");
    acc.settings.set("server_key", "");
    let mut a = Live::start(&acc, &dir)?;
    let prompt = a
        .wait("the server key prompt", |e| match e {
            Event::PromptRaised(p) => Some(p.clone()),
            Event::ConnectionChanged(koine_api::ConnectionState::Online { .. }) => {
                panic!("online before the user confirmed the server key")
            }
            _ => None,
        })
        .await?;
    let PromptKind::PinCertificate { fingerprint, .. } = &prompt.kind else {
        anyhow::bail!("not a key prompt: {prompt:?}");
    };
    assert_eq!(*fingerprint, colon_hex(&server.ready.server_key));
    a.send(Command::AnswerPrompt {
        prompt: prompt.id.clone(),
        answer: PromptAnswer::Confirm,
    })
    .await?;
    a.online().await?;
    assert!(a.ended().await?.is_ok());
    // Pinned now: no prompt, straight online.
    let mut a = Live::start(&acc, &dir)?;
    a.wait("online without asking", |e| match e {
        Event::PromptRaised(p) => panic!("asked again: {p:?}"),
        Event::ConnectionChanged(koine_api::ConnectionState::Online { .. }) => Some(()),
        _ => None,
    })
    .await?;
    assert!(a.ended().await?.is_ok());

    // The pinned key changes (another server at that name): refused.
    let other = setup()?;
    let mut moved = other.account(ALICE, "pw-a");
    moved.settings.set("server_key", "");
    let m = Live::start(&moved, &dir)?;
    match m.ended().await? {
        Err(SessionError::Untrusted(why)) => assert!(why.contains("pinned"), "{why}"),
        other => anyhow::bail!("a changed server key was not refused: {other:?}"),
    }
    Ok(())
}

fn small_file(dir: &std::path::Path, name: &str, body: &str) -> anyhow::Result<Attachment> {
    let path = dir.join(name);
    std::fs::write(&path, body)?;
    Ok(Attachment {
        name: name.into(),
        mime: "text/plain".into(),
        size: body.len() as u64,
        source: AttachmentSource::LocalPath(path.to_string_lossy().into_owned()),
        sha256: None,
    })
}

fn with_files(to: &str, id: &str, text: &str, files: Vec<Attachment>) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content {
            text: text.into(),
            attachments: files,
        },
        reply_to: None,
    }
}

fn sealed_path(a: &Attachment) -> anyhow::Result<String> {
    match &a.source {
        AttachmentSource::Sealed(p) => Ok(p.clone()),
        other => anyhow::bail!("not downloaded and sealed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_two_senders_with_one_message_id_are_kept_apart() -> anyhow::Result<()> {
    let server = setup()?;
    server.admin(&["add-user", "koine:carol", "pw-c"])?;
    let dirs = tempfile::tempdir()?;
    let files = dirs.path().join("files");
    std::fs::create_dir_all(&files)?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    let mut c = Live::start(
        &server.account("koine:carol", "pw-c"),
        &dirs.path().join("c"),
    )?;
    c.online().await?;
    // The same message id and file name from two senders.
    let from_alice = small_file(&files, "a-note.txt", "alice's words")?;
    let from_carol = small_file(&files, "c-note.txt", "carol's words")?;
    let mut alice_file = from_alice.clone();
    alice_file.name = "note.txt".into();
    let mut carol_file = from_carol.clone();
    carol_file.name = "note.txt".into();
    a.send(with_files(BOB, "same-id", "from alice", vec![alice_file]))
        .await?;
    outcome(&mut a, "same-id")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ma = received(&mut b, "from alice").await?;
    c.send(with_files(BOB, "same-id", "from carol", vec![carol_file]))
        .await?;
    outcome(&mut c, "same-id")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mc = received(&mut b, "from carol").await?;
    let pa = sealed_path(&ma.content.attachments[0])?;
    let pc = sealed_path(&mc.content.attachments[0])?;
    assert_ne!(pa, pc);
    assert_eq!(b.opened(&ma.content.attachments[0])?, b"alice's words");
    assert_eq!(b.opened(&mc.content.attachments[0])?, b"carol's words");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_brings_at_most_the_cap_of_files() -> anyhow::Result<()> {
    const CAP: usize = 10;
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let files = dirs.path().join("files");
    std::fs::create_dir_all(&files)?;
    let bdir = dirs.path().join("b");
    let mut b = Live::start(&server.account(BOB, "pw-b"), &bdir)?;
    b.online().await?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    let many = (0..CAP + 5)
        .map(|n| small_file(&files, &format!("f{n}.txt"), &format!("file {n}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    a.send(with_files(BOB, "many", "many files", many)).await?;
    outcome(&mut a, "many")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut noticed = false;
    let m = b
        .wait("the message with many files", |e| match e {
            Event::Notice(Notice::MalformedInput { detail, .. }) if detail.contains("files") => {
                noticed = true;
                None
            }
            Event::MessageReceived(m) if m.content.text == "many files" => Some(m.clone()),
            _ => None,
        })
        .await?;
    assert!(noticed, "the user is told files were left out");
    assert_eq!(m.content.attachments.len(), CAP);
    let stored = walk(&bdir.join("media"))?;
    assert_eq!(stored, CAP, "only the cap of files was written");
    Ok(())
}

fn walk(dir: &std::path::Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            n += walk(&e.path())?;
        } else {
            n += 1;
        }
    }
    Ok(n)
}
