//! TLS with verified certificates.
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
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the verifier saw when it refused a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// SHA-256 of the end-entity certificate, hex with colons.
    pub fingerprint: String,
    /// Why webpki refused it.
    pub reason: String,
}

/// A verifier that accepts what webpki accepts, or a certificate the user pinned.
#[derive(Debug)]
pub struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<String>,
    refusal: Mutex<Option<Refusal>>,
    used_pin: Mutex<bool>,
}

/// SHA-256 of DER bytes as upper-case hex with colons (`AB:CD:...`).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Verifier {
    /// The refusal of the last handshake, if the certificate was refused.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal.lock().ok().and_then(|r| r.clone())
    }

    /// Whether the last handshake was accepted because of a pin.
    pub fn used_pin(&self) -> bool {
        self.used_pin.lock().map(|p| *p).unwrap_or(false)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(ok) => Ok(ok),
            Err(e) => {
                let fp = fingerprint(end_entity.as_ref());
                if self.pins.iter().any(|p| p.eq_ignore_ascii_case(&fp)) {
                    if let Ok(mut used) = self.used_pin.lock() {
                        *used = true;
                    }
                    return Ok(ServerCertVerified::assertion());
                }
                if let Ok(mut r) = self.refusal.lock() {
                    *r = Some(Refusal {
                        fingerprint: fp,
                        reason: e.to_string(),
                    });
                }
                Err(e)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Reads the PEM certificates of `path` into `roots`.
fn add_pem_roots(roots: &mut RootCertStore, path: &Path) -> Result<usize, XmppError> {
    let bytes = std::fs::read(path)
        .map_err(|e| XmppError::Storage(format!("extra_ca_file {}: {e}", path.display())))?;
    let mut added = 0;
    for cert in rustls_pemfile::certs(&mut bytes.as_slice()) {
        let cert =
            cert.map_err(|e| XmppError::Storage(format!("extra_ca_file {}: {e}", path.display())))?;
        roots
            .add(cert)
            .map_err(|e| XmppError::Storage(format!("extra_ca_file {}: {e}", path.display())))?;
        added += 1;
    }
    if added == 0 {
        return Err(XmppError::Storage(format!(
            "extra_ca_file {} holds no certificate",
            path.display()
        )));
    }
    Ok(added)
}

/// Builds the client configuration and its verifier.
pub fn client_config(
    extra_ca_file: Option<&Path>,
    pins: Vec<String>,
) -> Result<(Arc<ClientConfig>, Arc<Verifier>), XmppError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = extra_ca_file {
        add_pem_roots(&mut roots, path)?;
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| XmppError::Storage(format!("no usable root certificate: {e}")))?;
    let verifier = Arc::new(Verifier {
        inner,
        pins,
        refusal: Mutex::new(None),
        used_pin: Mutex::new(false),
    });
    let config = ClientConfig::builder_with_provider(provider as Arc<CryptoProvider>)
        .with_safe_default_protocol_versions()
        .map_err(|e| XmppError::Protocol(e.to_string()))?
        // A custom verifier, not a disabled one: see the module docs.
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((Arc::new(config), verifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_hex() {
        let fp = fingerprint(b"abc");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("BA:78:16:BF"));
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("none.pem");
        assert!(client_config(Some(&missing), vec![]).is_err());
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").expect("write");
        assert!(client_config(Some(&empty), vec![]).is_err());
    }
}
