//! Account settings of the SMS plugin.
//!
//! | key | backend | meaning |
//! |---|---|---|
//! | `backend` | both | `kdeconnect` (default) or `smsgate` |
//! | `region` | both | ISO region for national numbers (default `FR`) |
//! | `own_number` | both | the phone's own number, shown as the sender of sent messages |
//! | `phone_address` | kdeconnect | `host[:port]` of the phone (port 1716 by default) |
//! | `device_name` | kdeconnect | the name this computer announces (default `Koine`) |
//! | `phone_name` | both | the phone's name until it tells its own |
//! | `sub_id` | kdeconnect | SIM subscription id for dual-SIM phones (default -1: the phone's default) |
//! | `phone_device_id`, `phone_fingerprint`, `phone_protocol_version` | kdeconnect | a pairing made elsewhere (the pin is public data; the desktop's key is then the account secret) |
//! | `url` | smsgate | the local API's base URL, e.g. `http://192.168.1.20:8080`, or `https://…` for the app's HTTPS mode |
//! | `certificate_fingerprint` | smsgate | with `https://`: SHA-256 of the app's self-signed certificate (else the user is asked to compare it on the first connection) |
//! | `username` | smsgate | the local API's user (default `sms`); the password is the account secret |
//! | `sim_number` | smsgate | SIM slot (1, 2...) to send with |
//! | `webhook_listen` | smsgate | `ip:port` where this computer receives the phone's webhooks |
//! | `webhook_url` | smsgate | the URL the phone must call (default `http://<webhook_listen>/`) |

use crate::kdeconnect::identity::{DISCOVERY_PORT, PROTOCOL_VERSION};
use crate::kdeconnect::session::PairRecord;
use koine_api::{Address, ProviderAddress, Settings, SettingsError};
use std::net::{SocketAddr, ToSocketAddrs};

/// Which backend an account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The KDE Connect protocol.
    KdeConnect,
    /// The SMSGate local REST API.
    SmsGate,
}

fn invalid(key: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// The backend named by the settings.
pub fn backend(settings: &Settings) -> Result<Backend, SettingsError> {
    match settings.get("backend").unwrap_or("kdeconnect") {
        "kdeconnect" | "" => Ok(Backend::KdeConnect),
        "smsgate" => Ok(Backend::SmsGate),
        other => Err(invalid("backend", format!("unknown backend {other}"))),
    }
}

/// The region setting, checked.
pub fn region(settings: &Settings) -> Result<String, SettingsError> {
    let r = settings
        .get("region")
        .unwrap_or(crate::phone::DEFAULT_REGION);
    if crate::phone::valid_region(r) {
        Ok(r.to_ascii_uppercase())
    } else {
        Err(invalid("region", "not an ISO 3166 region code"))
    }
}

fn own_address(own: &Option<String>) -> Address {
    own.as_deref()
        .and_then(|n| koine_api::PhoneNumber::parse(n).ok())
        .map(Address::Phone)
        .or_else(|| ProviderAddress::parse("sms:me").ok().map(Address::Provider))
        .unwrap_or_else(|| Address::Room("me".into()))
}

/// Settings of a KDE Connect account.
#[derive(Debug, Clone)]
pub struct KdeSettings {
    /// Where the phone listens.
    pub phone_address: SocketAddr,
    /// The name this computer announces.
    pub device_name: String,
    /// The phone's label until it tells its name.
    pub phone_label: String,
    /// Region for national numbers.
    pub region: String,
    /// SIM subscription id, -1 for the default.
    pub sub_id: i64,
    /// The phone's own number, normalised.
    pub own_number: Option<String>,
    /// A pairing made elsewhere.
    pub preset_pairing: Option<PairRecord>,
}

impl KdeSettings {
    /// Reads and checks the settings.
    pub fn from_settings(s: &Settings) -> Result<Self, SettingsError> {
        let region = region(s)?;
        let raw = s.require("phone_address")?;
        let with_port = if raw.parse::<SocketAddr>().is_ok()
            || raw
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            raw.to_owned()
        } else {
            format!("{raw}:{DISCOVERY_PORT}")
        };
        let phone_address = with_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| invalid("phone_address", "not a host:port"))?;
        let sub_id = match s.get("sub_id") {
            Some(v) if !v.is_empty() => {
                v.parse().map_err(|_| invalid("sub_id", "not an integer"))?
            }
            _ => -1,
        };
        let own_number = match s.get("own_number") {
            Some(n) if !n.is_empty() => Some(
                crate::phone::normalize(n, &region)
                    .map_err(|e| invalid("own_number", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            _ => None,
        };
        let phone_label = s.get("phone_name").unwrap_or("phone").to_owned();
        let preset_pairing = match (s.get("phone_device_id"), s.get("phone_fingerprint")) {
            (Some(id), Some(fp)) if !id.is_empty() && !fp.is_empty() => {
                let fp = fp.replace(':', "").to_ascii_lowercase();
                if fp.len() != 64 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("phone_fingerprint", "not a SHA-256 in hex"));
                }
                let version = match s.get("phone_protocol_version") {
                    Some(v) if !v.is_empty() => v
                        .parse()
                        .map_err(|_| invalid("phone_protocol_version", "not an integer"))?,
                    _ => PROTOCOL_VERSION,
                };
                Some(PairRecord {
                    device_id: id.to_owned(),
                    device_name: phone_label.clone(),
                    fingerprint: fp,
                    version,
                })
            }
            _ => None,
        };
        Ok(Self {
            phone_address,
            device_name: s.get("device_name").unwrap_or("Koine").to_owned(),
            phone_label,
            region,
            sub_id,
            own_number,
            preset_pairing,
        })
    }

    /// How the account's own messages are attributed.
    pub fn own_address(&self) -> Address {
        own_address(&self.own_number)
    }
}

