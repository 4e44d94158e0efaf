//! Account settings of an XMPP account.
//!
//! | key | meaning |
//! |---|---|
//! | `jid` | the account, `user@domain` (required) |
//! | `server_host` | connect here instead of the domain's SRV records |
//! | `server_port` | port for `server_host` (5222 for STARTTLS, 5223 for direct TLS) |
//! | `tls` | `starttls` (default) or `direct` (XEP-0368 direct TLS) |
//! | `extra_ca_file` | a PEM file of extra root certificates to trust besides the system's |
//! | `resource` | the resource to ask for (the server picks one otherwise) |
//! | `send_receipts` | `true` (default) or `false`: answer XEP-0184 receipt requests |
//! | `omemo` | `true` (default): encrypt 1:1 messages with OMEMO when the contact has OMEMO devices; `false`: send plaintext (received OMEMO messages are still opened) |
//!
//! The domain of the JID is always what SASL and the certificate check use,
//! even when `server_host` points elsewhere (an IP address, a tunnel).

use koine_api::{Settings, SettingsError};
use std::path::PathBuf;
use tokio_xmpp::jid::BareJid;

/// How TLS starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP, then `<starttls/>`.
    StartTls,
    /// TLS from the first byte (XEP-0368).
    Direct,
}

/// Parsed settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The account's bare JID.
    pub jid: BareJid,
    /// Host override.
    pub host: Option<String>,
    /// Port override.
    pub port: Option<u16>,
    /// TLS mode.
    pub tls: TlsMode,
    /// Extra trusted roots.
    pub extra_ca_file: Option<PathBuf>,
    /// Requested resource.
    pub resource: Option<String>,
    /// Answer receipt requests.
    pub send_receipts: bool,
    /// Encrypt 1:1 messages with OMEMO when the contact has devices.
    pub omemo: bool,
}

fn invalid(key: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

impl Config {
    /// Reads and checks the settings.
    pub fn from_settings(s: &Settings) -> Result<Self, SettingsError> {
        let jid_text = s.require("jid")?;
        let jid = BareJid::new(jid_text).map_err(|e| invalid("jid", e.to_string()))?;
        if jid.node().is_none() {
            return Err(invalid("jid", "needs a user part (user@domain)"));
        }
        let host = s
            .get("server_host")
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        let port = match s.get("server_port").filter(|p| !p.is_empty()) {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|e| invalid("server_port", e.to_string()))?,
            ),
            None => None,
        };
        let tls = match s.get("tls").unwrap_or("starttls") {
            "" | "starttls" => TlsMode::StartTls,
            "direct" => TlsMode::Direct,
            other => return Err(invalid("tls", format!("unknown mode {other}"))),
        };
        let extra_ca_file = s
            .get("extra_ca_file")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let resource = s
            .get("resource")
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let send_receipts = s.get("send_receipts") != Some("false");
        let omemo = s.get("omemo") != Some("false");
        Ok(Self {
            jid,
            host,
            port,
            tls,
            extra_ca_file,
            resource,
            send_receipts,
            omemo,
        })
    }

    /// The domain used for SASL and certificate checks.
    pub fn domain(&self) -> String {
        self.jid.domain().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides_and_rejects_bad_values() {
        let mut s = Settings::default();
        assert!(Config::from_settings(&s).is_err());
        s.set("jid", "Alice@Example.org");
        let c = Config::from_settings(&s).expect("valid");
        assert_eq!(c.tls, TlsMode::StartTls);
        assert_eq!(c.host, None);
        s.set("server_host", "127.0.0.1");
        s.set("server_port", "15222");
        s.set("tls", "direct");
        let c = Config::from_settings(&s).expect("valid");
        assert_eq!(c.port, Some(15222));
        assert_eq!(c.tls, TlsMode::Direct);
        s.set("server_port", "99999");
        assert!(Config::from_settings(&s).is_err());
        s.set("server_port", "5223");
        s.set("tls", "none");
        assert!(Config::from_settings(&s).is_err());
        s.set("tls", "starttls");
        s.set("jid", "example.org");
        assert!(Config::from_settings(&s).is_err());
    }
}
