//! Certificates, pinning and TLS configuration of the KDE Connect link.
//!
//! Each device has a self-signed certificate whose common name is its device
//! id. Certificates are never validated as a CA chain (KDE's own are
//! SHA-1-signed and carry a malformed `BasicConstraints`): before pairing any
//! certificate is accepted *for the pairing exchange only*, and the user
//! compares the verification key derived from both certificates; after
//! pairing, the SHA-256 of the peer's DER is pinned and any other certificate
//! fails the handshake. TLS 1.3, and TLS 1.2 (ECDHE with AEAD suites only)
//! because the KDE Connect Android app builds its context as TLS 1.2.
//!
//! Role inversion: whoever opened the TCP connection is the TLS **server**.

use crate::error::LinkError;
use koine_api::TlsVersion;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// This device's identity: device id, certificate and private key.
#[derive(Clone, Serialize, Deserialize)]
pub struct LocalIdentity {
    /// The device id (the certificate's common name).
    pub device_id: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM. Kept in the keyring only.
    pub key_pem: String,
}

impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl LocalIdentity {
    /// Makes a new key pair and a self-signed certificate for `device_id`.
    pub fn generate(device_id: &str) -> Result<Self, LinkError> {
        let key = rcgen::KeyPair::generate().map_err(|e| LinkError::Identity(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| LinkError::Identity(e.to_string()))?;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, device_id);
        dn.push(rcgen::DnType::OrganizationName, "KDE");
        dn.push(rcgen::DnType::OrganizationalUnitName, "Kde connect");
        params.distinguished_name = dn;
        let now = std::time::SystemTime::now();
        const YEAR: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);
        params.not_before = now.checked_sub(YEAR).unwrap_or(now).into();
        params.not_after = now
            .checked_add(YEAR.saturating_mul(10))
            .unwrap_or(now)
            .into();
        let cert = params
            .self_signed(&key)
            .map_err(|e| LinkError::Identity(e.to_string()))?;
        Ok(Self {
            device_id: device_id.to_owned(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The certificate's DER.
    pub fn cert_der(&self) -> Result<CertificateDer<'static>, LinkError> {
        pem_block(&self.cert_pem, "CERTIFICATE").map(CertificateDer::from)
    }

    fn key_der(&self) -> Result<PrivateKeyDer<'static>, LinkError> {
        pem_block(&self.key_pem, "PRIVATE KEY")
            .map(|der| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)))
    }

    /// SHA-256 of the certificate, hex.
    pub fn fingerprint(&self) -> Result<String, LinkError> {
        Ok(fingerprint(&self.cert_der()?))
    }
}

fn pem_block(pem: &str, label: &str) -> Result<Vec<u8>, LinkError> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let (_, rest) = pem
        .split_once(&begin)
        .ok_or_else(|| LinkError::Identity(format!("no {label} block")))?;
    let (block, _) = rest
        .split_once(&end)
        .ok_or_else(|| LinkError::Identity(format!("unterminated {label} block")))?;
    let b64: String = block.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| LinkError::Identity(e.to_string()))
}

/// SHA-256 of a certificate's DER, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The fingerprint with colons, as shown to people.
pub fn fingerprint_for_display(hex_fp: &str) -> String {
    hex_fp
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// One DER element at the start of `input`: its tag, its content, the whole
/// element, and what follows it. Only single-byte tags and definite lengths
/// (DER allows nothing else in a certificate's outer structure).
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
    rest: &'a [u8],
}

fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, after_len) = after_tag.split_first()?;
    let (len, len_bytes) = if first < 0x80 {
        (usize::from(first), 0usize)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for &b in after_len.get(..n)? {
            len = len.checked_mul(256)?.checked_add(usize::from(b))?;
        }
        (len, n)
    };
    let header = len_bytes.checked_add(2)?;
    let total = header.checked_add(len)?;
    Some(Tlv {
        tag,
        content: input.get(header..total)?,
        whole: input.get(..total)?,
        rest: input.get(total..)?,
    })
}

