//! Koine plugin for gatekeeper interop (EU DMA) and its reference server.
//!
//! - [`wire`]: the codecs of the open protocol in `PROTOCOL.md` (frames,
//!   stanzas, protobuf payloads, the Noise transport, minimal HTTP), shared
//!   by both sides.
//! - [`server`]: the reference gatekeeper server (binary
//!   `koine-gatekeeper-server`), gatekeeper and provider roles in one process.
//! - [`GatekeeperProtocol`]: the plugin, implementing [`koine_api::Protocol`].

#![deny(missing_docs)]
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod plugin;
pub mod server;
pub mod wire;

pub use plugin::GatekeeperProtocol;
