//! Typed stanzas (PROTOCOL.md §3) over the generic [`Element`].
//!
//! Decoding distinguishes "not a stanza of this version"
//! ([`WireError::UnknownStanza`]) from "a known stanza, malformed"
//! ([`WireError::Stanza`]).

use super::address::Peer;
use super::error::WireError;
use super::xml::Element;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::str::FromStr;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($text => Ok($name::$variant),)* _ => Err(()) }
            }
        }
    };
}

wire_enum!(
    /// The kind of Signal message a `<message>` carries.
    CipherKind {
        /// A PreKeySignalMessage (starts a session).
        PreKey = "pkmsg",
        /// A SignalMessage.
        Whisper = "msg",
    }
);

wire_enum!(
    /// Receipt kinds.
    ReceiptKind {
        /// Reached the recipient's device.
        Delivered = "delivered",
        /// Read.
        Read = "read",
    }
);

wire_enum!(
    /// Chat states.
    ChatStateKind {
        /// Typing.
        Composing = "composing",
        /// Stopped typing.
        Paused = "paused",
        /// Looking at the chat.
        Active = "active",
        /// Left the chat.
        Gone = "gone",
    }
);

wire_enum!(
    /// Error codes (PROTOCOL.md §10).
    ErrorCode {
        /// Malformed stanza or payload.
        BadRequest = "bad-request",
        /// Bad credentials or token.
        NotAuthorized = "not-authorized",
        /// The recipient never opted in.
        NotOptedIn = "not-opted-in",
        /// The recipient opted out.
        ReadOnly = "read-only",
        /// One side blocked the other.
        Blocked = "blocked",
        /// No such user.
        ItemNotFound = "item-not-found",
        /// Not allowed.
        NotAllowed = "not-allowed",
        /// Too fast.
        RateLimited = "rate-limited",
        /// Over a limit.
        TooLarge = "too-large",
        /// Server failure.
        Internal = "internal",
    }
);

wire_enum!(
    /// Inbox placement chosen at opt-in.
    Folder {
        /// A separate folder for third-party chats.
        Separate = "separate",
        /// One inbox.
        Combined = "combined",
    }
);

wire_enum!(
    /// `<iq>` types.
    IqType {
        /// Read.
        Get = "get",
        /// Write.
        Set = "set",
        /// Success answer.
        Result = "result",
        /// Error answer.
        Error = "error",
    }
);

/// The single child of an `<iq>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IqPayload {
    /// No child (a bare result).
    Empty,
    /// `<keys>`: a KeyUpload protobuf.
    Keys(Vec<u8>),
    /// `<count/>` (request) or `<count n/>` (answer).
    Count(Option<u32>),
    /// `<bundle of/>` request.
    BundleRequest(Peer),
    /// `<bundle of>`: a PreKeyBundle protobuf.
    Bundle(Peer, Vec<u8>),
    /// `<optin provider folder/>`.
    OptIn {
        /// The provider.
        provider: String,
        /// Folder choice.
        folder: Folder,
    },
    /// `<optout provider/>`.
    OptOut {
        /// The provider.
        provider: String,
    },
    /// `<optins/>` request.
    OptInsRequest,
    /// `<optins>` answer: (provider, folder, opted in).
    OptIns(Vec<(String, Folder, bool)>),
    /// `<block who/>`.
    Block(Peer),
    /// `<unblock who/>`.
    Unblock(Peer),
    /// `<report who [id]/>`.
    Report(Peer, Option<String>),
    /// `<ping/>`.
    Ping,
    /// `<error code [retry-after]/>`.
    Error(ErrorCode, Option<u64>),
}

/// Notices pushed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerNotice {
    /// Few one-time prekeys remain.
    PrekeysLow(u32),
    /// A gatekeeper user opted out: the chat is read-only.
    ReadOnly(Peer),
}

