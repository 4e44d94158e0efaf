//! The HTTP client of the plugin and of the server's media proxy: one
//! request per connection, over verified TLS 1.3 for `https://` URLs (system
//! roots plus an optional extra CA file; no switch turns verification off)
//! and in the clear only to loopback `http://` URLs.

use super::http::{HttpError, Response, Url, parse_headers, read_body, read_head};
use std::path::Path;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// An HTTP client with its TLS trust.
#[derive(Clone)]
pub struct Client {
    tls: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("http_client::Client")
    }
}

impl Client {
    /// Trusts the system's roots and, if given, the CA certificates of
    /// `extra_ca_file` (PEM).
    pub fn new(extra_ca_file: Option<&Path>) -> Result<Self, HttpError> {
        let (config, _) = koine_tls::client_config_tls13(extra_ca_file, Vec::new())
            .map_err(|e| HttpError::Tls(e.to_string()))?;
        Ok(Self {
            tls: tokio_rustls::TlsConnector::from(config),
        })
    }

    /// Sends one request and reads the response.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&str>,
        body: &[u8],
        max_body: usize,
    ) -> Result<Response, HttpError> {
        let u = Url::parse(url)?;
        let host = u.host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((host, u.port)).await?;
        if !u.tls {
            return exchange(tcp, &u, method, bearer, body, max_body).await;
        }
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| HttpError::Url(url.to_owned()))?;
        let stream = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| HttpError::Tls(e.to_string()))?;
        exchange(stream, &u, method, bearer, body, max_body).await
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    u: &Url,
    method: &str,
    bearer: Option<&str>,
    body: &[u8],
    max_body: usize,
) -> Result<Response, HttpError> {
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}:{}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        u.target,
        u.host,
        u.port,
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await?;
    let (head, rest) = read_head(&mut s).await?;
    let head = std::str::from_utf8(&head).map_err(|_| HttpError::Malformed("not utf-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or(HttpError::Malformed("empty response"))?;
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or(HttpError::Malformed("bad status line"))?;
    let headers = parse_headers(lines)?;
    let body = read_body(&mut s, &headers, rest, max_body).await?;
    Ok(Response { status, body })
}
