//! Wire codecs shared by the plugin and the reference server: frames,
//! stanzas, protobuf payloads, the Noise transport and a minimal HTTP/1.1.

pub mod address;
pub mod error;
pub mod frame;
pub mod http;
pub mod http_client;
pub mod noise;
pub mod proto;
pub mod stanza;
pub mod xml;

pub use address::Peer;
pub use error::WireError;
pub use frame::{FrameDecoder, MAX_FRAME, encode_frame};
pub use stanza::Stanza;
pub use xml::Element;
