//! The SMSGate backend: the local REST API of the android-sms-gateway app
//! ([`api`]), over a small HTTP client ([`http`]), and the plugin session
//! ([`session`]): sends with delivery-state polling, incoming messages and
//! delivery reports through signed webhooks.

pub mod api;
pub mod http;
pub mod pin;
pub mod session;
