//! A gateway on the route, on a real Prosody: an external component
//! (XEP-0114, connected over loopback by this test) answers disco#info with
//! identity `gateway/sms` and echoes what it gets, like an SMS gateway would
//! after reading it. The plugin shows it as a `Gateway` hop that reads content,
//! where end-to-end encryption would end.

mod support;

use koine_api::{
    Command, Content, ConversationKey, E2eEnd, Event, HopKind, LocalId, Route, Visibility,
};
use koine_xmpp::route::Routes;
use std::io::Write;
use std::process::{Command as Process, Stdio};
use std::time::Duration;
use support::{DOMAIN, Extra, Prosody, client, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_xmpp::minidom::Element;

const ACCEPT: &str = "jabber:component:accept";
const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
const SECRET: &str = "gateway-secret";

fn gateway_domain() -> String {
    format!("sms.{DOMAIN}")
}

/// SHA-1 as lower-case hex (with the openssl CLI the tests already use).
fn sha1_hex(data: &str) -> String {
    let mut child = Process::new("openssl")
        .args(["dgst", "-sha1", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("openssl output");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_owned()
}

/// The component's end of the stream: raw XML in, top-level elements out.
/// (Prosody answers a component without `version`, which the xmpp-rs
/// stream code requires, so this small reader stands in.)
struct Link {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Link {
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads up to the end of the server's stream header; returns it.
    async fn header(&mut self) -> String {
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if let Some(start) = text.find("<stream:stream")
                && let Some(end) = text[start..].find('>')
            {
                self.buf.drain(..start + end + 1);
                return text[start..start + end + 1].to_owned();
            }
            assert!(self.fill().await, "stream closed before its header");
        }
    }

    /// The next top-level element, `None` when the stream ends.
    async fn next(&mut self) -> Option<Element> {
        loop {
            if let Some(len) = element_len(&self.buf) {
                let raw: Vec<u8> = self.buf.drain(..len).collect();
                let raw = String::from_utf8_lossy(&raw);
                let wrapped = format!(
                    "<w xmlns='{ACCEPT}' xmlns:stream='http://etherx.jabber.org/streams'>{}</w>",
                    raw.trim()
                );
                let w: Element = wrapped.parse().ok()?;
                return w.children().next().cloned();
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn send(&mut self, xml: &str) -> bool {
        self.tcp.write_all(xml.as_bytes()).await.is_ok()
    }
}

/// The length of the first complete top-level element in `buf`, if any.
fn element_len(buf: &[u8]) -> Option<usize> {
    let (mut depth, mut i) = (0i32, 0usize);
    while i < buf.len() {
        if buf[i] != b'<' {
            i += 1;
            continue;
        }
        let closing = buf.get(i + 1) == Some(&b'/');
        let mut j = i + 1;
        let mut quote = None;
        while j < buf.len() {
            match (quote, buf[j]) {
                (None, b'"' | b'\'') => quote = Some(buf[j]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        if j >= buf.len() {
            return None;
        }
        if closing {
            depth -= 1;
        } else if buf[j - 1] != b'/' {
            depth += 1;
        }
        i = j + 1;
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

/// Logs the component in (XEP-0114 handshake), retrying while Prosody opens
/// its port.
async fn connect_gateway(port: u16) -> Link {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let tcp = loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(t) => break t,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "component port: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let mut link = Link {
        tcp,
        buf: Vec::new(),
    };
    link.send(&format!(
        "<stream:stream xmlns='{ACCEPT}' xmlns:stream='http://etherx.jabber.org/streams' to='{}'>",
        gateway_domain()
    ))
    .await;
    let header = link.header().await;
    let id = header
        .split("id='")
        .nth(1)
        .or_else(|| header.split("id=\"").nth(1))
        .and_then(|r| r.split(['\'', '"']).next())
        .expect("stream id")
        .to_owned();
    link.send(&format!(
        "<handshake>{}</handshake>",
        sha1_hex(&format!("{id}{SECRET}"))
    ))
    .await;
    match link.next().await {
        Some(e) if e.name() == "handshake" => link,
        other => panic!("component refused: {other:?}"),
    }
}

/// Serves disco#info as `gateway/sms` and echoes messages back.
async fn serve_gateway(mut link: Link) {
    while let Some(stanza) = link.next().await {
        let from = stanza.attr("from").unwrap_or_default().to_owned();
        let to = stanza.attr("to").unwrap_or_default().to_owned();
        let reply = if stanza.name() == "iq"
            && stanza.attr("type") == Some("get")
            && stanza.get_child("query", DISCO_INFO).is_some()
        {
            format!(
                "<iq type='result' from='{to}' to='{from}' id='{}'>\
                 <query xmlns='{DISCO_INFO}'><identity category='gateway' type='sms' name='SMS'/>\
                 <feature var='{DISCO_INFO}'/></query></iq>",
                stanza.attr("id").unwrap_or_default()
            )
        } else if stanza.name() == "message"
            && let Some(body) = stanza.get_child("body", ACCEPT)
        {
            format!(
                "<message type='chat' from='{to}' to='{from}' id='{}'><body>echo: {}</body></message>",
                uuid::Uuid::new_v4(),
                body.text()
            )
        } else {
            continue;
        };
        if !link.send(&reply).await {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_is_a_hop_that_reads_content() {
    let port = free_port();
    let server = Prosody::start_with(Extra {
        global: format!(
            "component_ports = {{ {port} }}\ncomponent_interfaces = {{ \"127.0.0.1\" }}"
        ),
        tail: format!(
            "Component \"{}\"\n  component_secret = \"{SECRET}\"",
            gateway_domain()
        ),
        ..Extra::default()
    });
    let gateway = tokio::spawn(serve_gateway(connect_gateway(port).await));
    let (sa, pa, ja) = server.account("alice");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let phone = format!("+15550001111@{}", gateway_domain());

    let check = |route: &Route| {
        assert_eq!(route.validate(), Ok(()));
        assert_eq!(
            route.hosts().collect::<Vec<_>>(),
            [ja.domain(), gateway_domain().as_str()]
        );
        let hop = &route.hops[1];
        assert_eq!(
            hop.kind,
            HopKind::Gateway {
                remote_network: Some("sms".into())
            }
        );
        assert_eq!(hop.reads, Visibility::Content);
        assert_eq!(Routes::e2e_end(route), E2eEnd::Hop(1));
    };

    // The first message goes out at once; its acknowledgement waits until
    // the contact's domain said what it is, so its route is complete.
    a.send(Command::SendMessage {
        local_id: LocalId::new("g-1"),
        conversation: ConversationKey::new(&phone),
        content: Content::text("hello"),
        reply_to: None,
    })
    .await;
    let acked = a
        .wait_for(
            "ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "g-1"),
        )
        .await;
    let Event::SendAcked { route, .. } = acked else {
        unreachable!()
    };
    check(&route);
    let echo = a
        .wait_for(
            "the echo",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == "echo: hello"),
        )
        .await;
    let Event::MessageReceived(m) = echo else {
        unreachable!()
    };
    assert_eq!(m.sender.to_string(), phone);
    check(&m.route);
    // The conversation is upserted again once the domain said it is a gateway.
    let upserted = a
        .wait_for("the conversation through the gateway", |e| {
            matches!(e, Event::ConversationUpserted(c) if c.key.as_str() == phone
                && c.route.hops.iter().any(|h| matches!(h.kind, HopKind::Gateway { .. })))
        })
        .await;
    let Event::ConversationUpserted(conversation) = upserted else {
        unreachable!()
    };
    check(&conversation.route);
    a.stop().await.expect("stop");
    gateway.abort();
}