/// The SubjectPublicKeyInfo of a certificate, DER, as it appears in the
/// certificate: the seventh field of `tbsCertificate` (after the optional
/// version, the serial number, the signature algorithm, the issuer, the
/// validity and the subject). Read by hand so that KDE's certificates, which
/// strict X.509 parsers refuse, still give their key.
pub fn public_key_info(cert_der: &[u8]) -> Result<&[u8], LinkError> {
    let bad = || LinkError::Identity("the certificate is not DER X.509".into());
    let mut fields = after_subject(cert_der).ok_or_else(bad)?;
    take(&mut fields, 0x30).ok_or_else(bad) // subjectPublicKeyInfo
}

/// The fields of `tbsCertificate` from the subject on (the subject is the
/// next element).
fn from_subject(cert_der: &[u8]) -> Option<&[u8]> {
    let cert = tlv(cert_der).filter(|t| t.tag == 0x30)?;
    let tbs = tlv(cert.content).filter(|t| t.tag == 0x30)?;
    let mut fields = tbs.content;
    if fields.first() == Some(&0xa0) {
        take(&mut fields, 0xa0)?; // version
    }
    // serialNumber, signature, issuer, validity
    for tag in [0x02, 0x30, 0x30, 0x30] {
        take(&mut fields, tag)?;
    }
    Some(fields)
}

fn after_subject(cert_der: &[u8]) -> Option<&[u8]> {
    let mut fields = from_subject(cert_der)?;
    take(&mut fields, 0x30)?;
    Some(fields)
}

/// The common name of a certificate's subject (KDE Connect's device id),
/// when it has one as a UTF-8, printable or IA5 string.
pub fn common_name(cert_der: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    let subject = tlv(from_subject(cert_der)?).filter(|t| t.tag == 0x30)?;
    let mut sets = subject.content;
    let mut found = None;
    while !sets.is_empty() {
        let set = tlv(sets).filter(|t| t.tag == 0x31)?;
        sets = set.rest;
        let mut attributes = set.content;
        while !attributes.is_empty() {
            let attribute = tlv(attributes).filter(|t| t.tag == 0x30)?;
            attributes = attribute.rest;
            let oid = tlv(attribute.content).filter(|t| t.tag == 0x06)?;
            let value = tlv(oid.rest)?;
            if oid.content == CN && matches!(value.tag, 0x0c | 0x13 | 0x16) {
                found = std::str::from_utf8(value.content).ok().map(str::to_owned);
            }
        }
    }
    found
}

/// Takes the element at the start of `fields` if it has `tag`.
fn take<'a>(fields: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    let t = tlv(fields).filter(|t| t.tag == tag)?;
    *fields = t.rest;
    Some(t.whole)
}

/// The verification key both screens show while pairing, as KDE Connect
/// computes it: SHA-256 over the two certificates' public keys
/// (SubjectPublicKeyInfo DER, the greater byte string first) and, from
/// protocol 8 on, the pairing request's timestamp in decimal; the first 8 hex
/// digits, uppercase. Protocol 7 has no timestamp (`None`). Both sides
/// compute the same key only when each sees the other's real certificate,
/// so a machine in the middle shows up as two different keys.
pub fn verification_key(a: &[u8], b: &[u8], timestamp: Option<i64>) -> Result<String, LinkError> {
    let (a, b) = (public_key_info(a)?, public_key_info(b)?);
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    let mut h = Sha256::new();
    h.update(hi);
    h.update(lo);
    if let Some(timestamp) = timestamp {
        h.update(timestamp.to_string().as_bytes());
    }
    let mut key = hex::encode_upper(h.finalize());
    key.truncate(8);
    Ok(key)
}

/// TLS 1.3, and TLS 1.2 for the KDE Connect Android app, which builds its
/// context as TLS 1.2.
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// ring's suites, keeping for TLS 1.2 only ECDHE key exchange with an AEAD
/// cipher (which is all rustls implements; the filter keeps it so).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites.retain(|s| match s {
        rustls::SupportedCipherSuite::Tls13(_) => true,
        rustls::SupportedCipherSuite::Tls12(_) => {
            matches!(
                s.suite(),
                rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                    | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                    | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                    | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                    | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                    | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            )
        }
    });
    Arc::new(p)
}

