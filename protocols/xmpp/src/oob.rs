//! Attachments as links (XEP-0066 out-of-band data), the way HTTP upload
//! (XEP-0363) shares them: the body carries the URL, and an
//! `<x xmlns='jabber:x:oob'><url/></x>` per file says it is a file.
//!
//! Only `https://` and `aesgcm://` links become attachments
//! ([`AttachmentSource::Remote`]); the file stays on the upload host, so the
//! route gets a [`HopKind::MediaHost`] hop, which reads the file unless it
//! is an `aesgcm://` one (sealed, see [`crate::omemo::aesgcm`]).

use crate::http::HttpsUrl;
use crate::ns;
use koine_api::{
    Attachment, AttachmentSource, Hop, HopKind, Route, TlsVersion, TransportSecurity, Visibility,
};
use tokio_xmpp::minidom::Element;

/// The `<x xmlns='jabber:x:oob'>` element for `url`.
pub fn element(url: &str) -> Element {
    Element::builder("x", ns::OOB)
        .append(Element::builder("url", ns::OOB).append(url.to_owned()))
        .build()
}

/// The body of a message sharing `urls` with `text`: the text, then one URL
/// a line (just the URL when there is no text, as other clients expect).
pub fn body(text: &str, urls: &[String]) -> String {
    let links = urls.join("\n");
    if text.trim().is_empty() {
        links
    } else {
        format!("{text}\n{links}")
    }
}

/// The attachments announced in `payloads`, with the body's text without
/// their URLs.
pub fn read(payloads: &[Element], body: &str) -> (Vec<Attachment>, String) {
    let mut attachments = Vec::new();
    let mut text = body.to_owned();
    for x in payloads.iter().filter(|p| p.is("x", ns::OOB)) {
        let Some(url) = x.get_child("url", ns::OOB).map(|u| u.text()) else {
            continue;
        };
        let url = url.trim().to_owned();
        let Ok(parsed) = HttpsUrl::parse(&download_url(&url)) else {
            continue;
        };
        text = text.replace(&url, "");
        attachments.push(Attachment {
            name: file_name(&parsed.target),
            mime: mime_of(&parsed.target).to_owned(),
            size: 0,
            source: AttachmentSource::Remote(url),
            sha256: None,
        });
    }
    if !attachments.is_empty() {
        text = text.trim().to_owned();
    }
    (attachments, text)
}

/// The `https://` URL a link downloads from (an `aesgcm://` link's without
/// its key).
pub fn download_url(url: &str) -> String {
    match crate::omemo::aesgcm::parse(url) {
        Some((https, _)) => https,
        None => url.to_owned(),
    }
}

/// `route` with a hop for the host of each remote attachment: it stores the
/// file and can read it, unless it is an `aesgcm://` link (the host then
/// stores ciphertext). `tls` is the link we used to upload, when we did.
pub fn with_media_hops(mut route: Route, urls: &[(String, Option<TlsVersion>)]) -> Route {
    for (url, tls) in urls {
        let Ok(u) = HttpsUrl::parse(&download_url(url)) else {
            continue;
        };
        let reads = if url.starts_with("aesgcm://") {
            Visibility::MetadataOnly
        } else {
            Visibility::Content
        };
        if route
            .hops
            .iter()
            .any(|h| h.kind == HopKind::MediaHost && h.host == u.host)
        {
            continue;
        }
        let hop = match tls {
            Some(version) => Hop::new(
                u.host,
                HopKind::MediaHost,
                TransportSecurity::Tls {
                    version: *version,
                    pinned: false,
                },
            )
            .seeing_your_ip(),
            None => Hop::new(u.host, HopKind::MediaHost, TransportSecurity::Unknown),
        };
        route.hops.push(hop.reading(reads));
    }
    route
}

/// The remote URLs of `attachments`.
pub fn remote_urls(attachments: &[Attachment]) -> Vec<(String, Option<TlsVersion>)> {
    attachments
        .iter()
        .filter_map(|a| match &a.source {
            AttachmentSource::Remote(u) => Some((u.clone(), None)),
            AttachmentSource::LocalPath(_) | AttachmentSource::Sealed(_) => None,
        })
        .collect()
}

/// The last path segment, percent-decoded.
fn file_name(target: &str) -> String {
    let path = target.split('?').next().unwrap_or_default();
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("file");
    percent_decode(last).unwrap_or_else(|| last.to_owned())
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// A MIME type from the file extension, for display.
pub fn mime_of(name: &str) -> &'static str {
    let path = name.split('?').next().unwrap_or_default();
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_links_and_keeps_the_text() {
        let url = "https://up.example.org/share/abc/r%C3%A9sum%C3%A9.pdf";
        let payloads = vec![element(url), element("http://plain.example/x.png")];
        let (atts, text) = read(&payloads, &body("here it is", &[url.to_owned()]));
        assert_eq!(text, "here it is");
        assert_eq!(atts.len(), 1, "only https links become attachments");
        assert_eq!(atts[0].name, "résumé.pdf");
        assert_eq!(atts[0].mime, "application/pdf");
        assert_eq!(atts[0].source, AttachmentSource::Remote(url.to_owned()));
        let (_, alone) = read(&payloads[..1], url);
        assert_eq!(alone, "", "a bare link is only the file");
    }

    #[test]
    fn media_hops_are_added_once_per_host() {
        let routes = crate::route::Routes::new("a.example", TlsVersion::Tls13, false);
        let urls = vec![
            ("https://up.a.example/1/x.png".to_owned(), None),
            ("https://up.a.example/2/y.png".to_owned(), None),
        ];
        let r = with_media_hops(routes.to_domain("a.example"), &urls);
        assert_eq!(r.hosts().collect::<Vec<_>>(), ["a.example", "up.a.example"]);
        assert_eq!(r.hops[1].kind, HopKind::MediaHost);
        assert_eq!(r.hops[1].reads, Visibility::Content);
        assert_eq!(r.validate(), Ok(()));
    }
}
