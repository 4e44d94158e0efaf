//! The checks, one public async function each; [`crate::suite!`] wraps them
//! in tests.

use crate::garbage::{GarbageServer, VARIANTS};
use crate::session::{RunningSession, SessionEnd};
use crate::{Harness, TestAccount, TestServer};
use anyhow::{Context, bail, ensure};
use koine_api::{
    Attachment, AttachmentSource, Command, ConnectionState, Content, ConversationKey, Event,
    LocalId, Message, MessageChange, Protocol, RemoteId, Route, SessionError, TransportSecurity,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

struct Fixture<S> {
    server: S,
    protocol: Arc<dyn Protocol>,
    dirs: tempfile::TempDir,
}

impl<S: TestServer> Fixture<S> {
    async fn new<H: Harness<Server = S>>(harness: &H) -> anyhow::Result<Self> {
        let server = harness.start().await.context("starting the test server")?;
        Ok(Self {
            server,
            protocol: harness.protocol(),
            dirs: tempfile::tempdir().context("temp dir")?,
        })
    }

    /// Starts a session of `account`; `name` names its data dir, so a
    /// restarted session with the same name finds its state again.
    fn session(&self, account: &TestAccount, name: &str) -> anyhow::Result<RunningSession> {
        let dir = self.dirs.path().join(format!(
            "{name}-{}",
            self.dirs
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().replace('.', ""))
                .unwrap_or_default()
        ));
        RunningSession::start(&self.protocol, account, &dir, self.server.timeout())
    }

    async fn online(&self, index: usize, name: &str) -> anyhow::Result<RunningSession> {
        let mut session = self.session(&self.server.account(index), name)?;
        session
            .online()
            .await
            .with_context(|| format!("account {index} going online"))?;
        Ok(session)
    }
}

fn new_local_id() -> LocalId {
    LocalId::new(format!("conf-{}", uuid::Uuid::new_v4()))
}

fn send(to: ConversationKey, text: &str, local_id: LocalId) -> Command {
    Command::SendMessage {
        local_id,
        conversation: to,
        content: Content::text(text),
        reply_to: None,
    }
}

async fn acked(session: &mut RunningSession, id: &LocalId) -> anyhow::Result<(RemoteId, Route)> {
    session
        .wait_for(&format!("SendAcked for {id}"), |e| match e {
            Event::SendAcked {
                local_id,
                remote_id,
                route,
            } if local_id == id => Some(Ok((remote_id.clone(), route.clone()))),
            Event::SendFailed { local_id, error } if local_id == id => {
                Some(Err(anyhow::anyhow!("send {id} failed: {error}")))
            }
            _ => None,
        })
        .await?
}

async fn received(session: &mut RunningSession, text: &str) -> anyhow::Result<Message> {
    session
        .wait_for(&format!("a message with text {text:?}"), |e| match e {
            Event::MessageReceived(m) if m.content.text == text => Some(m.clone()),
            Event::HistoryPage { messages, .. } => {
                messages.iter().find(|m| m.content.text == text).cloned()
            }
            _ => None,
        })
        .await
}

fn unique_text(label: &str) -> String {
    format!("{label} {}", uuid::Uuid::new_v4().simple())
}

/// `Online` with a link naming the real host and a known transport; the
/// session then ends cleanly when its command channel is closed.
pub async fn connects_with_good_credentials<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let mut session = fx.session(&fx.server.account(0), "a")?;
    let link = session.online().await?;
    ensure!(
        link.host == fx.server.route_host(),
        "the link names {:?}, the server is {:?}",
        link.host,
        fx.server.route_host()
    );
    ensure!(
        link.transport != TransportSecurity::Unknown,
        "the client link's own transport must be known"
    );
    match session.stop().await? {
        SessionEnd::Returned(Ok(())) => Ok(()),
        other => {
            bail!("closing the command channel must end the session with Ok(()), got {other:?}")
        }
    }
}

/// The session ends with `AuthFailed`, without ever being `Online`.
pub async fn refuses_bad_credentials<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let mut session = fx.session(&fx.server.bad_credentials(), "bad")?;
    let end = session
        .ended_without_online()
        .await
        .context("bad credentials must never reach Online")?;
    let went_online = session.log.iter().any(|e| {
        matches!(
            e,
            Event::ConnectionChanged(koine_api::ConnectionState::Online { .. })
        )
    });
    ensure!(!went_online, "bad credentials must never reach Online");
    match end {
        SessionEnd::Returned(Err(SessionError::AuthFailed)) => Ok(()),
        other => bail!("expected AuthFailed, got {other:?}"),
    }
}