/// One stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Stanza {
    Auth {
        id: String,
        user: String,
        token: Option<String>,
        password: Option<String>,
    },
    Success {
        id: String,
        user: Peer,
        session: String,
        prekeys: u32,
    },
    Failure {
        id: String,
        code: ErrorCode,
    },
    /// `to` is set client → server, `from` and `ts` server → client.
    Message {
        id: String,
        to: Option<Peer>,
        from: Option<Peer>,
        kind: CipherKind,
        ts: Option<i64>,
        body: Vec<u8>,
    },
    Receipt {
        id: String,
        to: Option<Peer>,
        from: Option<Peer>,
        kind: ReceiptKind,
        ts: Option<i64>,
    },
    ChatState {
        to: Option<Peer>,
        from: Option<Peer>,
        state: ChatStateKind,
    },
    /// Server → client: stored (`ts`); client → server: the pushed message
    /// from `from` is stored.
    Ack {
        id: String,
        from: Option<Peer>,
        ts: Option<i64>,
    },
    Nack {
        id: String,
        code: ErrorCode,
        retry_after: Option<u64>,
    },
    Iq {
        id: String,
        kind: IqType,
        payload: IqPayload,
    },
    Notice(ServerNotice),
    StreamError(ErrorCode),
}

fn bad(element: &str, reason: impl Into<String>) -> WireError {
    WireError::Stanza {
        element: element.to_owned(),
        reason: reason.into(),
    }
}

fn req<'a>(el: &'a Element, attr: &str) -> Result<&'a str, WireError> {
    el.get(attr)
        .ok_or_else(|| bad(&el.name, format!("missing attribute {attr}")))
}

fn id_attr(el: &Element) -> Result<String, WireError> {
    let id = req(el, "id")?;
    if valid_id(id) {
        Ok(id.to_owned())
    } else {
        Err(bad(&el.name, "bad id"))
    }
}

/// Whether a string is a valid stanza or message id.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn parse_enum<T: FromStr>(el: &Element, attr: &str) -> Result<T, WireError> {
    req(el, attr)?
        .parse()
        .map_err(|_| bad(&el.name, format!("bad value of {attr}")))
}

fn peer_attr(el: &Element, attr: &str) -> Result<Option<Peer>, WireError> {
    el.get(attr)
        .map(|v| Peer::parse(v).map_err(|e| bad(&el.name, format!("{attr}: {e}"))))
        .transpose()
}

fn req_peer(el: &Element, attr: &str) -> Result<Peer, WireError> {
    peer_attr(el, attr)?.ok_or_else(|| bad(&el.name, format!("missing attribute {attr}")))
}

fn num_attr<T: FromStr>(el: &Element, attr: &str) -> Result<Option<T>, WireError> {
    el.get(attr)
        .map(|v| {
            v.parse()
                .map_err(|_| bad(&el.name, format!("bad number {attr}")))
        })
        .transpose()
}

fn b64_text(el: &Element) -> Result<Vec<u8>, WireError> {
    B64.decode(el.text.trim())
        .map_err(|_| bad(&el.name, "bad base64"))
}

fn provider_attr(el: &Element) -> Result<String, WireError> {
    let p = req(el, "provider")?;
    let ok = !p.is_empty()
        && p.len() <= 64
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
    if ok {
        Ok(p.to_owned())
    } else {
        Err(bad(&el.name, "bad provider"))
    }
}

impl IqPayload {
    fn decode(el: &Element) -> Result<Self, WireError> {
        Ok(match el.name.as_str() {
            "keys" => IqPayload::Keys(b64_text(el)?),
            "count" => IqPayload::Count(num_attr(el, "n")?),
            "bundle" if el.text.is_empty() => IqPayload::BundleRequest(req_peer(el, "of")?),
            "bundle" => IqPayload::Bundle(req_peer(el, "of")?, b64_text(el)?),
            "optin" => IqPayload::OptIn {
                provider: provider_attr(el)?,
                folder: match el.get("folder") {
                    None => Folder::Separate,
                    Some(_) => parse_enum(el, "folder")?,
                },
            },
            "optout" => IqPayload::OptOut {
                provider: provider_attr(el)?,
            },
            "optins" if el.children.is_empty() => IqPayload::OptInsRequest,
            "optins" => IqPayload::OptIns(
                el.children
                    .iter()
                    .map(|c| {
                        let state = req(c, "state")?;
                        Ok((
                            provider_attr(c)?,
                            parse_enum(c, "folder")?,
                            match state {
                                "in" => true,
                                "out" => false,
                                _ => return Err(bad("optin", "bad state")),
                            },
                        ))
                    })
                    .collect::<Result<_, WireError>>()?,
            ),
            "block" => IqPayload::Block(req_peer(el, "who")?),
            "unblock" => IqPayload::Unblock(req_peer(el, "who")?),
            "report" => IqPayload::Report(
                req_peer(el, "who")?,
                match el.get("id") {
                    Some(id) if valid_id(id) => Some(id.to_owned()),
                    Some(_) => return Err(bad("report", "bad id")),
                    None => None,
                },
            ),
            "ping" => IqPayload::Ping,
            "error" => IqPayload::Error(parse_enum(el, "code")?, num_attr(el, "retry-after")?),
            other => return Err(bad("iq", format!("unknown child <{other}>"))),
        })
    }

