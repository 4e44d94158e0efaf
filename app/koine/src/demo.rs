//! `koine --demo`: a working unified inbox with real routes and no account of
//! your own.
//!
//! Everything runs in this process, on loopback, inside a throwaway profile
//! (a temporary directory removed at exit):
//!
//! - the reference gatekeeper server (`koine_gatekeeper::server`), with two
//!   gatekeeper-messenger users, Lena and Sam, who opted in to Koine's
//!   provider. Each is a real client session of the gatekeeper plugin (keys
//!   in memory) that answers every message it receives;
//! - the simulated phone (`koine_sms::sim`): your phone, reached over the
//!   KDE Connect protocol and paired in advance (the pairing a real user
//!   confirms once), and Mum's phone on the same simulated carrier, which
//!   answers your SMS.
//!
//! Your two demo accounts are ordinary engine accounts: their passwords and
//! keys go to the OS keyring under their own random account ids, and every
//! one of those entries is deleted at exit, with the profile.
//!
//! The server and the phones are the crates' libraries rather than their
//! binaries (`koine-gatekeeper-server`, `koine-phone-sim`): `cargo run -p
//! koine` builds only the `koine` binary, so sibling binaries would be
//! missing after the README's command; the libraries are linked already.

use anyhow::{Context, bail};
use koine_api::{
    AccountId, Command, Contact, ConversationKey, Direction, Event, Protocol, ProtocolId, Secret,
    SecretError, SecretStore, SessionContext, Settings,
};
use koine_core::{AccountStatus, Engine, EngineEvent, Profile};
use koine_gatekeeper::server::db::Db;
use koine_gatekeeper::wire::Peer;
use koine_gatekeeper::wire::stanza::Folder;
use koine_sms::kdeconnect::tls::LocalIdentity;
use koine_sms::sim::kdeconnect::{KdeConfig, KdePhone, KdeServer};
use koine_sms::sim::{Carrier, Phone, PhoneConfig, PhoneEvent};
use koine_ui::demo_script::DemoContact;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::{broadcast, mpsc};

/// The demo provider's name on the gatekeeper server.
const PROVIDER: &str = "koine";
/// Your address on the gatekeeper network.
const ME: &str = "koine:you";
/// Your phone's number.
const MY_NUMBER: &str = "+33612345601";
/// Mum's number.
const MUM_NUMBER: &str = "+33698765432";
/// Gatekeeper users: Lena and Sam.
const PEOPLE: [(DemoContact, &str); 2] = [
    (DemoContact::Lena, "+4915112345678"),
    (DemoContact::Sam, "+4917698765432"),
];
/// How long to wait for a session to come online.
const ONLINE_TIMEOUT: Duration = Duration::from_secs(30);

/// The running demo: its profile directory, the runtime its servers and
/// people live on, and the accounts to remove at exit.
pub struct Demo {
    dir: PathBuf,
    runtime: Option<Runtime>,
    engine: EngineSlot,
    server: Option<koine_gatekeeper::server::Ready>,
    phone: Option<(Arc<KdePhone>, KdeServer)>,
    mum: Option<Arc<Phone>>,
    passwords: Passwords,
}

/// Fresh passwords per run, by address; they only ever live in this
/// process, the demo server's throwaway database and the keyring entry
/// removed at exit.
type Passwords = Arc<HashMap<&'static str, String>>;

/// The engine to clean up, taken by whoever cleans up first: the normal
/// exit or a signal.
type EngineSlot = Arc<tokio::sync::Mutex<Option<Engine>>>;

impl Demo {
    /// Makes the throwaway profile and starts the server and the phones.
    pub fn start() -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("koine-demo-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        eprintln!(
            "koine: demo profile in {} (removed at exit, keyring entries included)",
            dir.display()
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("koine-demo")
            .enable_all()
            .build()
            .context("starting the demo's runtime")?;
        let mut demo = Self {
            dir,
            runtime: None,
            engine: EngineSlot::default(),
            server: None,
            phone: None,
            mum: None,
            passwords: Arc::new(
                std::iter::once(ME)
                    .chain(PEOPLE.iter().map(|(_, n)| *n))
                    .map(|who| (who, format!("demo-{}", uuid::Uuid::new_v4().simple())))
                    .collect(),
            ),
        };
        let server_dir = demo.dir.join("gatekeeper");
        std::fs::create_dir_all(&server_dir)?;
        let (server, phone, mum) =
            runtime.block_on(start_services(server_dir, demo.passwords.clone()))?;
        runtime.spawn(clean_up_on_signal(demo.engine.clone(), demo.dir.clone()));
        demo.runtime = Some(runtime);
        demo.server = Some(server);
        demo.phone = Some(phone);
        demo.mum = Some(mum);
        Ok(demo)
    }