/// Accepts the peer's certificate if it matches the pin, or any certificate
/// while no pin exists (the pairing stage, where the verification key is
/// the check). Handshake signatures are always verified.
#[derive(Debug)]
pub struct PinVerifier {
    pin: Option<String>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinVerifier {
    /// A verifier for `pin` (hex SHA-256), or for the pairing stage.
    pub fn new(pin: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            pin,
            algorithms: provider().signature_verification_algorithms,
        })
    }

    fn check(&self, der: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        match &self.pin {
            Some(pin) if *pin != fingerprint(der) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            _ => Ok(()),
        }
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PinVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// TLS server configuration (for the side that opened TCP), requiring the
/// peer's certificate and checking it against `pin`.
pub fn server_config(
    me: &LocalIdentity,
    pin: Option<String>,
) -> Result<Arc<rustls::ServerConfig>, LinkError> {
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| LinkError::Tls(e.to_string()))?
        .with_client_cert_verifier(PinVerifier::new(pin))
        .with_single_cert(vec![me.cert_der()?], me.key_der()?)
        .map_err(|e| LinkError::Tls(e.to_string()))?;
    Ok(Arc::new(cfg))
}

/// TLS server configuration that asks for no client certificate (the
/// simulated SMSGate app's HTTPS mode).
pub fn server_config_without_client_auth(
    me: &LocalIdentity,
) -> Result<Arc<rustls::ServerConfig>, LinkError> {
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| LinkError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![me.cert_der()?], me.key_der()?)
        .map_err(|e| LinkError::Tls(e.to_string()))?;
    Ok(Arc::new(cfg))
}

/// TLS client configuration (for the side that accepted TCP).
pub fn client_config(
    me: &LocalIdentity,
    pin: Option<String>,
) -> Result<Arc<rustls::ClientConfig>, LinkError> {
    client_config_for(me, pin, VERSIONS)
}

