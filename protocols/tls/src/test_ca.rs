//! A throwaway certificate authority for tests: a CA and a server
//! certificate for `localhost`, `127.0.0.1` and `::1`, written as PEM files.
//! Only built with the `test-ca` feature.

use crate::TlsError;
use std::path::{Path, PathBuf};

/// PEM files of a test CA and one server certificate it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate (what a client trusts as its extra CA file).
    pub ca_file: PathBuf,
    /// The server's certificate.
    pub cert_file: PathBuf,
    /// The server's private key.
    pub key_file: PathBuf,
}

fn err(e: impl ToString) -> TlsError {
    TlsError::Config(e.to_string())
}

impl TestCa {
    /// Creates the CA and the loopback server certificate in `dir`.
    pub fn create(dir: &Path) -> Result<Self, TlsError> {
        Self::create_for(dir, &["localhost", "127.0.0.1", "::1"])
    }

    /// Creates the CA and a server certificate for `names` in `dir`.
    pub fn create_for(dir: &Path, names: &[&str]) -> Result<Self, TlsError> {
        let ca_key = rcgen::KeyPair::generate().map_err(err)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Koine test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(err)?;
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = rcgen::CertificateParams::new(names).map_err(err)?;
        let cert = params.signed_by(&key, &ca).map_err(err)?;
        let out = Self {
            ca_file: dir.join("test-ca.pem"),
            cert_file: dir.join("server-cert.pem"),
            key_file: dir.join("server-key.pem"),
        };
        let write = |path: &Path, text: String| {
            std::fs::write(path, text).map_err(|e| TlsError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        write(&out.ca_file, ca.pem())?;
        write(&out.cert_file, cert.pem())?;
        write(&out.key_file, key.serialize_pem())?;
        Ok(out)
    }
}
