//! Verified TLS for Koine's plugins and the reference server.
//!
//! A server certificate is checked by webpki against the system's roots plus
//! the roots of an optional extra CA file (how tests trust their own CA, and
//! how a company CA is added). Nothing here turns verification off. The only
//! other way a certificate is accepted is a pin the user confirmed (through a
//! `PinCertificate` prompt): the SHA-256 of the exact end-entity certificate.
//! A pinned certificate still has to prove possession of its key in the
//! handshake; signatures are verified as usual.

#![deny(missing_docs)]
// Certificates and pins come from servers and files: no index, slice or
// arithmetic that can panic on their input.
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
// Tests index what they built themselves; a panic there is a failed test.
#![cfg_attr(
    test,
    allow(
        clippy::string_slice,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod verifier;

#[cfg(feature = "test-ca")]
pub mod test_ca;

pub use verifier::{Refusal, Verifier};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// TLS set-up failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read or holds nothing usable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("tls configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// SHA-256 of DER bytes as upper-case hex with colons (`AB:CD:...`), the
/// form shown to users and stored as a pin.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads every PEM certificate of a file; an empty file is an error.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "holds no certificate"));
    }
    Ok(certs)
}

/// Builds a client configuration and its verifier: system roots, plus the
/// certificates of `extra_ca_file`, plus `pins` (fingerprints as
/// [`fingerprint`] writes them). TLS 1.2 and 1.3.
pub fn client_config(
    extra_ca_file: Option<&Path>,
    pins: Vec<String>,
) -> Result<(Arc<ClientConfig>, Arc<Verifier>), TlsError> {
    build_client(extra_ca_file, pins, rustls::DEFAULT_VERSIONS)
}

/// Like [`client_config`] but TLS 1.3 only, for links whose route states
/// the version without seeing the handshake.
pub fn client_config_tls13(
    extra_ca_file: Option<&Path>,
    pins: Vec<String>,
) -> Result<(Arc<ClientConfig>, Arc<Verifier>), TlsError> {
    build_client(extra_ca_file, pins, &[&rustls::version::TLS13])
}

fn build_client(
    extra_ca_file: Option<&Path>,
    pins: Vec<String>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<(Arc<ClientConfig>, Arc<Verifier>), TlsError> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = extra_ca_file {
        for cert in read_certs(path)? {
            roots.add(cert).map_err(|e| file_error(path, e))?;
        }
    }
    let verifier = Arc::new(Verifier::new(roots, provider.clone(), pins)?);
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Config(e.to_string()))?
        // A custom verifier that verifies, not a disabled one: see above.
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((Arc::new(config), verifier))
}

/// A server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(cert_file)?;
    let bytes = std::fs::read(key_file).map_err(|e| file_error(key_file, e))?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| file_error(key_file, e))?
        .ok_or_else(|| file_error(key_file, "holds no private key"))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests;
