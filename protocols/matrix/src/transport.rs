//! The security of the client's link to its homeserver, as really used.
//!
//! The SDK's HTTP stack (reqwest with rustls) does not tell which TLS version
//! it negotiated, so the plugin opens one TLS connection of its own to the
//! same host and port, with the same kind of verifier (the platform's trust
//! store, rustls), and reports the version that handshake got. A plain
//! `http://` homeserver (accepted only on loopback) is reported as
//! [`TransportSecurity::Plaintext`], which is what it is.

use crate::error::MatrixError;
use koine_api::{TlsVersion, TransportSecurity};
use rustls::pki_types::ServerName;
use rustls_platform_verifier::BuilderVerifierExt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// How the link to `homeserver` is protected.
pub async fn link_security(homeserver: &Url) -> Result<TransportSecurity, MatrixError> {
    match homeserver.scheme() {
        "http" => Ok(TransportSecurity::Plaintext),
        "https" => probe_tls(homeserver).await,
        other => Err(MatrixError::Malformed {
            what: "homeserver url",
            detail: format!("unsupported scheme {other}"),
        }),
    }
}

async fn probe_tls(homeserver: &Url) -> Result<TransportSecurity, MatrixError> {
    let host = homeserver
        .host_str()
        .ok_or_else(|| MatrixError::Malformed {
            what: "homeserver url",
            detail: "no host".into(),
        })?;
    let port = homeserver.port_or_known_default().unwrap_or(443);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MatrixError::Tls(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| MatrixError::Tls(e.to_string()))?
        .with_no_client_auth();
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned()).map_err(|e| {
        MatrixError::Malformed {
            what: "homeserver host",
            detail: e.to_string(),
        }
    })?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| MatrixError::Network(e.to_string()))?;
        connector.connect(name, tcp).await.map_err(|e| {
            if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                MatrixError::Tls(e.to_string())
            } else {
                MatrixError::Network(e.to_string())
            }
        })
    };
    let stream = tokio::time::timeout(PROBE_TIMEOUT, handshake)
        .await
        .map_err(|_| MatrixError::Network("TLS probe timed out".into()))??;
    let version = match stream.get_ref().1.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => TlsVersion::Tls13,
        Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
        other => {
            return Err(MatrixError::Tls(format!(
                "unexpected TLS version {other:?}"
            )));
        }
    };
    Ok(TransportSecurity::Tls {
        version,
        pinned: false,
    })
}
