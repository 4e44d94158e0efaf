//! The SMSGate backend: the local REST API of the android-sms-gateway app.

pub mod http;