/// Only TLS 1.2, as the KDE Connect Android app offers (for the simulated
/// phone).
pub const TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// TLS client configuration offering only `versions`.
pub fn client_config_for(
    me: &LocalIdentity,
    pin: Option<String>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<rustls::ClientConfig>, LinkError> {
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| LinkError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(PinVerifier::new(pin))
        .with_client_auth_cert(vec![me.cert_der()?], me.key_der()?)
        .map_err(|e| LinkError::Tls(e.to_string()))?;
    Ok(Arc::new(cfg))
}

/// The version a finished handshake negotiated.
pub fn negotiated(version: Option<rustls::ProtocolVersion>) -> Result<TlsVersion, LinkError> {
    match version {
        Some(rustls::ProtocolVersion::TLSv1_3) => Ok(TlsVersion::Tls13),
        Some(rustls::ProtocolVersion::TLSv1_2) => Ok(TlsVersion::Tls12),
        other => Err(LinkError::Tls(format!("unexpected TLS version {other:?}"))),
    }
}

/// The name sent in SNI; certificates are pinned, not matched by name.
pub fn server_name() -> ServerName<'static> {
    ServerName::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two certificates and the keys the KDE Connect Android app's own unit
    /// tests expect for them (published test vectors, data only).
    const VECTOR_CERT_A: &[&str] = &[
        "MIIBkzCCATmgAwIBAgIBATAKBggqhkjOPQQDBDBTMS0wKwYDVQQDDCRlZTA2MWE3NV9lNDAzXzRl",
        "Y2NfOTI2MV81ZmZlMjcyMmY2OTgxFDASBgNVBAsMC0tERSBDb25uZWN0MQwwCgYDVQQKDANLREUw",
        "HhcNMjMwOTE1MjIwMDAwWhcNMzQwOTE1MjIwMDAwWjBTMS0wKwYDVQQDDCRlZTA2MWE3NV9lNDAz",
        "XzRlY2NfOTI2MV81ZmZlMjcyMmY2OTgxFDASBgNVBAsMC0tERSBDb25uZWN0MQwwCgYDVQQKDANL",
        "REUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASqOIKTm5j6x8DKgYSkItLmjCgIXP0gkOW6bmVv",
        "loDGsYnvqYLMFGe7YW8g8lT/qPBTEfDOM4UpQ8X6jidE+XrnMAoGCCqGSM49BAMEA0gAMEUCIEpk",
        "6VNpbt3tfbWDf0TmoJftRq3wAs3Dke7d5vMZlivyAiEA/ZXtSRqPjs/2RN9SynKhSUA9/z0PNq6L",
        "YoAaC6TdomM=",
    ];
    const VECTOR_CERT_B: &[&str] = &[
        "MIIBkzCCATmgAwIBAgIBATAKBggqhkjOPQQDBDBTMS0wKwYDVQQDDCQxNTdiYmMyOF82ZjJiXzRi",
        "MTZfYmQwMl8xMzM0NWMwMjU0M2MxFDASBgNVBAsMC0tERSBDb25uZWN0MQwwCgYDVQQKDANLREUw",
        "HhcNMjQwMTE3MjMwMDAwWhcNMzUwMTE3MjMwMDAwWjBTMS0wKwYDVQQDDCQxNTdiYmMyOF82ZjJi",
        "XzRiMTZfYmQwMl8xMzM0NWMwMjU0M2MxFDASBgNVBAsMC0tERSBDb25uZWN0MQwwCgYDVQQKDANL",
        "REUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ5W53rrDJps9v/sszQf0eLtvoGiRbfsY+snO6I",
        "JJfi1pFeHDQj2nAE+aTyUYelrcx1eIuqxFHnJTFt/HqXwuAvMAoGCCqGSM49BAMEA0gAMEUCIBIk",
        "3zKPz/M0c82nvCGFDXGGmfdojHsx3G5DbYNNKqFVAiEAzhBGe960/4NDiaVcOplBaeg5xNJKs3Kq",
        "+22J6JOii4Y=",
    ];

    fn vector_der(lines: &[&str]) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(lines.concat())
            .expect("vector base64")
    }

    #[test]
    fn verification_key_matches_the_android_app_vectors() {
        let a = vector_der(VECTOR_CERT_A);
        let b = vector_der(VECTOR_CERT_B);
        // Protocol 8: the pairing request's timestamp is part of the key.
        assert_eq!(
            verification_key(&a, &b, Some(1_737_228_658)).expect("key"),
            "54DC916E"
        );
        assert_eq!(
            verification_key(&b, &a, Some(1_737_228_658)).expect("key"),
            "54DC916E"
        );
        assert_eq!(
            verification_key(&a, &b, Some(2_737_228_658)).expect("key"),
            "8C07153A"
        );
        // Protocol 7: no timestamp.
        assert_eq!(verification_key(&a, &b, None).expect("key"), "F3900DB5");
        assert_eq!(verification_key(&b, &a, None).expect("key"), "F3900DB5");
        assert_eq!(verification_key(&a, &a, None).expect("key"), "97A75917");
    }

    #[test]
    fn verification_key_is_symmetric_and_depends_on_time() {
        let a = LocalIdentity::generate("a").expect("a");
        let b = LocalIdentity::generate("b").expect("b");
        let (da, db) = (a.cert_der().expect("der"), b.cert_der().expect("der"));
        let k1 = verification_key(&da, &db, Some(100)).expect("key");
        assert_eq!(k1, verification_key(&db, &da, Some(100)).expect("key"));
        assert_eq!(k1.len(), 8);
        assert_ne!(k1, verification_key(&da, &db, Some(101)).expect("key"));
        assert_ne!(k1, verification_key(&da, &db, None).expect("key"));
        assert!(verification_key(b"not a certificate", &db, None).is_err());
    }

    #[test]
    fn the_common_name_is_the_device_id() {
        let a = LocalIdentity::generate("koine_desk_1").expect("a");
        let der = a.cert_der().expect("der");
        assert_eq!(common_name(&der).as_deref(), Some("koine_desk_1"));
        assert_eq!(
            common_name(&vector_der(VECTOR_CERT_A)).as_deref(),
            Some("ee061a75_e403_4ecc_9261_5ffe2722f698")
        );
        assert_eq!(common_name(b"junk"), None);
    }

    #[test]
    fn pem_round_trip_and_fingerprint() {
        let a = LocalIdentity::generate("dev_1").expect("a");
        let fp = a.fingerprint().expect("fp");
        assert_eq!(fp.len(), 64);
        assert_eq!(fingerprint_for_display("abcd"), "AB:CD");
        let json = serde_json::to_string(&a).expect("json");
        let back: LocalIdentity = serde_json::from_str(&json).expect("back");
        assert_eq!(back.fingerprint().expect("fp"), fp);
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }
}

