//! The KDE Connect protocol (versions 7 and 8), written from its public
//! description: packets, identity and discovery, TLS with pinned
//! self-signed certificates, pairing, the SMS packets and payloads — and the
//! plugin session that uses them.

pub mod catch_up;
pub mod identity;
pub mod link;
pub mod packet;
pub mod payload;
pub mod session;
pub mod sms;
pub mod tls;

use crate::error::PacketError;
use packet::{Packet, kind};

/// A packet with its body decoded for the types this crate speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// `kdeconnect.identity`.
    Identity(identity::Identity),
    /// `kdeconnect.pair`.
    Pair(identity::Pair),
    /// `kdeconnect.sms.messages`.
    Messages(sms::Messages),
    /// `kdeconnect.sms.request`.
    Send(sms::SendRequest),
    /// `kdeconnect.sms.request_conversation`.
    RequestConversation(sms::RequestConversation),
    /// `kdeconnect.sms.request_attachment`.
    RequestAttachment(sms::RequestAttachment),
    /// `kdeconnect.sms.attachment_file`.
    AttachmentFile(sms::AttachmentFile),
    /// Any other type (kept undecoded; unknown types are ignored).
    Other(Packet),
}

/// Decodes one line down to its typed body: the whole decoder the fuzz
/// target drives.
pub fn decode_typed(line: &[u8]) -> Result<Typed, PacketError> {
    let p = Packet::decode(line)?;
    Ok(match p.kind.as_str() {
        kind::IDENTITY => Typed::Identity(identity::Identity::from_packet(&p)?),
        kind::PAIR => Typed::Pair(p.body_as()?),
        kind::SMS_MESSAGES => Typed::Messages(p.body_as()?),
        kind::SMS_REQUEST => Typed::Send(p.body_as()?),
        kind::SMS_REQUEST_CONVERSATION => Typed::RequestConversation(p.body_as()?),
        kind::SMS_REQUEST_ATTACHMENT => Typed::RequestAttachment(p.body_as()?),
        kind::SMS_ATTACHMENT_FILE => Typed::AttachmentFile(p.body_as()?),
        _ => Typed::Other(p),
    })
}