/// Settings of an SMSGate account.
#[derive(Debug, Clone)]
pub struct GateSettings {
    /// The API's base URL (`http://host:port`).
    pub base: crate::smsgate::http::Url,
    /// The API user.
    pub username: String,
    /// The phone's label.
    pub phone_label: String,
    /// Region for national numbers.
    pub region: String,
    /// SIM slot.
    pub sim_number: Option<u32>,
    /// Where to receive webhooks.
    pub webhook_listen: Option<SocketAddr>,
    /// The URL the phone calls.
    pub webhook_url: Option<String>,
    /// The phone's own number.
    pub own_number: Option<String>,
    /// With `https://`: the pin of the app's certificate, when given here.
    pub certificate_pin: Option<String>,
}

impl GateSettings {
    /// Reads and checks the settings.
    pub fn from_settings(s: &Settings) -> Result<Self, SettingsError> {
        let region = region(s)?;
        let base = crate::smsgate::http::Url::parse(s.require("url")?)
            .map_err(|e| invalid("url", e.to_string()))?;
        let sim_number = match s.get("sim_number") {
            Some(v) if !v.is_empty() => Some(
                v.parse()
                    .map_err(|_| invalid("sim_number", "not a number"))?,
            ),
            _ => None,
        };
        let webhook_listen = match s.get("webhook_listen") {
            Some(v) if !v.is_empty() => Some(
                v.parse()
                    .map_err(|_| invalid("webhook_listen", "not ip:port"))?,
            ),
            _ => None,
        };
        let own_number = match s.get("own_number") {
            Some(n) if !n.is_empty() => Some(
                crate::phone::normalize(n, &region)
                    .map_err(|e| invalid("own_number", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            _ => None,
        };
        let certificate_pin = match s.get("certificate_fingerprint") {
            Some(fp) if !fp.is_empty() => {
                let fp = fp.replace(':', "").to_ascii_lowercase();
                if fp.len() != 64 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("certificate_fingerprint", "not a SHA-256 in hex"));
                }
                Some(fp)
            }
            _ => None,
        };
        Ok(Self {
            certificate_pin,
            phone_label: s.get("phone_name").unwrap_or(&base.host).to_owned(),
            base,
            username: s.get("username").unwrap_or("sms").to_owned(),
            region,
            sim_number,
            webhook_listen,
            webhook_url: s
                .get("webhook_url")
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            own_number,
        })
    }

    /// How the account's own messages are attributed.
    pub fn own_address(&self) -> Address {
        own_address(&self.own_number)
    }
}
