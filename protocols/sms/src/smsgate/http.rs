//! A small HTTP/1.1 client and server, enough for SMSGate's local API and
//! its webhooks: one request per connection, `Content-Length` or chunked
//! bodies, strict limits, typed errors for anything malformed.

use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The largest header block accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest body accepted.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How long one exchange may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer took too long.
    #[error("timed out")]
    Timeout,
    /// The peer sent something that is not HTTP/1.1 as we speak it.
    #[error("malformed http: {0}")]
    Malformed(String),
    /// A head or body over the limit.
    #[error("http {what} of {size} bytes exceeds {limit}")]
    TooLarge {
        /// Head or body.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A URL we cannot use.
    #[error("bad url: {0}")]
    BadUrl(String),
    /// The TLS handshake failed, or the certificate is not the pinned one.
    #[error("tls: {0}")]
    Tls(String),
}

/// A base URL: `http://host:port/prefix` or `https://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Whether it is `https://` (TLS with the server's certificate pinned).
    pub https: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path prefix without a trailing slash (may be empty).
    pub prefix: String,
}

impl Url {
    /// Parses an `http://` or `https://` URL.
    pub fn parse(input: &str) -> Result<Self, HttpError> {
        let trimmed = input.trim();
        let (https, rest) = match trimmed.strip_prefix("https://") {
            Some(rest) => (true, rest),
            None => (
                false,
                trimmed.strip_prefix("http://").ok_or_else(|| {
                    HttpError::BadUrl("only http:// and https:// URLs are supported".into())
                })?,
            ),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at_checked(i).unwrap_or((rest, "")),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| HttpError::BadUrl(format!("bad port in {input}")))?,
            ),
            None => (authority, if https { 443 } else { 80 }),
        };
        if host.is_empty() || host.contains(['@', ' ', '/']) {
            return Err(HttpError::BadUrl(format!("bad host in {input}")));
        }
        Ok(Self {
            https,
            host: host.to_owned(),
            port,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    /// `host:port`.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.prefix)
    }
}

/// A request as a server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A response as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Finds a header by lowercase name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn read_head<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Result<Vec<String>, HttpError> {
    let mut lines = Vec::new();
    let mut total = 0usize;
    loop {
        let mut line = Vec::new();
        let n = (&mut *r)
            .take(MAX_HEAD_BYTES.saturating_sub(total).saturating_add(1) as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Err(HttpError::Malformed("connection closed in the head".into()));
        }
        total = total.saturating_add(n);
        if total > MAX_HEAD_BYTES {
            return Err(HttpError::TooLarge {
                what: "head",
                size: total,
                limit: MAX_HEAD_BYTES,
            });
        }
        let text = String::from_utf8(line)
            .map_err(|_| HttpError::Malformed("head is not UTF-8".into()))?;
        let text = text.trim_end_matches(['\r', '\n']).to_owned();
        if text.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Ok(lines);
        }
        lines.push(text);
    }
}

fn parse_headers(lines: &[String]) -> Result<Vec<(String, String)>, HttpError> {
    lines
        .iter()
        .map(|l| {
            let (n, v) = l
                .split_once(':')
                .ok_or_else(|| HttpError::Malformed(format!("header without colon: {l:.40}")))?;
            Ok((n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

async fn read_body<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
    headers: &[(String, String)],
    to_eof: bool,
) -> Result<Vec<u8>, HttpError> {
    if header(headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            (&mut *r).take(1024).read_line(&mut size_line).await?;
            let size_hex = size_line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| HttpError::Malformed(format!("bad chunk size {size_hex:.20}")))?;
            if size == 0 {
                let mut end = String::new();
                (&mut *r).take(1024).read_line(&mut end).await?;
                return Ok(body);
            }
            let total = body.len().saturating_add(size);
            if total > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge {
                    what: "body",
                    size: total,
                    limit: MAX_BODY_BYTES,
                });
            }
            let start = body.len();
            body.resize(total, 0);
            r.read_exact(body.get_mut(start..).unwrap_or_default())
                .await?;
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf).await?;
        }
    }
    match header(headers, "content-length") {
        Some(v) => {
            let len: usize = v
                .parse()
                .map_err(|_| HttpError::Malformed(format!("bad content-length {v:.20}")))?;
            if len > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge {
                    what: "body",
                    size: len,
                    limit: MAX_BODY_BYTES,
                });
            }
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).await?;
            Ok(body)
        }
        None if to_eof => {
            let mut body = Vec::new();
            (&mut *r)
                .take((MAX_BODY_BYTES as u64).saturating_add(1))
                .read_to_end(&mut body)
                .await?;
            if body.len() > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge {
                    what: "body",
                    size: body.len(),
                    limit: MAX_BODY_BYTES,
                });
            }
            Ok(body)
        }
        None => Ok(Vec::new()),
    }
}

