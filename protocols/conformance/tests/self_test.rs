//! The suite tested on itself: a small line-based relay server and plugin,
//! run once as written (every check must pass) and once per deliberate flaw
//! (the check that guards against it must fail).

use koine_api::{
    AccountField, Address, AddressError, Capabilities, Command, ConnectionState, Content,
    ConversationKey, Direction, EndToEnd, Event, FieldKind, Hop, HopKind, Jid, Label, Message,
    Protocol, ProtocolError, ProtocolId, ProtocolInfo, RemoteId, Route, Secret, SessionContext,
    SessionError, SessionFuture, Settings, Timestamp, TransportSecurity,
};
use koine_conformance::{Harness, TestAccount, TestServer};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flaw {
    None,
    /// The server forgets message ids: a retry is delivered twice.
    ForgetsIds,
    /// The plugin panics on input it does not understand.
    PanicsOnGarbage,
    /// The plugin names a host it did not connect to.
    WrongHost,
    /// The server lets anyone in.
    AcceptsAnyPassword,
}

// ---- the relay server -------------------------------------------------------

#[derive(Default)]
struct RelayState {
    online: HashMap<String, mpsc::UnboundedSender<String>>,
    queued: HashMap<String, Vec<String>>,
    seen: HashSet<(String, String)>,
    next: u64,
}

struct Relay {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    flaw: Flaw,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const USERS: [(&str, &str); 2] = [("alice@relay.test", "pw-a"), ("bob@relay.test", "pw-b")];

async fn start_relay(flaw: Flaw) -> std::io::Result<Relay> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(Mutex::new(RelayState::default()));
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, state.clone(), flaw));
        }
    });
    Ok(Relay { addr, task, flaw })
}

fn lock(state: &Mutex<RelayState>) -> std::sync::MutexGuard<'_, RelayState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn serve(stream: TcpStream, state: Arc<Mutex<RelayState>>, flaw: Flaw) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let Ok(Some(login)) = lines.next_line().await else {
        return;
    };
    let login: Value = serde_json::from_str(&login).unwrap_or(Value::Null);
    let user = login["login"].as_str().unwrap_or_default().to_owned();
    let good = USERS
        .iter()
        .any(|(u, p)| *u == user && Some(*p) == login["password"].as_str());
    if !good && flaw != Flaw::AcceptsAnyPassword {
        let _ = write.write_all(b"{\"error\":\"auth\"}\n").await;
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let backlog = {
        let mut s = lock(&state);
        s.online.insert(user.clone(), tx.clone());
        s.queued.remove(&user).unwrap_or_default()
    };
    let _ = tx.send("{\"ok\":true}".to_owned());
    for line in backlog {
        let _ = tx.send(line);
    }
    let writer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if write
                .write_all(format!("{line}\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            break;
        };
        // A client signing off is offline from now on: what comes for it
        // next is queued, not written to a closing connection.
        if v["bye"] == true {
            lock(&state).online.remove(&user);
            let _ = tx.send(json!({"bye": "ok"}).to_string());
            break;
        }
        let (Some(id), Some(to), Some(text)) = (
            v["send"]["id"].as_str(),
            v["send"]["to"].as_str(),
            v["send"]["text"].as_str(),
        ) else {
            break;
        };
        let mut s = lock(&state);
        let fresh = s.seen.insert((user.clone(), id.to_owned())) || flaw == Flaw::ForgetsIds;
        s.next += 1;
        let server_id = if flaw == Flaw::ForgetsIds {
            format!("s{}", s.next)
        } else {
            format!("{user}/{id}")
        };
        let _ = tx.send(json!({"acked": id, "server_id": server_id}).to_string());
        if fresh {
            let msg = json!({"msg": {"id": server_id, "from": user, "text": text}}).to_string();
            match s.online.get(to) {
                Some(peer) if peer.send(msg.clone()).is_ok() => {}
                _ => s.queued.entry(to.to_owned()).or_default().push(msg),
            }
        }
    }
    lock(&state).online.remove(&user);
    writer.abort();
}

// ---- the plugin -------------------------------------------------------------

struct RelayPlugin {
    flaw: Flaw,
}

fn route(host: &str) -> Route {
    Route {
        hops: vec![Hop::new(
            host,
            HopKind::ClientLink,
            TransportSecurity::Plaintext,
        )],
        end_to_end: EndToEnd::none(),
    }
}

fn garbage(detail: impl Into<String>) -> SessionError {
    SessionError::Protocol(ProtocolError::Malformed {
        what: "line",
        detail: detail.into(),
    })
}