    fn encode(&self) -> Option<Element> {
        Some(match self {
            IqPayload::Empty => return None,
            IqPayload::Keys(b) => Element::new("keys").with_text(B64.encode(b)),
            IqPayload::Count(n) => Element::new("count").attr_opt("n", n.map(|n| n.to_string())),
            IqPayload::BundleRequest(p) => Element::new("bundle").attr("of", p.to_string()),
            IqPayload::Bundle(p, b) => Element::new("bundle")
                .attr("of", p.to_string())
                .with_text(B64.encode(b)),
            IqPayload::OptIn { provider, folder } => Element::new("optin")
                .attr("provider", provider.as_str())
                .attr("folder", folder.as_str()),
            IqPayload::OptOut { provider } => {
                Element::new("optout").attr("provider", provider.as_str())
            }
            IqPayload::OptInsRequest => Element::new("optins"),
            IqPayload::OptIns(list) => {
                let mut el = Element::new("optins");
                for (p, f, on) in list {
                    el = el.child(
                        Element::new("optin")
                            .attr("provider", p.as_str())
                            .attr("folder", f.as_str())
                            .attr("state", if *on { "in" } else { "out" }),
                    );
                }
                el
            }
            IqPayload::Block(p) => Element::new("block").attr("who", p.to_string()),
            IqPayload::Unblock(p) => Element::new("unblock").attr("who", p.to_string()),
            IqPayload::Report(p, id) => Element::new("report")
                .attr("who", p.to_string())
                .attr_opt("id", id.clone()),
            IqPayload::Ping => Element::new("ping"),
            IqPayload::Error(code, retry) => Element::new("error")
                .attr("code", code.as_str())
                .attr_opt("retry-after", retry.map(|r| r.to_string())),
        })
    }
}

