//! The plugin: [`GatekeeperProtocol`].

mod link;
mod media;
mod route;
mod session;
mod state;

use crate::wire::Peer;
use koine_api::{
    AccountField, Address, AddressError, Capabilities, E2eScheme, FieldKind, Label, Protocol,
    ProtocolId, ProtocolInfo, SessionContext, SessionError, SessionFuture, Settings, SettingsError,
};

/// Gatekeeper interop (EU DMA) over Koine's open protocol (`PROTOCOL.md`):
/// Noise transport, XML stanzas, protobuf payloads, Signal end to end.
///
/// Account settings (keys of [`Settings`]):
///
/// | key | meaning |
/// |---|---|
/// | `user` | the account: `+E164` (a gatekeeper user) or `provider:id` (a third-party user) |
/// | `endpoint` | the gatekeeper's Noise endpoint, `host:port` |
/// | `server_name` | the gatekeeper's name shown in routes (default: the endpoint's host) |
/// | `operator` | who runs the gatekeeper, shown in routes (optional) |
/// | `server_key` | the server's static key, hex: pins it and uses Noise IK; without it the first connection runs XX and pins the key it learns |
/// | `gatekeeper_http` | the gatekeeper's HTTP base URL (media proxy) |
/// | `provider_url` | the provider's HTTP base URL (auth, media host); third-party users only |
/// | `extra_ca_file` | a PEM file of CA certificates to trust besides the system's, for `https://` URLs |
/// | `e2ee_start_over` | the user's explicit choice to discard an end-to-end store whose keyring key was lost and start a new identity: the store id the account's error named (a stale id does nothing) |
///
/// Without `server_key` and with nothing pinned yet, the first connection
/// learns the server's key over Noise XX, closes, and asks the user to
/// confirm its fingerprint (a `PinCertificate` prompt) before any password
/// or token is sent; once confirmed the key is pinned and every connection
/// runs IK with it. A server that does not hold the pinned key is refused.
///
/// HTTP URLs are `https://` (verified TLS) or, for a server on this machine,
/// loopback `http://`.
///
/// The secret is the account's password. The Noise client key and the E2EE
/// store's key live in the account's keyring scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct GatekeeperProtocol;

/// Parsed settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub user: Peer,
    pub endpoint: String,
    pub server_name: String,
    pub operator: Option<String>,
    pub server_key: Option<Vec<u8>>,
    pub gatekeeper_http: String,
    pub provider_url: Option<String>,
    pub extra_ca_file: Option<std::path::PathBuf>,
    pub e2ee_start_over: Option<String>,
}

fn invalid(key: &str, reason: &str) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Self, SettingsError> {
        let user = Peer::parse(s.require("user")?).map_err(|e| invalid("user", &e.to_string()))?;
        let endpoint = s.require("endpoint")?.to_owned();
        let host = endpoint
            .rsplit_once(':')
            .map(|(h, _)| h.to_owned())
            .ok_or_else(|| invalid("endpoint", "expected host:port"))?;
        let server_key = match s.get("server_key").filter(|k| !k.is_empty()) {
            Some(k) => {
                let b = hex::decode(k).map_err(|_| invalid("server_key", "not hex"))?;
                if b.len() != 32 {
                    return Err(invalid("server_key", "not 32 bytes"));
                }
                Some(b)
            }
            None => None,
        };
        let gatekeeper_http = s
            .require("gatekeeper_http")?
            .trim_end_matches('/')
            .to_owned();
        crate::wire::http::Url::parse(&format!("{gatekeeper_http}/"))
            .map_err(|e| invalid("gatekeeper_http", &e.to_string()))?;
        let provider_url = match (&user, s.get("provider_url").filter(|v| !v.is_empty())) {
            (Peer::ThirdParty(_), None) => {
                return Err(SettingsError::Missing("provider_url".into()));
            }
            (_, Some(u)) => {
                let u = u.trim_end_matches('/').to_owned();
                crate::wire::http::Url::parse(&format!("{u}/"))
                    .map_err(|e| invalid("provider_url", &e.to_string()))?;
                Some(u)
            }
            (_, None) => None,
        };
        Ok(Self {
            user,
            endpoint,
            server_name: s
                .get("server_name")
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .unwrap_or(host),
            operator: s
                .get("operator")
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            server_key,
            gatekeeper_http,
            provider_url,
            extra_ca_file: s
                .get("extra_ca_file")
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from),
            e2ee_start_over: s
                .get("e2ee_start_over")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        })
    }
}

fn field(key: &str, label: &str, kind: FieldKind, required: bool) -> AccountField {
    AccountField {
        key: key.into(),
        label: Label::new(format!("gatekeeper-field-{}", key.replace('_', "-")), label),
        kind,
        required,
        default: None,
    }
}

impl Protocol for GatekeeperProtocol {
    fn info(&self) -> ProtocolInfo {
        let mut caps = Capabilities::text_only();
        caps.reactions = true;
        caps.replies = true;
        caps.delivery_receipts = true;
        caps.read_receipts = true;
        caps.typing = true;
        caps.max_attachment_bytes = Some(media::MAX_FILE);
        caps.e2e = vec![E2eScheme::Signal];
        caps.blocking = true;
        caps.reporting = true;
        ProtocolInfo {
            id: ProtocolId::new("gatekeeper"),
            name: "Gatekeeper interop".into(),
            capabilities: caps,
            account_fields: vec![
                field("user", "Phone number or provider:id", FieldKind::Text, true),
                field(
                    "endpoint",
                    "Gatekeeper endpoint (host:port)",
                    FieldKind::Text,
                    true,
                ),
                field("server_key", "Server key (hex)", FieldKind::Text, false),
                field(
                    "gatekeeper_http",
                    "Gatekeeper media proxy URL",
                    FieldKind::Text,
                    true,
                ),
                field("provider_url", "Provider URL", FieldKind::Text, false),
                field("server_name", "Server name", FieldKind::Text, false),
                field("operator", "Operator", FieldKind::Text, false),
                field(
                    "extra_ca_file",
                    "Extra CA certificates (PEM file)",
                    FieldKind::Text,
                    false,
                ),
                field(
                    "e2ee_start_over",
                    "Start over with a new identity (the store id from the error)",
                    FieldKind::Text,
                    false,
                ),
                field("password", "Password", FieldKind::Secret, true),
            ],
            account_label: Label::new("gatekeeper-field-user", "Phone number or provider:id"),
            face: koine_api::Face {
                badge: Some(std::borrow::Cow::Borrowed(include_bytes!(
                    "../../../../assets/badges/gatekeeper.svg"
                ))),
                about: Some(Label::new(
                    "gatekeeper-about",
                    "A number or username on a large messenger that opens its network to other apps (EU interop); you opt in with its provider; messages are end-to-end encrypted.",
                )),
                translations: vec![
                    koine_api::Translation::embedded(
                        "en",
                        include_str!("../../../../i18n/en/koine-gatekeeper.ftl"),
                    ),
                    koine_api::Translation::embedded(
                        "fr",
                        include_str!("../../../../i18n/fr/koine-gatekeeper.ftl"),
                    ),
                ],
            },
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
        Peer::parse(input).map(|p| p.to_address())
    }

    fn run(&self, cx: SessionContext) -> SessionFuture {
        Box::pin(async move {
            let config = Config::from_settings(&cx.settings).map_err(SessionError::Settings)?;
            session::run(config, cx).await
        })
    }
}