/// A contact added by A shows in A's roster (skipped when the protocol
/// declares no roster).
pub async fn reports_the_roster<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    if !fx.protocol.info().capabilities.roster {
        eprintln!("reports_the_roster: not applicable (the protocol declares no roster)");
        return Ok(());
    }
    let b = fx.server.account(1);
    let mut a = fx.online(0, "a").await?;
    a.command(Command::AddContact {
        address: b.address.clone(),
        name: Some("Bee".into()),
    })
    .await?;
    a.wait_for("B in A's roster", |e| match e {
        Event::ContactUpdated(c) if c.address == b.address => Some(()),
        Event::RosterReplaced(list) if list.iter().any(|c| c.address == b.address) => Some(()),
        _ => None,
    })
    .await?;
    Ok(())
}

/// A→B and B→A arrive, each acknowledged by its local id.
pub async fn exchanges_messages_both_ways<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let (acc_a, acc_b) = (fx.server.account(0), fx.server.account(1));
    let mut a = fx.online(0, "a").await?;
    let mut b = fx.online(1, "b").await?;
    one_way(&fx, &mut a, &mut b, &acc_b, "A to B").await?;
    one_way(&fx, &mut b, &mut a, &acc_a, "B to A").await?;
    Ok(())
}

async fn one_way<S: TestServer>(
    fx: &Fixture<S>,
    from: &mut RunningSession,
    to: &mut RunningSession,
    to_account: &TestAccount,
    label: &str,
) -> anyhow::Result<()> {
    let text = unique_text(label);
    let id = new_local_id();
    from.command(send(
        fx.server.conversation_key(to_account),
        &text,
        id.clone(),
    ))
    .await?;
    acked(from, &id).await.with_context(|| label.to_owned())?;
    let m = received(to, &text)
        .await
        .with_context(|| label.to_owned())?;
    ensure!(
        m.direction == koine_api::Direction::Incoming,
        "{label}: the recipient must see an incoming message"
    );
    Ok(())
}

/// A message sent while B is offline reaches B when B connects.
pub async fn delivers_to_an_offline_recipient<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let acc_b = fx.server.account(1);
    // B logs in once so the server knows its device, then goes away.
    let b = fx.online(1, "b").await?;
    ensure!(
        matches!(b.stop().await?, SessionEnd::Returned(Ok(()))),
        "B must stop cleanly"
    );
    let mut a = fx.online(0, "a").await?;
    let text = unique_text("while you were away");
    let id = new_local_id();
    a.command(send(fx.server.conversation_key(&acc_b), &text, id.clone()))
        .await?;
    acked(&mut a, &id).await?;
    let mut b = fx.session(&acc_b, "b")?;
    received(&mut b, &text).await?;
    Ok(())
}

/// The same local id sent twice is acknowledged twice and seen once by B.
pub async fn suppresses_duplicates<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let acc_b = fx.server.account(1);
    let mut a = fx.online(0, "a").await?;
    let mut b = fx.online(1, "b").await?;
    let text = unique_text("only once");
    let id = new_local_id();
    let to = fx.server.conversation_key(&acc_b);
    a.command(send(to.clone(), &text, id.clone())).await?;
    acked(&mut a, &id).await?;
    a.command(send(to, &text, id.clone())).await?;
    acked(&mut a, &id)
        .await
        .context("a repeated local id must be acknowledged again")?;
    let first = received(&mut b, &text).await?;
    let later = b.drain_for(Duration::from_secs(3)).await;
    let mut ids = BTreeSet::from([first.remote_id.clone()]);
    for event in later {
        if let Event::MessageReceived(m) = event
            && m.content.text == text
        {
            ids.insert(m.remote_id);
        }
    }
    ensure!(
        ids.len() == 1,
        "B saw the message under {} distinct ids: {ids:?}",
        ids.len()
    );
    Ok(())
}

