//! A minimal HTTP/1.1 for the provider's auth endpoint, the media hosts and
//! the gatekeeper's proxy (PROTOCOL.md §4, §7): one request per connection,
//! bodies with `Content-Length`, no chunked encoding. `https://` URLs go
//! over verified TLS (see [`super::http_client`]); plain `http://` is
//! accepted for loopback hosts only.

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const MAX_HEAD: usize = 16 * 1024;

/// HTTP failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The other side sent something that is not HTTP/1.1 as we speak it.
    #[error("malformed http: {0}")]
    Malformed(&'static str),
    /// A body over the limit.
    #[error("body of {size} bytes exceeds {limit}")]
    TooLarge {
        /// Announced size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The URL is neither `https://` nor a loopback `http://` URL.
    #[error("unsupported url: {0}")]
    Url(String),
    /// The TLS handshake failed (an untrusted or wrong certificate).
    #[error("tls: {0}")]
    Tls(String),
}

/// A request as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `PUT`.
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bearer token of the `Authorization` header.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response as the client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<(Vec<u8>, Vec<u8>), HttpError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end.saturating_add(4).min(buf.len()));
            buf.truncate(end);
            return Ok((buf, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(HttpError::Malformed("header too long"));
        }
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Err(HttpError::Malformed("connection closed in the header"));
        }
        buf.extend_from_slice(
            chunk
                .get(..n)
                .ok_or(HttpError::Malformed("read past the buffer"))?,
        );
    }
}

pub(crate) fn parse_headers(
    lines: std::str::Split<'_, &str>,
) -> Result<Vec<(String, String)>, HttpError> {
    lines
        .map(|l| {
            let (k, v) = l
                .split_once(':')
                .ok_or(HttpError::Malformed("bad header"))?;
            Ok((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

pub(crate) async fn read_body<R: AsyncRead + Unpin>(
    r: &mut R,
    headers: &[(String, String)],
    mut already: Vec<u8>,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let len = match headers.iter().find(|(k, _)| k == "content-length") {
        Some((_, v)) => v
            .parse::<usize>()
            .map_err(|_| HttpError::Malformed("bad content-length"))?,
        None => 0,
    };
    if len > limit {
        return Err(HttpError::TooLarge { size: len, limit });
    }
    if already.len() > len {
        return Err(HttpError::Malformed("more bytes than content-length"));
    }
    let have = already.len();
    already.resize(len, 0);
    let rest = already
        .get_mut(have..)
        .ok_or(HttpError::Malformed("more bytes than content-length"))?;
    r.read_exact(rest).await?;
    Ok(already)
}

/// Reads one request (server side).
pub async fn read_request<R: AsyncRead + Unpin>(
    r: &mut R,
    max_body: usize,
) -> Result<Request, HttpError> {
    let (head, rest) = read_head(r).await?;
    let head = std::str::from_utf8(&head).map_err(|_| HttpError::Malformed("not utf-8"))?;
    let mut lines = head.split("\r\n");
    let start = lines.next().ok_or(HttpError::Malformed("empty request"))?;
    let mut parts = start.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed("bad request line"));
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(HttpError::Malformed("not HTTP/1.x"));
    }
    let headers = parse_headers(lines)?;
    if headers.iter().any(|(k, _)| k == "transfer-encoding") {
        return Err(HttpError::Malformed("transfer-encoding is not supported"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let body = read_body(r, &headers, rest, max_body).await?;
    Ok(Request {
        method: method.to_owned(),
        path: percent_decode(path)?,
        query: parse_form(query)?,
        headers,
        body,
    })
}

/// Writes a response and flushes (server side).
pub async fn write_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    body: &[u8],
) -> Result<(), HttpError> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes()).await?;
    w.write_all(body).await?;
    w.flush().await?;
    Ok(())
}

/// A parsed URL: `https://host[:port]/path?query` on any host, or
/// `http://host:port/path?query` on a loopback host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Whether the URL is `https://`.
    pub tls: bool,
    /// The host: a name, an IPv4 address or a bracketed IPv6 address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Path and query.
    pub target: String,
}

impl Url {
    /// Parses a URL; `http://` only on loopback and with an explicit port.
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::Url(url.to_owned());
        let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err(bad()),
        };
        let (authority, target) = match rest.find('/').and_then(|i| rest.split_at_checked(i)) {
            Some(split) => split,
            None => (rest, "/"),
        };
        if authority.contains('@') || authority.is_empty() {
            return Err(bad());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
            _ => (authority, None),
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
            return Err(bad());
        }
        let port = match (tls, port) {
            (_, Some(p)) => p,
            (true, None) => 443,
            (false, None) => return Err(bad()),
        };
        let loopback = host == "localhost" || host == "[::1]" || host.starts_with("127.");
        if !tls && !loopback {
            return Err(bad());
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            target: target.to_owned(),
        })
    }

    /// `scheme://host:port`.
    pub fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent-encoding (and `+` as space).