/// Sends one request over plain HTTP and reads the response. An
/// `https://` URL is refused here: it needs the server's pin
/// ([`send_pinned`]).
pub async fn send(
    base: &Url,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Response, HttpError> {
    if base.https {
        return Err(HttpError::BadUrl(
            "an https:// URL needs the server's certificate pin".into(),
        ));
    }
    let exchange = async {
        let stream = TcpStream::connect(base.authority()).await?;
        exchange(stream, base, method, path, headers, body).await
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| HttpError::Timeout)?
}

/// Sends one request over TLS to a server whose certificate must have the
/// SHA-256 `pin` (hex), and reads the response. No CA is consulted: the
/// app's certificate is self-signed, and the pin is the whole check.
pub async fn send_pinned(
    base: &Url,
    pin: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Response, HttpError> {
    let exchange = async {
        let (stream, _) = tls_connect(base, Some(pin.to_owned())).await?;
        exchange(stream, base, method, path, headers, body).await
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| HttpError::Timeout)?
}

/// The certificate a TLS server presents (DER) and the TLS version it
/// negotiated, read without trusting it: for the user to compare and pin.
pub async fn server_certificate(base: &Url) -> Result<(Vec<u8>, koine_api::TlsVersion), HttpError> {
    let handshake = async {
        let (stream, cert) = tls_connect(base, None).await?;
        let version = crate::kdeconnect::tls::negotiated(stream.get_ref().1.protocol_version())
            .map_err(|e| HttpError::Tls(e.to_string()))?;
        Ok((cert, version))
    };
    tokio::time::timeout(TIMEOUT, handshake)
        .await
        .map_err(|_| HttpError::Timeout)?
}

async fn tls_connect(
    base: &Url,
    pin: Option<String>,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, Vec<u8>), HttpError> {
    let config = rustls::ClientConfig::builder_with_provider(crate::kdeconnect::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(crate::kdeconnect::tls::PinVerifier::new(pin))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(base.authority()).await?;
    let name = rustls::pki_types::ServerName::try_from(base.host.clone())
        .unwrap_or_else(|_| crate::kdeconnect::tls::server_name());
    let stream = connector.connect(name, tcp).await.map_err(|e| {
        // A refused certificate or a failed handshake is TLS; a reset
        // connection is the network's (retried later).
        if e.get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            HttpError::Tls(e.to_string())
        } else {
            HttpError::Io(e)
        }
    })?;
    let cert = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| HttpError::Tls("the server sent no certificate".into()))?;
    Ok((stream, cert))
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    base: &Url,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Response, HttpError> {
    {
        let mut head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            base.prefix,
            base.authority(),
            body.len()
        );
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await?;
        let mut reader = BufReader::new(stream);
        let lines = read_head(&mut reader).await?;
        let status_line = lines.first().cloned().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(HttpError::Malformed(format!(
                "not an HTTP status line: {status_line:.40}"
            )));
        }
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| HttpError::Malformed(format!("bad status line: {status_line:.40}")))?;
        let headers = parse_headers(lines.get(1..).unwrap_or_default())?;
        let body = read_body(&mut reader, &headers, true).await?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Reads one request from a server-side connection.
pub async fn read_request<S: AsyncRead + Unpin>(stream: S) -> Result<Request, HttpError> {
    let read = async {
        let mut reader = BufReader::new(stream);
        let lines = read_head(&mut reader).await?;
        let request_line = lines.first().cloned().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(HttpError::Malformed(format!(
                "bad request line: {request_line:.40}"
            )));
        };
        if !version.starts_with("HTTP/1.") || !path.starts_with('/') {
            return Err(HttpError::Malformed(format!(
                "bad request line: {request_line:.40}"
            )));
        }
        let headers = parse_headers(lines.get(1..).unwrap_or_default())?;
        let body = read_body(&mut reader, &headers, false).await?;
        Ok(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            body,
        })
    };
    tokio::time::timeout(TIMEOUT, read)
        .await
        .map_err(|_| HttpError::Timeout)?
}

/// Writes a response and closes.
pub async fn write_response<S: AsyncWrite + Unpin>(
    mut stream: S,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<(), HttpError> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:8080/api/").expect("url");
        assert_eq!(u.port, 8080);
        assert_eq!(u.prefix, "/api");
        assert!(!u.https);
        let tls = Url::parse("https://x").expect("https url");
        assert!(tls.https);
        assert_eq!(tls.port, 443);
        assert_eq!(tls.to_string(), "https://x:443");
        assert!(Url::parse("ftp://x").is_err());
        assert!(Url::parse("http://x:99999").is_err());
        assert_eq!(Url::parse("http://phone").expect("url").port, 80);
    }

    #[tokio::test]
    async fn plain_send_refuses_an_https_url() {
        // An https:// URL goes only through send_pinned: never in clear.
        let u = Url::parse("https://127.0.0.1:9").expect("url");
        let r = send(&u, "GET", "/", &[], b"").await;
        assert!(matches!(r, Err(HttpError::BadUrl(_))), "{r:?}");
    }

    #[tokio::test]
    async fn malformed_requests_are_typed() {
        for bad in [
            &b"GARBAGE\r\n\r\n"[..],
            b"POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
            b"POST /x HTTP/1.1\r\nno colon here\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
        ] {
            let r = read_request(bad).await;
            assert!(
                matches!(r, Err(HttpError::Malformed(_) | HttpError::TooLarge { .. })),
                "{r:?}"
            );
        }
        let ok = read_request(&b"POST /hook HTTP/1.1\r\nX-A: b\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"[..])
            .await
            .expect("chunked");
        assert_eq!(ok.body, b"abc");
        assert_eq!(header(&ok.headers, "x-a"), Some("b"));
    }

    #[tokio::test]
    async fn a_huge_chunk_size_is_refused_not_an_overflow() {
        for size in ["FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFD", "10000000000000000"] {
            let request = format!(
                "POST /hook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n{size}\r\nx\r\n0\r\n\r\n"
            );
            let r = read_request(request.as_bytes()).await;
            assert!(
                matches!(r, Err(HttpError::Malformed(_) | HttpError::TooLarge { .. })),
                "{size}: {r:?}"
            );
        }
    }
}
