//! The KDE Connect protocol (versions 7 and 8), written from its public
//! description: packets, identity and discovery, TLS with pinned
//! self-signed certificates, pairing, the SMS packets and payloads — and the
//! plugin session that uses them.

pub mod identity;
pub mod link;
pub mod packet;
pub mod payload;
pub mod session;
pub mod sms;
pub mod tls;