impl Protocol for RelayPlugin {
    fn info(&self) -> ProtocolInfo {
        ProtocolInfo {
            id: ProtocolId::new("relay"),
            name: "Relay".into(),
            capabilities: Capabilities::text_only(),
            account_fields: vec![AccountField {
                key: "endpoint".into(),
                label: Label::new("relay-endpoint", "Endpoint"),
                kind: FieldKind::Text,
                required: true,
                default: None,
            }],
            account_label: Label::new("relay-user", "User"),
            face: Default::default(),
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
        Jid::parse(input).map(Address::Jid)
    }

    fn run(&self, mut cx: SessionContext) -> SessionFuture {
        let flaw = self.flaw;
        Box::pin(async move {
            let endpoint = cx.settings.require("endpoint")?.to_owned();
            let user = cx.settings.require("user")?.to_owned();
            let host = if flaw == Flaw::WrongHost {
                "elsewhere.test".to_owned()
            } else {
                "relay.test".to_owned()
            };
            let stream = TcpStream::connect(&endpoint)
                .await
                .map_err(|e| SessionError::Network(e.to_string()))?;
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let password = cx.secret.as_ref().map(Secret::expose).unwrap_or_default();
            let login = json!({"login": user, "password": password}).to_string() + "\n";
            write
                .write_all(login.as_bytes())
                .await
                .map_err(|e| SessionError::Network(e.to_string()))?;
            let first = lines
                .next_line()
                .await
                .map_err(|e| garbage(e.to_string()))?;
            let first: Value = match first.as_deref().map(serde_json::from_str) {
                Some(Ok(v)) => v,
                _ if flaw == Flaw::PanicsOnGarbage => panic!("unexpected input"),
                _ => return Err(garbage("not a JSON line")),
            };
            if first["error"] == "auth" {
                return Err(SessionError::AuthFailed);
            }
            if first["ok"] != true {
                return Err(garbage("no greeting"));
            }
            let link = route(&host).hops[0].clone();
            cx.events
                .emit(Event::ConnectionChanged(ConnectionState::Online { link }))
                .await?;
            loop {
                tokio::select! {
                    command = cx.commands.recv() => {
                        let Some(command) = command else {
                            // Sign off, and wait until the relay took it in.
                            let _ = write.write_all(b"{\"bye\":true}\n").await;
                            let signed_off = async {
                                while let Ok(Some(line)) = lines.next_line().await {
                                    if line.contains("\"bye\"") {
                                        break;
                                    }
                                }
                            };
                            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), signed_off).await;
                            return Ok(());
                        };
                        if let Command::SendMessage { local_id, conversation, content, .. } = command {
                            let line = json!({"send": {"id": local_id, "to": conversation, "text": content.text}}).to_string() + "\n";
                            write.write_all(line.as_bytes()).await.map_err(|e| SessionError::Network(e.to_string()))?;
                        }
                    }
                    line = lines.next_line() => {
                        let Some(line) = line.map_err(|e| SessionError::Network(e.to_string()))? else {
                            return Err(SessionError::Network("closed".into()));
                        };
                        let v: Value = serde_json::from_str(&line).map_err(|e| garbage(e.to_string()))?;
                        if let Some(id) = v["acked"].as_str() {
                            cx.events.emit(Event::SendAcked {
                                local_id: id.into(),
                                remote_id: RemoteId::new(v["server_id"].as_str().unwrap_or(id)),
                                route: route(&host),
                            }).await?;
                        } else if let (Some(id), Some(from), Some(text)) = (v["msg"]["id"].as_str(), v["msg"]["from"].as_str(), v["msg"]["text"].as_str()) {
                            cx.events.emit(Event::MessageReceived(Message {
                                conversation: ConversationKey::new(from),
                                remote_id: RemoteId::new(id),
                                local_id: None,
                                sender: Address::Jid(Jid::parse(from)?),
                                sender_name: None,
                                direction: Direction::Incoming,
                                timestamp: Timestamp::now(),
                                content: Content::text(text),
                                reply_to: None,
                                route: route(&host),
                            })).await?;
                        }
                    }
                }
            }
        })
    }
}

// ---- the harness ------------------------------------------------------------

struct RelayHarness {
    flaw: Flaw,
}

fn account(addr: SocketAddr, user: &str, password: &str) -> TestAccount {
    let mut settings = Settings::default();
    settings.set("endpoint", addr.to_string());
    settings.set("user", user);
    TestAccount {
        settings,
        secret: Some(Secret::new(password)),
        address: Address::Jid(Jid::parse(user).expect("jid")),
    }
}

impl Harness for RelayHarness {
    type Server = Relay;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(RelayPlugin { flaw: self.flaw })
    }

    async fn start(&self) -> anyhow::Result<Relay> {
        Ok(start_relay(self.flaw).await?)
    }
}

impl TestServer for Relay {
    fn account(&self, index: usize) -> TestAccount {
        let (user, password) = USERS[index % USERS.len()];
        account(self.addr, user, password)
    }

    fn bad_credentials(&self) -> TestAccount {
        account(self.addr, USERS[0].0, "wrong")
    }

    fn route_host(&self) -> String {
        let _ = self.flaw;
        "relay.test".to_owned()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut a = account.clone();
        a.settings.set("endpoint", endpoint.to_string());
        a
    }
}

// A correct plugin passes every check.
koine_conformance::suite!(RelayHarness { flaw: Flaw::None });

// Each flaw is caught by the check that guards against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_catches_each_flaw() {
    let cases = [
        (Flaw::ForgetsIds, "suppresses_duplicates"),
        (Flaw::PanicsOnGarbage, "survives_malformed_server_input"),
        (Flaw::WrongHost, "reports_the_real_route"),
        (Flaw::AcceptsAnyPassword, "refuses_bad_credentials"),
    ];
    for (flaw, check) in cases {
        let h = RelayHarness { flaw };
        let result = match check {
            "suppresses_duplicates" => koine_conformance::suppresses_duplicates(&h).await,
            "survives_malformed_server_input" => {
                koine_conformance::survives_malformed_server_input(&h).await
            }
            "reports_the_real_route" => koine_conformance::reports_the_real_route(&h).await,
            _ => koine_conformance::refuses_bad_credentials(&h).await,
        };
        assert!(result.is_err(), "{check} must fail for {flaw:?}");
    }
}
