//! The conformance suite every Koine protocol plugin runs against its own
//! real test server.
//!
//! A plugin opts in by implementing [`Harness`] (start the real server on
//! loopback) and [`TestServer`] (hand out two registered accounts, a
//! bad-credentials account, the host the route must name, and a way to point
//! an account at another endpoint), then calling [`suite!`] in an
//! integration test:
//!
//! ```text
//! // protocols/example/tests/conformance.rs
//! koine_conformance::suite!(example_harness());
//! ```
//!
//! The suite drives the plugin directly through the API (commands in, events
//! out) with the real keyring behind [`koine_api::SecretStore`]; run it inside
//! `scripts/with-keyring`. What it checks, one test each:
//!
//! | test | what must hold |
//! |---|---|
//! | `connects_with_good_credentials` | `Online` with a link naming the real host and a known transport; the session ends cleanly when its command channel closes |
//! | `refuses_bad_credentials` | the session ends with [`SessionError::AuthFailed`], never `Online` |
//! | `reports_the_roster` | a contact added by one account shows in its roster (when the protocol has a roster) |
//! | `exchanges_messages_both_ways` | A→B and B→A arrive, each acknowledged by local id |
//! | `delivers_to_an_offline_recipient` | a message sent while B is offline reaches B when B connects |
//! | `suppresses_duplicates` | the same local id sent twice is acknowledged twice and seen once by B |
//! | `reports_the_real_route` | routes validate, name the real host, and never claim an unknown transport |
//! | `route_matches_what_the_server_saw` | the routes of a sent and a received message agree with what each account's first hop observed ([`TestServer::observe`]: the TLS version it negotiated or a plain link, whether its storage holds the text in the clear, whether the text went on in the clear): with both online, to a recipient who was offline and comes online, and with a file (when the capabilities say files); claiming more fails, and so does claiming less |
//! | `survives_malformed_server_input` | garbage from the server ends the session with a typed error: no panic, no `Online` |
//! | `survives_hostile_peers` | after login, a second account's catalogue of well-formed hostile messages ([`HostilePeer`]): no panic, still online, the victim's own message never edited or deleted, nothing marked spoofed shown, each plain message in between once |
//!
//! Incoming messages are always reported as [`Event::MessageReceived`], also
//! from strangers: classifying them as requests is the engine's policy.

mod checks;
mod garbage;
mod hostile;
pub mod route_truth;
mod session;

pub use checks::*;
pub use garbage::GarbageServer;
pub use hostile::{HostileCase, HostilePeer, PeerFuture, Victim};
pub use session::{RunningSession, SessionEnd, keyring_scope};

use koine_api::{Address, ConversationKey, Protocol, Secret, Settings};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One account on the test server.
#[derive(Debug, Clone)]
pub struct TestAccount {
    /// The account's settings (server, user id, ports, CA file...).
    pub settings: Settings,
    /// The password or token.
    pub secret: Option<Secret>,
    /// How other accounts address this one.
    pub address: Address,
}

/// A plugin's entry into the suite.
pub trait Harness: Send + Sync {
    /// The running server; dropping it stops the server.
    type Server: TestServer;

    /// The plugin under test.
    fn protocol(&self) -> Arc<dyn Protocol>;

    /// Starts a fresh server on loopback with at least two registered accounts.
    fn start(&self) -> impl Future<Output = anyhow::Result<Self::Server>> + Send;
}

/// A running test server.
pub trait TestServer: Send + Sync {
    /// Registered account number `index` (0 and 1 are used). The two accounts
    /// may message each other (set up contacts, opt-in or pairing in
    /// [`Harness::start`] as the network requires).
    fn account(&self, index: usize) -> TestAccount;

    /// An account whose credentials the server refuses.
    fn bad_credentials(&self) -> TestAccount;

    /// The host the route's first hop must name (the server's name, the
    /// phone's device name).
    fn route_host(&self) -> String;

    /// The same account, pointed at another endpoint on 127.0.0.1 (used to
    /// feed the plugin garbage).
    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount;

    /// The conversation `from` uses to write to `to`.
    fn conversation_key(&self, to: &TestAccount) -> ConversationKey {
        ConversationKey::new(to.address.to_string())
    }

    /// What the first hop of account `account` observed of the message
    /// whose text is `canary` (from its logs and storage), for the
    /// route-truth check: the account's server (the same one for both
    /// accounts on most networks) or, for a relay device, the account's own
    /// device. `None` when this harness cannot observe it: the check is then
    /// skipped.
    fn observe(&self, canary: &str, account: usize) -> Option<route_truth::Observation> {
        let _ = (canary, account);
        None
    }

    /// Whether these accounts can send files, when the protocol's
    /// capabilities say it does (`max_attachment_bytes`). False for a
    /// backend that refuses them with [`koine_api::SendError::Unsupported`]
    /// while another backend of the same plugin sends them.
    fn sends_files(&self) -> bool {
        true
    }

    /// A hostile peer logged in as account 1 (see [`HostilePeer`]); `None`,
    /// the default, while the plugin has no catalogue: the check is then
    /// skipped.
    fn hostile_peer(
        &self,
    ) -> impl Future<Output = anyhow::Result<Option<Box<dyn HostilePeer>>>> + Send {
        async { Ok(None) }
    }

    /// How long to wait for any one expected event.
    fn timeout(&self) -> Duration {
        Duration::from_secs(30)
    }
}

/// Generates one `#[tokio::test]` per check for a harness expression.
#[macro_export]
macro_rules! suite {
    ($harness:expr) => {
        $crate::suite!(@tests $harness;
            connects_with_good_credentials,
            refuses_bad_credentials,
            reports_the_roster,
            exchanges_messages_both_ways,
            delivers_to_an_offline_recipient,
            suppresses_duplicates,
            reports_the_real_route,
            route_matches_what_the_server_saw,
            survives_malformed_server_input,
            survives_hostile_peers,
        );
    };
    (@tests $harness:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let harness = $harness;
                if let Err(e) = $crate::$check(&harness).await {
                    panic!("conformance check {} failed: {e:#}", stringify!($check));
                }
            }
        )*
    };
}