impl Stanza {
    /// Decodes a frame body.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        Self::from_element(&Element::parse(bytes)?)
    }

    /// Encodes to a frame body.
    pub fn encode(&self) -> Vec<u8> {
        self.to_element().to_xml().into_bytes()
    }

    /// From a parsed element.
    pub fn from_element(el: &Element) -> Result<Self, WireError> {
        Ok(match el.name.as_str() {
            "auth" => Stanza::Auth {
                id: id_attr(el)?,
                user: req(el, "user")?.to_owned(),
                token: el.get("token").map(str::to_owned),
                password: el.get("password").map(str::to_owned),
            },
            "success" => Stanza::Success {
                id: id_attr(el)?,
                user: req_peer(el, "user")?,
                session: req(el, "session")?.to_owned(),
                prekeys: num_attr(el, "prekeys")?.unwrap_or(0),
            },
            "failure" => Stanza::Failure {
                id: id_attr(el)?,
                code: parse_enum(el, "code")?,
            },
            "message" => {
                let s = Stanza::Message {
                    id: id_attr(el)?,
                    to: peer_attr(el, "to")?,
                    from: peer_attr(el, "from")?,
                    kind: parse_enum(el, "type")?,
                    ts: num_attr(el, "ts")?,
                    body: b64_text(el)?,
                };
                if let Stanza::Message {
                    to: None,
                    from: None,
                    ..
                } = s
                {
                    return Err(bad("message", "neither to nor from"));
                }
                s
            }
            "receipt" => Stanza::Receipt {
                id: id_attr(el)?,
                to: peer_attr(el, "to")?,
                from: peer_attr(el, "from")?,
                kind: parse_enum(el, "type")?,
                ts: num_attr(el, "ts")?,
            },
            "chatstate" => Stanza::ChatState {
                to: peer_attr(el, "to")?,
                from: peer_attr(el, "from")?,
                state: parse_enum(el, "state")?,
            },
            "ack" => Stanza::Ack {
                id: id_attr(el)?,
                from: peer_attr(el, "from")?,
                ts: num_attr(el, "ts")?,
            },
            "nack" => Stanza::Nack {
                id: id_attr(el)?,
                code: parse_enum(el, "code")?,
                retry_after: num_attr(el, "retry-after")?,
            },
            "iq" => {
                if el.children.len() > 1 {
                    return Err(bad("iq", "more than one child"));
                }
                Stanza::Iq {
                    id: id_attr(el)?,
                    kind: parse_enum(el, "type")?,
                    payload: match el.children.first() {
                        Some(c) => IqPayload::decode(c)?,
                        None => IqPayload::Empty,
                    },
                }
            }
            "notice" => Stanza::Notice(match req(el, "kind")? {
                "prekeys-low" => ServerNotice::PrekeysLow(num_attr(el, "remaining")?.unwrap_or(0)),
                "read-only" => ServerNotice::ReadOnly(req_peer(el, "who")?),
                _ => return Err(bad("notice", "unknown kind")),
            }),
            "error" => Stanza::StreamError(parse_enum(el, "code")?),
            other => return Err(WireError::UnknownStanza(other.to_owned())),
        })
    }

    /// To an element.
    pub fn to_element(&self) -> Element {
        let peer = |p: &Option<Peer>| p.as_ref().map(|p| p.to_string());
        match self {
            Stanza::Auth {
                id,
                user,
                token,
                password,
            } => Element::new("auth")
                .attr("id", id.as_str())
                .attr("user", user.as_str())
                .attr_opt("token", token.clone())
                .attr_opt("password", password.clone()),
            Stanza::Success {
                id,
                user,
                session,
                prekeys,
            } => Element::new("success")
                .attr("id", id.as_str())
                .attr("user", user.to_string())
                .attr("session", session.as_str())
                .attr("prekeys", prekeys.to_string()),
            Stanza::Failure { id, code } => Element::new("failure")
                .attr("id", id.as_str())
                .attr("code", code.as_str()),
            Stanza::Message {
                id,
                to,
                from,
                kind,
                ts,
                body,
            } => Element::new("message")
                .attr("id", id.as_str())
                .attr_opt("to", peer(to))
                .attr_opt("from", peer(from))
                .attr("type", kind.as_str())
                .attr_opt("ts", ts.map(|t| t.to_string()))
                .with_text(B64.encode(body)),
            Stanza::Receipt {
                id,
                to,
                from,
                kind,
                ts,
            } => Element::new("receipt")
                .attr("id", id.as_str())
                .attr_opt("to", peer(to))
                .attr_opt("from", peer(from))
                .attr("type", kind.as_str())
                .attr_opt("ts", ts.map(|t| t.to_string())),
            Stanza::ChatState { to, from, state } => Element::new("chatstate")
                .attr_opt("to", peer(to))
                .attr_opt("from", peer(from))
                .attr("state", state.as_str()),
            Stanza::Ack { id, from, ts } => Element::new("ack")
                .attr("id", id.as_str())
                .attr_opt("from", peer(from))
                .attr_opt("ts", ts.map(|t| t.to_string())),
            Stanza::Nack {
                id,
                code,
                retry_after,
            } => Element::new("nack")
                .attr("id", id.as_str())
                .attr("code", code.as_str())
                .attr_opt("retry-after", retry_after.map(|r| r.to_string())),
            Stanza::Iq { id, kind, payload } => {
                let el = Element::new("iq")
                    .attr("id", id.as_str())
                    .attr("type", kind.as_str());
                match payload.encode() {
                    Some(c) => el.child(c),
                    None => el,
                }
            }
            Stanza::Notice(n) => match n {
                ServerNotice::PrekeysLow(r) => Element::new("notice")
                    .attr("kind", "prekeys-low")
                    .attr("remaining", r.to_string()),
                ServerNotice::ReadOnly(p) => Element::new("notice")
                    .attr("kind", "read-only")
                    .attr("who", p.to_string()),
            },
            Stanza::StreamError(code) => Element::new("error").attr("code", code.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> Peer {
        Peer::parse(s).expect("valid address")
    }

    #[test]
    fn every_stanza_round_trips() {
        let all = vec![
            Stanza::Auth {
                id: "1".into(),
                user: "koine:alice".into(),
                token: Some("t&<".into()),
                password: None,
            },
            Stanza::Success {
                id: "1".into(),
                user: peer("+4915112345678"),
                session: "s".into(),
                prekeys: 7,
            },
            Stanza::Failure {
                id: "1".into(),
                code: ErrorCode::NotAuthorized,
            },
            Stanza::Message {
                id: "m-1".into(),
                to: Some(peer("koine:bob")),
                from: None,
                kind: CipherKind::PreKey,
                ts: None,
                body: vec![0, 1, 2, 255],
            },
            Stanza::Message {
                id: "m-1".into(),
                to: None,
                from: Some(peer("+4915112345678")),
                kind: CipherKind::Whisper,
                ts: Some(1_700_000_000_000),
                body: vec![],
            },
            Stanza::Receipt {
                id: "m-1".into(),
                to: Some(peer("koine:bob")),
                from: None,
                kind: ReceiptKind::Read,
                ts: None,
            },
            Stanza::ChatState {
                to: None,
                from: Some(peer("koine:bob")),
                state: ChatStateKind::Composing,
            },
            Stanza::Ack {
                id: "m-1".into(),
                from: None,
                ts: Some(5),
            },
            Stanza::Nack {
                id: "m-1".into(),
                code: ErrorCode::RateLimited,
                retry_after: Some(250),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Set,
                payload: IqPayload::Keys(vec![9; 40]),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Get,
                payload: IqPayload::BundleRequest(peer("+4915112345678")),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Result,
                payload: IqPayload::Bundle(peer("+4915112345678"), vec![1, 2, 3]),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Result,
                payload: IqPayload::OptIns(vec![
                    ("koine".into(), Folder::Combined, true),
                    ("other".into(), Folder::Separate, false),
                ]),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Error,
                payload: IqPayload::Error(ErrorCode::NotOptedIn, None),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Set,
                payload: IqPayload::Report(peer("koine:x"), Some("m-2".into())),
            },
            Stanza::Iq {
                id: "q".into(),
                kind: IqType::Result,
                payload: IqPayload::Empty,
            },
            Stanza::Notice(ServerNotice::PrekeysLow(3)),
            Stanza::Notice(ServerNotice::ReadOnly(peer("+4915112345678"))),
            Stanza::StreamError(ErrorCode::TooLarge),
        ];
        for s in all {
            assert_eq!(Stanza::decode(&s.encode()), Ok(s.clone()), "{s:?}");
        }
    }

    #[test]
    fn unknown_is_told_apart_from_malformed() {
        assert_eq!(
            Stanza::decode(b"<presence/>"),
            Err(WireError::UnknownStanza("presence".into()))
        );
        let malformed: &[&[u8]] = &[
            b"<message id='1' type='msg'>AAAA</message>",
            b"<message id='1' to='koine:b' type='weird'>AAAA</message>",
            b"<message id='1' to='koine:b' type='msg'>not base64!</message>",
            b"<message id='bad id' to='koine:b' type='msg'>AAAA</message>",
            b"<message id='1' to='nobody' type='msg'>AAAA</message>",
            b"<message id='1' to='+0123' type='msg'>AAAA</message>",
            b"<ack/>",
            b"<nack id='1' code='nope'/>",
            b"<iq id='1' type='get'><bundle/></iq>",
            b"<iq id='1' type='get'><ping/><ping/></iq>",
            b"<iq id='1' type='get'><teleport/></iq>",
            b"<iq id='1' type='set'><optin provider='Bad Provider'/></iq>",
            b"<receipt id='1' to='koine:b' type='seen'/>",
            b"<success id='1' user='koine:a' session='s' prekeys='-1'/>",
            b"<notice kind='weather'/>",
        ];
        for input in malformed {
            match Stanza::decode(input) {
                Err(WireError::Stanza { .. }) => {}
                other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
            }
        }
    }
}