    /// The throwaway profile.
    pub fn profile(&self) -> anyhow::Result<Profile> {
        Ok(Profile::resolve(Some(&self.dir.join("profile")))?)
    }

    fn runtime(&self) -> anyhow::Result<&Runtime> {
        self.runtime.as_ref().context("the demo has stopped")
    }

    /// Adds your two accounts to `engine` (not started: the window or the
    /// command does that), with the phone paired and your first messages
    /// to Lena and Sam in the outbox; the people start answering.
    pub fn seed(&self, engine: &Engine) -> anyhow::Result<()> {
        let runtime = self.runtime()?;
        *runtime.block_on(self.engine.lock()) = Some(engine.clone());
        let (Some(server), Some((kde, listener)), Some(mum)) =
            (&self.server, &self.phone, &self.mum)
        else {
            bail!("the demo's services are not running");
        };
        let bots_dir = self.dir.join("people");
        for (who, number) in PEOPLE {
            runtime.spawn(run_person(
                who,
                number,
                self.passwords.get(number).cloned().unwrap_or_default(),
                server.clone(),
                bots_dir.join(number.trim_start_matches('+')),
            ));
        }
        runtime.spawn(run_mum(mum.clone()));
        runtime.block_on(seed_accounts(Seed {
            engine: engine.clone(),
            server: server.clone(),
            phone: kde.clone(),
            phone_address: listener.addr().to_string(),
            password: self.passwords.get(ME).cloned().unwrap_or_default(),
            mum: mum.clone(),
        }))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                if let Some(engine) = self.engine.lock().await.take() {
                    remove_accounts(engine).await;
                }
            });
        }
        self.phone = None;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
        remove_profile(&self.dir);
    }
}

/// Stops the accounts and removes them, which deletes every keyring entry
/// of their scopes, then the history's key.
async fn remove_accounts(engine: Engine) {
    engine.shutdown().await;
    for account in engine.accounts().unwrap_or_default() {
        if let Err(error) = engine.remove_account(&account.id).await {
            tracing::warn!(%error, "demo: removing an account");
        }
    }
    if let Ok(scope) = engine.profile().database_key_scope() {
        let secrets = koine_keyring::KeyringSecrets::scoped(scope);
        match tokio::task::spawn_blocking(move || secrets.delete_all()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "demo: removing the history's key"),
            Err(error) => tracing::warn!(%error, "demo: removing the history's key"),
        }
    }
}

fn remove_profile(dir: &std::path::Path) {
    if dir.exists()
        && let Err(error) = std::fs::remove_dir_all(dir)
    {
        tracing::warn!(%error, dir = %dir.display(), "demo: removing the profile");
    }
}

/// Ctrl+C or SIGTERM (the window does not handle them): clean up, then end
/// the process as the signal would have.
async fn clean_up_on_signal(slot: EngineSlot, dir: PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    let mut engine = slot.lock().await;
    // None: the normal exit is cleaning up already.
    if let Some(engine) = engine.take() {
        remove_accounts(engine).await;
        remove_profile(&dir);
        std::process::exit(130);
    }
}

type Services = (
    koine_gatekeeper::server::Ready,
    (Arc<KdePhone>, KdeServer),
    Arc<Phone>,
);