#[cfg(test)]
mod tls12_tests {
    use super::*;
    use rustls::{CipherSuite, ProtocolVersion};

    /// A peer like the KDE Connect Android app: TLS 1.2 only.
    fn tls12_only_client(id: &LocalIdentity) -> Arc<rustls::ClientConfig> {
        let cfg = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(PinVerifier::new(None))
            .with_client_auth_cert(
                vec![id.cert_der().expect("der")],
                id.key_der().expect("key"),
            )
            .expect("client");
        Arc::new(cfg)
    }

    fn tls12_only_server(id: &LocalIdentity) -> Arc<rustls::ServerConfig> {
        let cfg = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("versions")
            .with_client_cert_verifier(PinVerifier::new(None))
            .with_single_cert(
                vec![id.cert_der().expect("der")],
                id.key_der().expect("key"),
            )
            .expect("server");
        Arc::new(cfg)
    }

    fn aead_ecdhe(suite: CipherSuite) -> bool {
        matches!(
            suite,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    }

    #[tokio::test]
    async fn a_tls12_only_phone_connects_to_koine_as_server() {
        let koine = LocalIdentity::generate("koine_desk").expect("id");
        let phone = LocalIdentity::generate("phone").expect("id");
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&koine, None).expect("cfg"));
        let connector = tokio_rustls::TlsConnector::from(tls12_only_client(&phone));
        let (server, client) =
            tokio::join!(acceptor.accept(a), connector.connect(server_name(), b));
        let (server, client) = (server.expect("koine side"), client.expect("phone side"));
        let conn = server.get_ref().1;
        assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_2));
        let suite = conn.negotiated_cipher_suite().expect("suite").suite();
        assert!(aead_ecdhe(suite), "{suite:?}");
        assert_eq!(
            client.get_ref().1.protocol_version(),
            Some(ProtocolVersion::TLSv1_2)
        );
    }

    #[tokio::test]
    async fn koine_as_client_connects_to_a_tls12_only_phone() {
        let koine = LocalIdentity::generate("koine_desk").expect("id");
        let phone = LocalIdentity::generate("phone").expect("id");
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls12_only_server(&phone));
        let connector = tokio_rustls::TlsConnector::from(client_config(&koine, None).expect("cfg"));
        let (server, client) =
            tokio::join!(acceptor.accept(a), connector.connect(server_name(), b));
        let (_server, client) = (server.expect("phone side"), client.expect("koine side"));
        let conn = client.get_ref().1;
        assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_2));
        let suite = conn.negotiated_cipher_suite().expect("suite").suite();
        assert!(aead_ecdhe(suite), "{suite:?}");
    }

    #[tokio::test]
    async fn a_pinned_tls12_link_still_refuses_another_certificate() {
        let koine = LocalIdentity::generate("koine_desk").expect("id");
        let phone = LocalIdentity::generate("phone").expect("id");
        let other = LocalIdentity::generate("phone").expect("id");
        let pin = Some(phone.fingerprint().expect("fp"));
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&koine, pin).expect("cfg"));
        let connector = tokio_rustls::TlsConnector::from(tls12_only_client(&other));
        let (server, _client) =
            tokio::join!(acceptor.accept(a), connector.connect(server_name(), b));
        assert!(server.is_err(), "an unpinned certificate must fail");
    }
}
