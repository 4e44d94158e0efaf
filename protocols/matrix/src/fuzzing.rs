//! Entry points for the fuzz targets in `fuzz/` at the repository root: the
//! readers of what other room members, the homeserver and the browser send.
//! Not part of the plugin's API; the functions only read and drop.

use koine_api::{Attachment, AttachmentSource};
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::user_id;

/// An `mxc://` URI from a room member, and the attachment locators built on
/// it; an accepted URI must be made of its parts.
pub fn mxc(input: &str) {
    if let Some(parsed) = crate::mxc::parse(input) {
        assert_eq!(
            format!("mxc://{}/{}", parsed.server, parsed.media_id),
            input
        );
    }
    let _ = crate::mxc::is_valid(input);
    for locator in [
        input.to_owned(),
        format!("{}{input}", crate::media::ENCRYPTED_PREFIX),
    ] {
        let attachment = Attachment {
            name: input.to_owned(),
            mime: String::new(),
            size: 0,
            source: AttachmentSource::Remote(locator),
            sha256: None,
        };
        let _ = crate::media::source_of(&attachment);
    }
    let _ = crate::media::safe_name(input);
}

/// The head of a request to the single sign-on loopback listener.
pub fn sso_request(head: &[u8]) {
    let _ = crate::sso::login_token_of(head, "/koine/sign-in/00");
}

/// One timeline event as JSON, as a room member or the homeserver sent it,
/// converted as the session converts it (for two readers: the sender and
/// someone else).
pub fn timeline_event(json: &[u8]) {
    let Ok(raw) = serde_json::from_slice::<Box<serde_json::value::RawValue>>(json) else {
        return;
    };
    let event = TimelineEvent::from_plaintext(Raw::from_json(raw));
    let _ = crate::timeline::convert(&event, user_id!("@alice:a.example"));
    let _ = crate::timeline::convert(&event, user_id!("@bob:b.example"));
}