async fn start_services(server_dir: PathBuf, passwords: Passwords) -> anyhow::Result<Services> {
    let password = |who: &str| passwords.get(who).cloned().unwrap_or_default();
    let db_path = server_dir.join("gatekeeper.sqlite");
    let db = Db::open(&db_path).context("creating the demo server's database")?;
    db.add_provider(PROVIDER)?;
    db.add_user(&Peer::parse(ME)?, &password(ME))?;
    for (_, number) in PEOPLE {
        let peer = Peer::parse(number)?;
        db.add_user(&peer, &password(number))?;
        db.set_optin(&peer, PROVIDER, Folder::Combined, true)?;
    }
    drop(db);
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let config = koine_gatekeeper::server::Config::loopback(db_path);
        let result = koine_gatekeeper::server::run(config, |ready| {
            let _ = tx.send(ready.clone());
        })
        .await;
        if let Err(error) = result {
            tracing::error!(%error, "demo: the gatekeeper server stopped");
        }
    });
    let ready = tokio::time::timeout(ONLINE_TIMEOUT, rx)
        .await
        .context("the demo server did not start")?
        .context("the demo server did not start")?;

    let carrier = Carrier::new();
    let phone = Phone::new(
        PhoneConfig {
            number: MY_NUMBER.into(),
            region: "FR".into(),
            device_name: "Pixel (demo)".into(),
            clock_skew_secs: 0,
        },
        &carrier,
    );
    let kde = KdePhone::new(
        phone,
        KdeConfig {
            device_id: "koine_demo_phone".into(),
            protocol_version: 8,
            accept_pairing: true,
        },
        None,
    )?;
    let listener = kde.listen(loopback()).await?;
    let mum = Phone::new(
        PhoneConfig {
            number: MUM_NUMBER.into(),
            region: "FR".into(),
            device_name: "Mum's phone".into(),
            clock_skew_secs: 0,
        },
        &carrier,
    );
    Ok((ready, (kde, listener), mum))
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

fn settings(pairs: &[(&str, &str)]) -> Settings {
    let mut s = Settings::default();
    for (k, v) in pairs {
        s.set(*k, *v);
    }
    s
}

fn gatekeeper_settings(user: &str, server: &koine_gatekeeper::server::Ready) -> Settings {
    settings(&[
        ("user", user),
        ("endpoint", &server.noise),
        ("server_key", &server.server_key),
        ("gatekeeper_http", &server.gatekeeper_http),
        ("provider_url", &server.provider_http),
        ("server_name", "gatekeeper.demo"),
        ("operator", "Demo gatekeeper"),
    ])
}

struct Seed {
    engine: Engine,
    server: koine_gatekeeper::server::Ready,
    phone: Arc<KdePhone>,
    phone_address: String,
    password: String,
    mum: Arc<Phone>,
}

async fn seed_accounts(seed: Seed) -> anyhow::Result<()> {
    let Seed {
        engine,
        server,
        phone,
        phone_address,
        password,
        mum,
    } = seed;
    let mut events = engine.subscribe();
    let gk = engine
        .add_account(
            &ProtocolId::new("gatekeeper"),
            ME,
            gatekeeper_settings(ME, &server),
            Some(Secret::new(password)),
        )
        .await
        .context("adding the demo's gatekeeper account (the OS keyring must be available)")?;
    // The phone is paired in advance, as a pairing made elsewhere: this
    // computer's identity is the account's secret (so it goes to the
    // keyring) and the phone's pin is in the settings.
    let desktop = LocalIdentity::generate("koine_demo_desktop")?;
    let desktop_pin = desktop.fingerprint()?;
    phone.trust(&desktop.device_id, &desktop_pin, 8);
    let phone_pin = phone.fingerprint();
    let sms = engine
        .add_account(
            &ProtocolId::new("sms"),
            MY_NUMBER,
            settings(&[
                ("backend", "kdeconnect"),
                ("phone_address", &phone_address),
                ("phone_name", "Pixel (demo)"),
                ("phone_device_id", phone.device_id()),
                ("phone_fingerprint", &phone_pin),
                ("phone_protocol_version", "8"),
                ("device_name", "Koine demo"),
                ("own_number", MY_NUMBER),
                ("region", "FR"),
            ]),
            Some(Secret::new(serde_json::to_string(&desktop)?)),
        )
        .await
        .context("adding the demo's SMS account")?;
    add_contacts(&engine, &gk.id, &sms.id)?;
    for (who, number) in PEOPLE {
        engine
            .send(
                &gk.id,
                &ConversationKey::new(number),
                koine_api::Content::text(who.opening()),
                None,
            )
            .await?;
    }
    // The window (or `koine --demo tail`) starts the accounts, so that it
    // sees them connect; Mum writes once your phone is linked.
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + ONLINE_TIMEOUT * 4;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(EngineEvent::AccountStatus {
                    account,
                    status: AccountStatus::Online { .. },
                })) if account == sms.id => break,
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return,
            }
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        mum.send(
            &[MY_NUMBER.to_owned()],
            &DemoContact::Mum.opening(),
            -1,
            &[],
        );
    });
    Ok(())
}

