//! The one HTTP request the plugin makes: the `PUT` of an HTTP upload
//! (XEP-0363) slot, over TLS verified like the XMPP link (system roots, the
//! account's extra CA file, a pin the user confirmed for that host).
//!
//! HTTP/1.1 with `Connection: close`; only `https://` URLs. The negotiated TLS
//! version is returned for the route.

use koine_api::TlsVersion;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Why an upload failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Not an `https://host[:port]/path` URL.
    #[error("not an https URL: {0}")]
    BadUrl(String),
    /// TCP, TLS or I/O failure.
    #[error("network: {0}")]
    Network(String),
    /// The upload host's certificate was refused.
    #[error("certificate refused: {0}")]
    Certificate(String),
    /// The server answered with this status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The local file could not be read.
    #[error("file: {0}")]
    File(String),
}

/// The parts of an `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl {
    /// Host name or IP address (without brackets).
    pub host: String,
    /// Port (443 when absent).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl HttpsUrl {
    /// Parses `url`, strictly: scheme `https`, no user info, no spaces.
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::BadUrl(url.to_owned());
        // `get`, not `[..8]`: the URL is the peer's text, and byte 8 may
        // fall inside a character (`https:/é`).
        let rest = url
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
            .and_then(|_| url.get(8..))
            .ok_or_else(bad)?;
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let tail = tail.split('#').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(bad());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (h, port)
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 443,
        };
        if host.is_empty() {
            return Err(bad());
        }
        let target = match tail {
            "" => "/".to_owned(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_owned(),
        };
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// `PUT`s `size` bytes of `file` to `url` with the slot's `headers`.
pub async fn put(
    tls: Arc<ClientConfig>,
    url: &str,
    headers: &[(String, String)],
    file: &Path,
    size: u64,
    mime: &str,
) -> Result<TlsVersion, HttpError> {
    let url = HttpsUrl::parse(url)?;
    let net = |e: std::io::Error| HttpError::Network(e.to_string());
    let name =
        ServerName::try_from(url.host.clone()).map_err(|_| HttpError::BadUrl(url.host.clone()))?;
    let mut config = (*tls).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(net)?;
    let mut stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let refused = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
            if refused {
                HttpError::Certificate(e.to_string())
            } else {
                net(e)
            }
        })?;
    let version = match stream.get_ref().1.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
        _ => TlsVersion::Tls13,
    };
    let mut head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {size}\r\nContent-Type: {}\r\nConnection: close\r\n",
        url.target,
        url.host_header(),
        clean(mime),
    );
    for (k, v) in headers {
        head.push_str(&format!("{}: {}\r\n", clean(k), clean(v)));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.map_err(net)?;
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| HttpError::File(e.to_string()))?;
    let copied = tokio::io::copy(&mut f.take(size), &mut stream)
        .await
        .map_err(net)?;
    if copied != size {
        return Err(HttpError::File(format!(
            "{copied} bytes read of {size} (the file changed)"
        )));
    }
    stream.flush().await.map_err(net)?;
    let status = read_status(&mut stream).await?;
    if (200..300).contains(&status) {
        Ok(version)
    } else {
        Err(HttpError::Status(status))
    }
}

/// Removes what could end a header line.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

async fn read_status<R: AsyncReadExt + Unpin>(r: &mut R) -> Result<u16, HttpError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 8192 {
        let n = r
            .read(&mut chunk)
            .await
            .map_err(|e| HttpError::Network(e.to_string()))?;
        if n == 0 {
            break;
        }
        let read = chunk
            .get(..n)
            .ok_or_else(|| HttpError::Network(format!("read {n} bytes into 1024")))?;
        buf.extend_from_slice(read);
    }
    let line = String::from_utf8_lossy(&buf);
    let line = line.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err(HttpError::Network(format!(
            "not an HTTP response: {line:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u =
            HttpsUrl::parse("https://Up.Example.org:5281/share/a%20b.png?x=1#frag").expect("valid");
        assert_eq!(u.host, "up.example.org");
        assert_eq!(u.port, 5281);
        assert_eq!(u.target, "/share/a%20b.png?x=1");
        assert_eq!(u.host_header(), "up.example.org:5281");
        let v6 = HttpsUrl::parse("https://[::1]/f").expect("valid");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 443));
        assert_eq!(v6.host_header(), "[::1]");
        assert_eq!(HttpsUrl::parse("https://h").expect("valid").target, "/");
        for bad in [
            "http://h/f",
            "https://user@h/f",
            "https:///f",
            "https://h:port/f",
            "https://h/a b",
            "https://[::1]x/f",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_ascii_urls_are_refused_not_panics() {
        // A peer chooses these: byte 8 falls inside a multi-byte character.
        for bad in ["https:/é", "httpsé", "https:/\u{1F600}x", "ééééé"] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
        let u = HttpsUrl::parse("https://h/é").expect("valid");
        assert_eq!(u.target, "/é");
    }

    #[tokio::test]
    async fn status_lines() {
        let mut ok: &[u8] = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(read_status(&mut ok).await, Ok(201));
        let mut junk: &[u8] = b"SSH-2.0-OpenSSH\r\n";
        assert!(read_status(&mut junk).await.is_err());
    }
}
