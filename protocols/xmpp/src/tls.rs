//! TLS with verified certificates, through the shared `koine-tls` crate.
//!
//! The server certificate is checked by webpki against the system's roots plus
//! the roots in the account's `extra_ca_file` (how tests trust their own CA,
//! and how a company CA is added). There is no switch that turns verification
//! off. The only other way a certificate is accepted is a pin the user
//! confirmed through a [`koine_api::PromptKind::PinCertificate`] prompt: the
//! SHA-256 of the exact end-entity certificate, stored in the plugin's data
//! directory. A pinned certificate still has to prove possession of its key in
//! the handshake (signatures are verified as usual).

use crate::error::XmppError;
use rustls::ClientConfig;
use std::path::Path;
use std::sync::Arc;

pub use koine_tls::{Refusal, Verifier, fingerprint};

/// Builds the client configuration and its verifier.
pub fn client_config(
    extra_ca_file: Option<&Path>,
    pins: Vec<String>,
) -> Result<(Arc<ClientConfig>, Arc<Verifier>), XmppError> {
    koine_tls::client_config(extra_ca_file, pins).map_err(|e| match e {
        koine_tls::TlsError::File { path, reason } => {
            XmppError::Storage(format!("extra_ca_file {path}: {reason}"))
        }
        other => XmppError::Protocol(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("none.pem");
        assert!(matches!(
            client_config(Some(&missing), vec![]),
            Err(XmppError::Storage(_))
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").expect("write");
        assert!(client_config(Some(&empty), vec![]).is_err());
    }
}