pub fn percent_decode(s: &str) -> Result<String, HttpError> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                // Exactly two hex digits (from_str_radix alone would take
                // a sign: "%+5" is not an escape).
                let pair = [bytes.next(), bytes.next()];
                let [Some(hi), Some(lo)] = pair else {
                    return Err(HttpError::Malformed("bad escape"));
                };
                if !(hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit()) {
                    return Err(HttpError::Malformed("bad escape"));
                }
                let digits = [hi, lo];
                let hex =
                    std::str::from_utf8(&digits).map_err(|_| HttpError::Malformed("bad escape"))?;
                out.push(
                    u8::from_str_radix(hex, 16).map_err(|_| HttpError::Malformed("bad escape"))?,
                );
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| HttpError::Malformed("escape is not utf-8"))
}

/// Parses `a=1&b=2` form or query text.
pub fn parse_form(s: &str) -> Result<Vec<(String, String)>, HttpError> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(Url::parse("http://127.0.0.1:8080/v1/media/x").is_ok());
        assert!(Url::parse("http://[::1]:1/").is_ok());
        let u = Url::parse("https://media.example.org/v1/media/x").expect("https");
        assert_eq!(
            (u.tls, u.port, u.target.as_str()),
            (true, 443, "/v1/media/x")
        );
        assert_eq!(u.origin(), "https://media.example.org:443");
        let u = Url::parse("https://[::1]:8443").expect("v6");
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 8443));
        for bad in [
            "https://user@example.org/",
            "https:///x",
            "http://example.org:80/",
            "http://10.0.0.1:80/",
            "http://127.0.0.1/",
            "http://user@127.0.0.1:1/",
            "ftp://127.0.0.1:1/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_escape_is_exactly_two_hex_digits() {
        assert!(percent_decode("%+5").is_err(), "a sign is not a hex digit");
        assert!(percent_decode("%-0").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%é").is_err());
        assert_eq!(percent_decode("%41%2b+").expect("decode"), "A+ ");
    }

    #[test]
    fn form_and_percent_coding_round_trip() {
        let v = "koine:alice&=+ é";
        let enc = percent_encode(v);
        assert_eq!(percent_decode(&enc).expect("decode"), v);
        assert_eq!(
            parse_form(&format!("user={enc}&password=x")).expect("form"),
            vec![("user".into(), v.into()), ("password".into(), "x".into())]
        );
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%").is_err());
    }

    #[tokio::test]
    async fn requests_are_parsed_and_limits_hold() {
        let raw = b"PUT /v1/media?x=1 HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 3\r\n\r\nabc";
        let req = read_request(&mut &raw[..], 10).await.expect("valid");
        assert_eq!(req.method, "PUT");
        assert_eq!(req.path, "/v1/media");
        assert_eq!(req.query("x"), Some("1"));
        assert_eq!(req.bearer(), Some("t"));
        assert_eq!(req.body, b"abc");
        assert!(matches!(
            read_request(&mut &raw[..], 2).await,
            Err(HttpError::TooLarge { size: 3, limit: 2 })
        ));
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"GET / HTTP/2\r\n\r\n",
            b"GET / HTTP/1.1\r\nnocolon\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
            b"GET / HTTP/1.1\r\n",
        ] {
            assert!(
                read_request(&mut &bad[..], 100).await.is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