fn add_contacts(engine: &Engine, gk: &AccountId, sms: &AccountId) -> anyhow::Result<()> {
    let registry = engine.registry();
    let parse = |protocol: &str, input: &str| {
        registry
            .get(&ProtocolId::new(protocol))
            .context("a demo network is missing from this build")
            .and_then(|p| Ok(p.parse_address(input)?))
    };
    let mut contacts = Vec::new();
    for (who, number) in PEOPLE {
        contacts.push((gk, parse("gatekeeper", number)?, who));
    }
    contacts.push((sms, parse("sms", MUM_NUMBER)?, DemoContact::Mum));
    for (account, address, who) in contacts {
        engine.add_contact(
            account,
            &Contact {
                address,
                name: Some(who.name()),
                groups: Vec::new(),
                mutual: true,
            },
        )?;
    }
    Ok(())
}

/// Secrets of a simulated person: in memory, gone with the process.
#[derive(Default)]
struct MemorySecrets(Mutex<HashMap<String, Secret>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let map = self
            .0
            .lock()
            .map_err(|e| SecretError::Other(e.to_string()))?;
        Ok(map.get(name).cloned())
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|e| SecretError::Other(e.to_string()))?;
        map.insert(name.to_owned(), value.clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|e| SecretError::Other(e.to_string()))?;
        map.remove(name);
        Ok(())
    }
}

/// One gatekeeper-messenger user: a client session of the gatekeeper plugin
/// that answers each message it receives. Restarts its session if it ends.
async fn run_person(
    who: DemoContact,
    number: &'static str,
    password: String,
    server: koine_gatekeeper::server::Ready,
    data_dir: PathBuf,
) {
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    let mut turns: HashMap<String, usize> = HashMap::new();
    loop {
        if let Err(error) = std::fs::create_dir_all(&data_dir) {
            tracing::error!(%error, "demo: a person's directory");
            return;
        }
        let (commands_tx, commands) = mpsc::channel(64);
        let (events, mut received) = koine_api::EventSink::channel(64);
        let context = SessionContext {
            account: AccountId::new(format!("demo-{}", number.trim_start_matches('+'))),
            settings: gatekeeper_settings(number, &server),
            secret: Some(Secret::new(password.clone())),
            secrets: secrets.clone(),
            data_dir: data_dir.clone(),
            commands,
            events,
        };
        let session = tokio::spawn(koine_gatekeeper::GatekeeperProtocol.run(context));
        while let Some(event) = received.recv().await {
            let Event::MessageReceived(message) = event else {
                continue;
            };
            if message.direction != Direction::Incoming {
                continue;
            }
            let turn = turns.entry(message.conversation.to_string()).or_default();
            let reply = who.reply(*turn);
            *turn += 1;
            let commands_tx = commands_tx.clone();
            tokio::spawn(async move {
                // A person takes a moment to answer.
                tokio::time::sleep(Duration::from_millis(1200)).await;
                let _ = commands_tx
                    .send(Command::SendMessage {
                        local_id: koine_api::LocalId::new(uuid::Uuid::new_v4().to_string()),
                        conversation: message.conversation,
                        content: koine_api::Content::text(reply),
                        reply_to: None,
                    })
                    .await;
            });
        }
        let _ = session.await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Mum's phone answers each SMS you send her.
async fn run_mum(mum: Arc<Phone>) {
    let mut events = mum.subscribe();
    let mut turn = 0;
    loop {
        match events.recv().await {
            Ok(PhoneEvent::Message(m))
                if m.kind == koine_sms::kdeconnect::sms::message_type::INBOX =>
            {
                let reply = DemoContact::Mum.reply(turn);
                turn += 1;
                let mum = mum.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    mum.send(&[MY_NUMBER.to_owned()], &reply, -1, &[]);
                });
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
