//! Opening an authenticated stream: TCP (SRV or the host override), STARTTLS
//! or direct TLS with [`crate::tls`], then SASL with SCRAM only.
//!
//! tokio-xmpp's own connectors fix the root store and do not report the
//! negotiated TLS version, so this module does the TLS part itself and reuses
//! tokio-xmpp's XML stream and SASL code for the rest.

use crate::config::{Config, TlsMode};
use crate::error::XmppError;
use crate::tls::Verifier;
use futures::{SinkExt, StreamExt};
use koine_api::TlsVersion;
use rustls::ClientConfig;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::starttls;
use tokio_xmpp::parsers::stream_features::StreamFeatures;
use tokio_xmpp::xmlstream::{
    ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
};

/// The stream type of a connected session.
pub type Stream = XmppStream<BufStream<TlsStream<TcpStream>>>;

/// An authenticated stream, before resource binding.
pub struct Authenticated {
    /// The stream.
    pub stream: Stream,
    /// The features offered after authentication.
    pub features: StreamFeatures,
    /// The TLS version negotiated.
    pub tls: TlsVersion,
    /// Whether the certificate was accepted through a user pin.
    pub pinned: bool,
}

fn dns(cfg: &Config) -> DnsConfig {
    let domain = cfg.domain();
    match (&cfg.host, cfg.tls) {
        (Some(host), TlsMode::StartTls) => DnsConfig::no_srv(host, cfg.port.unwrap_or(5222)),
        (Some(host), TlsMode::Direct) => DnsConfig::no_srv(host, cfg.port.unwrap_or(5223)),
        (None, TlsMode::StartTls) => DnsConfig::srv_default_client(&domain),
        (None, TlsMode::Direct) => DnsConfig::srv_xmpps(&domain),
    }
}

fn header(domain: &str) -> StreamHeader<'_> {
    StreamHeader {
        to: Some(Cow::Borrowed(domain)),
        from: None,
        id: None,
    }
}

async fn tls_handshake(
    tcp: TcpStream,
    domain: &str,
    tls: Arc<ClientConfig>,
    verifier: &Verifier,
) -> Result<(TlsStream<TcpStream>, TlsVersion), XmppError> {
    let name = rustls::pki_types::ServerName::try_from(domain.to_owned())
        .map_err(|e| XmppError::Protocol(format!("domain {domain}: {e}")))?;
    let stream = TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| match verifier.refusal() {
            Some(r) => XmppError::Untrusted {
                host: domain.to_owned(),
                reason: r.reason,
                fingerprint: Some(r.fingerprint),
            },
            None => XmppError::Network(format!("TLS: {e}")),
        })?;
    let version = match stream.get_ref().1.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => TlsVersion::Tls13,
        Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
        other => {
            return Err(XmppError::Protocol(format!(
                "unexpected TLS version {other:?}"
            )));
        }
    };
    Ok((stream, version))
}

fn channel_binding(stream: &TlsStream<TcpStream>, version: TlsVersion) -> Option<Vec<u8>> {
    if version != TlsVersion::Tls13 {
        return None;
    }
    stream
        .get_ref()
        .1
        .export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
        .ok()
}

async fn next_element(
    stream: &mut XmppStream<BufStream<TcpStream>>,
) -> Result<XmppStreamElement, XmppError> {
    loop {
        match stream.next().await {
            Some(Ok(el)) => match el.into_read_error() {
                Ok(el) => return Ok(el),
                Err(e) => return Err(XmppError::Protocol(format!("{e:?}"))),
            },
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(e.into()),
            Some(Err(ReadError::ParseError(e))) => return Err(XmppError::Protocol(e.to_string())),
            Some(Err(ReadError::StreamFooterReceived)) | None => {
                return Err(XmppError::Network("closed during STARTTLS".into()));
            }
        }
    }
}

/// Connects, secures and authenticates.
pub async fn authenticate(
    cfg: &Config,
    password: &str,
    tls: Arc<ClientConfig>,
    verifier: &Verifier,
    timeouts: Timeouts,
) -> Result<Authenticated, XmppError> {
    let domain = cfg.domain();
    let tcp = dns(cfg).resolve().await?;
    let _ = tcp.set_nodelay(true);
    let (tls_stream, version) = match cfg.tls {
        TlsMode::Direct => tls_handshake(tcp, &domain, tls, verifier).await?,
        TlsMode::StartTls => {
            let plain = initiate_stream(
                BufStream::new(tcp),
                ns::JABBER_CLIENT,
                header(&domain),
                timeouts,
            )
            .await?;
            let (features, mut plain): (StreamFeatures, XmppStream<BufStream<TcpStream>>) =
                plain.recv_features().await?;
            if !features.can_starttls() {
                return Err(XmppError::NoTls);
            }
            plain
                .send(&XmppStreamElement::Starttls(starttls::Nonza::Request(
                    starttls::Request,
                )))
                .await?;
            loop {
                match next_element(&mut plain).await? {
                    XmppStreamElement::Starttls(starttls::Nonza::Proceed(_)) => break,
                    XmppStreamElement::Starttls(_) => return Err(XmppError::NoTls),
                    _ => continue,
                }
            }
            let tcp = plain.into_inner().into_inner();
            tls_handshake(tcp, &domain, tls, verifier).await?
        }
    };
    let pinned = verifier.used_pin();
    let cb = channel_binding(&tls_stream, version);
    let secured = initiate_stream(
        BufStream::new(tls_stream),
        ns::JABBER_CLIENT,
        header(&domain),
        timeouts,
    )
    .await?;
    let (features, secured): (StreamFeatures, Stream) = secured.recv_features().await?;

    // SCRAM only: PLAIN would hand the password to the server.
    let offered = &features.sasl_mechanisms;
    let plus = offered
        .iter()
        .any(|m| m.starts_with("SCRAM-") && m.ends_with("-PLUS"));
    let binding = match (plus, cb) {
        (true, Some(data)) => sasl::common::ChannelBinding::TlsExporter(data),
        (false, Some(_)) => sasl::common::ChannelBinding::Unsupported,
        (_, None) => sasl::common::ChannelBinding::None,
    };
    let scram: BTreeSet<String> = offered
        .iter()
        .filter(|m| m.starts_with("SCRAM-"))
        .cloned()
        .collect();
    if scram.is_empty() {
        return Err(XmppError::NoScram(
            offered.iter().cloned().collect::<Vec<_>>().join(" "),
        ));
    }
    let node = cfg
        .jid
        .node()
        .map(|n| n.to_string())
        .ok_or_else(|| XmppError::Protocol("JID without user part".into()))?;
    let creds = sasl::common::Credentials::default()
        .with_username(node)
        .with_password(password)
        .with_channel_binding(binding);
    let authed = tokio_xmpp::client_login(secured, scram, creds).await?;
    let authed = authed.send_header(header(&domain)).await?;
    let (features, stream): (StreamFeatures, Stream) = authed.recv_features().await?;
    Ok(Authenticated {
        stream,
        features,
        tls: version,
        pinned,
    })
}