/// Routes validate, name the real host first, and never claim an unknown
/// transport on the client link.
pub async fn reports_the_real_route<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let acc_b = fx.server.account(1);
    let host = fx.server.route_host();
    let mut a = fx.online(0, "a").await?;
    let mut b = fx.online(1, "b").await?;
    let text = unique_text("which way");
    let id = new_local_id();
    a.command(send(fx.server.conversation_key(&acc_b), &text, id.clone()))
        .await?;
    let (_, sent_route) = acked(&mut a, &id).await?;
    let got = received(&mut b, &text).await?;
    for (label, route) in [("sent", &sent_route), ("received", &got.route)] {
        route
            .validate()
            .with_context(|| format!("the {label} route contradicts itself: {route:?}"))?;
        ensure!(
            route.hops.first().map(|h| h.host.as_str()) == Some(host.as_str()),
            "the {label} route must start at {host:?}: {route:?}"
        );
        ensure!(
            route.hops[0].transport != TransportSecurity::Unknown,
            "the {label} route's client link must have a known transport: {route:?}"
        );
    }
    Ok(())
}

/// The routes of a sent message and of the same message received agree
/// with what each account's first hop observed of it (see
/// [`crate::route_truth`]), in three situations: both accounts online; a
/// recipient who is offline when it is sent and receives it on coming
/// online; and a message with a file, when the protocol sends files (the
/// canary is then in the file too). Skipped when the harness observes
/// nothing.
pub async fn route_matches_what_the_server_saw<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let acc_b = fx.server.account(1);
    let to = fx.server.conversation_key(&acc_b);
    let mut a = fx.online(0, "a").await?;
    let mut b = fx.online(1, "b").await?;

    let canary = unique_text("route canary");
    let sent = sent_route(&mut a, to.clone(), Content::text(&canary)).await?;
    let got = received(&mut b, &canary).await?;
    if !held_against_observations(&fx, "both online", &canary, &sent, &got.route)? {
        eprintln!("route truth: this harness observes nothing of its server; skipped");
        return Ok(());
    }

    ensure!(
        matches!(b.stop().await?, SessionEnd::Returned(Ok(()))),
        "B must stop cleanly"
    );
    let canary = unique_text("route canary while away");
    let sent = sent_route(&mut a, to.clone(), Content::text(&canary)).await?;
    let mut b = fx.session(&acc_b, "b")?;
    let got = received(&mut b, &canary)
        .await
        .context("the recipient coming online")?;
    held_against_observations(&fx, "offline recipient", &canary, &sent, &got.route)?;

    if fx
        .protocol
        .info()
        .capabilities
        .max_attachment_bytes
        .is_none()
        || !fx.server.sends_files()
    {
        eprintln!("route truth with a file: not applicable (no files sent here)");
        return Ok(());
    }
    let canary = unique_text("route canary with a file");
    let path = fx.dirs.path().join("route-canary.txt");
    std::fs::write(&path, format!("{canary}\n")).context("writing the file to send")?;
    let content = Content {
        text: canary.clone(),
        attachments: vec![Attachment {
            name: "route-canary.txt".into(),
            mime: "text/plain".into(),
            size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            source: AttachmentSource::LocalPath(path.to_string_lossy().into_owned()),
            sha256: None,
        }],
    };
    let sent = sent_route(&mut a, to, content).await?;
    let got = received(&mut b, &canary).await?;
    held_against_observations(&fx, "with a file", &canary, &sent, &got.route)?;
    Ok(())
}

/// Sends `content` and returns the route it was acknowledged with.
async fn sent_route(
    session: &mut RunningSession,
    to: ConversationKey,
    content: Content,
) -> anyhow::Result<Route> {
    let id = new_local_id();
    session
        .command(Command::SendMessage {
            local_id: id.clone(),
            conversation: to,
            content,
            reply_to: None,
        })
        .await?;
    Ok(acked(session, &id).await?.1)
}

/// Holds the sender's route against account 0's first hop and the
/// recipient's against account 1's. False when the harness observes
/// nothing.
fn held_against_observations<S: TestServer>(
    fx: &Fixture<S>,
    situation: &str,
    canary: &str,
    sent: &Route,
    received: &Route,
) -> anyhow::Result<bool> {
    for (account, label, route) in [(0, "sent", sent), (1, "received", received)] {
        let Some(seen) = fx.server.observe(canary, account) else {
            return Ok(false);
        };
        eprintln!("route truth ({situation}): account {account}'s first hop saw {seen:?}");
        crate::route_truth::compare(route, &seen).with_context(|| {
            format!("{situation}: the {label} route {route:?} against {seen:?}")
        })?;
    }
    Ok(true)
}

