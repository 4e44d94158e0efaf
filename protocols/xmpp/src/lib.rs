//! Koine plugin for XMPP
