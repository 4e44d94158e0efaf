//! The certificate verifier: webpki, or a pin the user confirmed.

use crate::{TlsError, fingerprint};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, Mutex};

/// What the verifier saw when it refused a certificate: enough to ask the
/// user whether to pin it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// SHA-256 of the end-entity certificate (see [`fingerprint`]).
    pub fingerprint: String,
    /// Why webpki refused it.
    pub reason: String,
}

/// Accepts what webpki accepts, or a certificate the user pinned.
#[derive(Debug)]
pub struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<String>,
    refusal: Mutex<Option<Refusal>>,
    used_pin: Mutex<bool>,
}

impl Verifier {
    pub(crate) fn new(
        roots: RootCertStore,
        provider: Arc<CryptoProvider>,
        pins: Vec<String>,
    ) -> Result<Self, TlsError> {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Config(format!("no usable root certificate: {e}")))?;
        Ok(Self {
            inner,
            pins,
            refusal: Mutex::new(None),
            used_pin: Mutex::new(false),
        })
    }

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
