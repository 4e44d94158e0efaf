//! Koine plugin for gatekeeper interop (EU DMA) and its reference server
