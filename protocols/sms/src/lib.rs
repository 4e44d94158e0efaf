//! Koine plugin for SMS through the user's own Android phone.
//!
//! [`SmsRelay`] is the plugin. An account picks one backend:
//!
//! - **KDE Connect** (primary, protocols 7 and 8): the phone runs the KDE
//!   Connect app; this computer connects to it by address, pairs with a
//!   verification key the user compares, pins the phone's certificate, and
//!   sends and reads SMS/MMS with the `kdeconnect.sms.*` packets.
//! - **SMSGate** (secondary): the android-sms-gateway app's local REST API,
//!   with delivery state and signed webhooks for incoming messages.
//!
//! The route is always: your computer → your phone (its device name; LAN TLS
//! with a pinned certificate, or HTTP for SMSGate) → the mobile carrier →
//! the recipient. There is no end-to-end encryption: the carrier reads every
//! SMS, and [`koine_api::Route::protection`] says
//! [`koine_api::Protection::Exposed`].
//!
//! [`sim`] holds the simulated phone used by the tests and by the
//! `koine-phone-sim` binary.

#![deny(missing_docs)]
// Everything here parses what a phone or the LAN sends: no slicing,
// indexing or arithmetic that can panic or wrap on hostile input.
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

pub mod conversation;
pub mod error;
pub mod kdeconnect;
pub mod phone;
pub mod route;
pub mod settings;
pub mod sim;
pub mod smsgate;

use koine_api::{
    AccountField, Address, AddressError, Capabilities, FieldKind, Label, Protocol, ProtocolId,
    ProtocolInfo, SessionContext, SessionFuture,
};
use settings::Backend;

/// The SMS relay plugin.
///
/// `region` is the default region for numbers typed without a country code
/// (an account's own `region` setting wins in sessions).
#[derive(Debug, Clone)]
pub struct SmsRelay {
    region: String,
}

impl Default for SmsRelay {
    fn default() -> Self {
        Self {
            region: phone::DEFAULT_REGION.to_owned(),
        }
    }
}

impl SmsRelay {
    /// The plugin, with `region` (ISO 3166, e.g. `FR`, `US`) for national
    /// numbers typed in the UI; an unknown code falls back to `FR`.
    pub fn new(region: &str) -> Self {
        if phone::valid_region(region) {
            Self {
                region: region.to_ascii_uppercase(),
            }
        } else {
            Self::default()
        }
    }
}

fn field(
    key: &str,
    label: &str,
    kind: FieldKind,
    required: bool,
    default: Option<&str>,
) -> AccountField {
    AccountField {
        key: key.into(),
        label: Label::new(format!("sms-field-{key}").replace('_', "-"), label),
        kind,
        required,
        default: default.map(str::to_owned),
    }
}

impl Protocol for SmsRelay {
    fn info(&self) -> ProtocolInfo {
        let mut capabilities = Capabilities::text_only();
        capabilities.group_chats = true;
        capabilities.delivery_receipts = true;
        capabilities.history = true;
        capabilities.max_attachment_bytes = Some(kdeconnect::session::MAX_MMS_BYTES);
        ProtocolInfo {
            id: ProtocolId::new("sms"),
            name: "SMS".into(),
            capabilities,
            account_fields: vec![
                field(
                    "backend",
                    "Connection",
                    FieldKind::Choice(vec!["kdeconnect".into(), "smsgate".into()]),
                    true,
                    Some("kdeconnect"),
                ),
                field(
                    "phone_address",
                    "Phone address (KDE Connect)",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "device_name",
                    "This computer's name",
                    FieldKind::Text,
                    false,
                    Some("Koine"),
                ),
                // The form says it: with http://, the password and the
                // webhook key cross the LAN unencrypted.
                field(
                    "url",
                    "SMSGate URL (with http://, the password and webhook key cross your network unencrypted; use https://)",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "certificate_fingerprint",
                    "SMSGate certificate SHA-256 (https://; asked on first connection if empty)",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "username",
                    "SMSGate user",
                    FieldKind::Text,
                    false,
                    Some("sms"),
                ),
                field(
                    "password",
                    "SMSGate password",
                    FieldKind::Secret,
                    false,
                    None,
                ),
                field(
                    "region",
                    "Default region",
                    FieldKind::Text,
                    false,
                    Some(phone::DEFAULT_REGION),
                ),
                field(
                    "own_number",
                    "Your phone number",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "sub_id",
                    "SIM (dual-SIM phones)",
                    FieldKind::Number,
                    false,
                    None,
                ),
            ],
            account_label: Label::new("sms-field-phone-address", "Phone"),
            face: koine_api::Face {
                badge: Some(std::borrow::Cow::Borrowed(include_bytes!(
                    "../../../assets/badges/sms.svg"
                ))),
                about: Some(Label::new(
                    "sms-about",
                    "Your own phone, paired on your network with KDE Connect, or SMSGate; the carrier can read every SMS.",
                )),
                translations: vec![
                    koine_api::Translation::embedded(
                        "en",
                        include_str!("../../../i18n/en/koine-sms.ftl"),
                    ),
                    koine_api::Translation::embedded(
                        "fr",
                        include_str!("../../../i18n/fr/koine-sms.ftl"),
                    ),
                ],
            },
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
        // A short code can be answered (`STOP`); other text is refused, as
        // a typo is likelier than an alphanumeric sender one writes to.
        match phone::normalize(input, &self.region) {
            Ok(number) => Ok(Address::Phone(number)),
            Err(e) => phone::short_code(input).ok_or(e),
        }
    }

    fn run(&self, context: SessionContext) -> SessionFuture {
        Box::pin(async move {
            match settings::backend(&context.settings)? {
                Backend::KdeConnect => {
                    let s = settings::KdeSettings::from_settings(&context.settings)?;
                    kdeconnect::session::run(context, s).await
                }
                Backend::SmsGate => {
                    let s = settings::GateSettings::from_settings(&context.settings)?;
                    smsgate::session::run(context, s).await
                }
            }
        })
    }
}