/// Garbage from the server ends the session with a typed error: no panic,
/// never `Online`.
pub async fn survives_malformed_server_input<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let account = fx.server.account(0);
    for variant in 0..VARIANTS.len() {
        let garbage = GarbageServer::start(variant).await?;
        let pointed = fx.server.pointed_at(&account, garbage.addr());
        let mut session = fx.session(&pointed, &format!("garbage{variant}"))?;
        let end = session
            .ended_without_online()
            .await
            .with_context(|| format!("variant {variant}: garbage must never reach Online"))?;
        let went_online = session.log.iter().any(|e| {
            matches!(
                e,
                Event::ConnectionChanged(koine_api::ConnectionState::Online { .. })
            )
        });
        ensure!(
            !went_online,
            "variant {variant}: garbage must never reach Online"
        );
        match end {
            SessionEnd::Returned(Err(
                SessionError::Protocol(_) | SessionError::Network(_) | SessionError::Untrusted(_),
            )) => {}
            other => {
                bail!("variant {variant}: expected a typed protocol/network error, got {other:?}")
            }
        }
    }
    Ok(())
}

/// After login, a second account sends the plugin's catalogue of
/// well-formed hostile messages ([`crate::HostilePeer`]), each followed by
/// a plain message. The session stays online and never panics; no edit or
/// deletion of the victim's own message and no text the catalogue marks
/// as spoofed reaches the events; every plain message arrives with exactly
/// one network id. Skipped for a plugin without a hostile peer.
pub async fn survives_hostile_peers<H: Harness>(harness: &H) -> anyhow::Result<()> {
    let fx = Fixture::new(harness).await?;
    let Some(mut peer) = fx.server.hostile_peer().await? else {
        return Ok(());
    };
    let acc_b = fx.server.account(1);
    let mut a = fx.online(0, "a").await?;
    let id = new_local_id();
    a.command(send(
        fx.server.conversation_key(&acc_b),
        &unique_text("my own words"),
        id.clone(),
    ))
    .await?;
    let (own_message, _) = acked(&mut a, &id).await?;
    let victim = crate::Victim {
        address: fx.server.account(0).address,
        own_message: own_message.clone(),
    };
    let cases = peer.catalogue(&victim);
    ensure!(!cases.is_empty(), "the hostile catalogue is empty");
    let mut plain = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        peer.send_raw(&victim, &case.payload)
            .await
            .with_context(|| format!("sending case {:?}", case.name))?;
        let text = unique_text(&format!("plain after case {i}"));
        peer.send_plain(&victim, &text).await?;
        received(&mut a, &text)
            .await
            .with_context(|| format!("the plain message after case {:?}", case.name))?;
        plain.push((case.name.as_str(), text));
    }
    a.drain_for(Duration::from_secs(1)).await;
    ensure!(a.is_running(), "the session ended; events: {:?}", a.log);
    let online_at = a
        .log
        .iter()
        .position(|e| matches!(e, Event::ConnectionChanged(ConnectionState::Online { .. })))
        .unwrap_or_default();
    if let Some(e) = a.log.iter().skip(online_at).find(|e| {
        matches!(
            e,
            Event::ConnectionChanged(ConnectionState::Offline { .. } | ConnectionState::Connecting)
        )
    }) {
        bail!("the session left Online under hostile input: {e:?}");
    }
    for e in &a.log {
        if let Event::MessageChanged {
            remote_id,
            change: change @ (MessageChange::Edited { .. } | MessageChange::Deleted),
            ..
        } = e
            && *remote_id == own_message
        {
            bail!("a peer changed the victim's own message: {change:?}");
        }
    }
    for case in &cases {
        for text in &case.never_shown {
            let shown = a.log.iter().any(|e| match e {
                Event::MessageReceived(m) => m.content.text.contains(text.as_str()),
                Event::MessageChanged {
                    change: MessageChange::Edited { text: t },
                    ..
                } => t.contains(text.as_str()),
                _ => false,
            });
            ensure!(!shown, "case {:?}: {text:?} was shown", case.name);
        }
    }
    for (name, text) in &plain {
        let ids: BTreeSet<&str> = a
            .log
            .iter()
            .filter_map(|e| match e {
                Event::MessageReceived(m) if m.content.text == *text => Some(m.remote_id.as_str()),
                _ => None,
            })
            .collect();
        ensure!(
            ids.len() == 1,
            "the plain message after case {name:?} arrived under {} ids: {ids:?}",
            ids.len()
        );
    }
    Ok(())
}
