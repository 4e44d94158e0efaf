//! Contacts' profiles: the phone numbers and e-mail addresses a contact's
//! vCard lists, reported as [`Event::ProfileLearned`] so the engine can
//! suggest that two addresses belong to one person.
//!
//! The vCard4 PEP node (XEP-0292) is asked first; when the contact has none,
//! or the server refuses, the older vcard-temp (XEP-0054) is asked. Each
//! contact is asked once per session: after the roster arrives, and when a
//! contact is added. Profiles are public data the contact chose to publish;
//! nothing is merged without the user.

use crate::error::XmppError;
use crate::session::{PendingIq, Session};
use koine_api::{Address, Event, Jid, PhoneNumber, Profile};
use tokio_xmpp::jid::Jid as XJid;
use tokio_xmpp::minidom::Element;

/// The vCard4 PEP node.
pub const VCARD4_NODE: &str = "urn:xmpp:vcard4";
/// The vCard4 XML namespace.
pub const VCARD4: &str = "urn:ietf:params:xml:ns:vcard-4.0";
/// The vcard-temp namespace.
pub const VCARD_TEMP: &str = "vcard-temp";
/// At most this many profiles are asked for at login, so a huge roster does
/// not flood the server; the rest are asked when those contacts change.
pub const PER_LOGIN: usize = 500;
/// Longer identifiers are not real ones.
const MAX_LEN: usize = 254;

/// Which profile form a pending query asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// XEP-0292 over PEP.
    Vcard4,
    /// XEP-0054.
    VcardTemp,
}

/// What a vCard lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listed {
    /// International numbers (national ones cannot be placed and are left out).
    pub phones: Vec<PhoneNumber>,
    /// E-mail addresses.
    pub emails: Vec<String>,
}

impl Listed {
    fn add_phone(&mut self, text: &str) {
        let number = text.trim();
        let number = number.strip_prefix("tel:").unwrap_or(number);
        // `tel:` URIs may carry parameters (`;ext=12`).
        let number = number.split(';').next().unwrap_or_default();
        if number.len() > MAX_LEN {
            return;
        }
        if let Ok(p) = PhoneNumber::parse(number)
            && !self.phones.contains(&p)
        {
            self.phones.push(p);
        }
    }

    fn add_email(&mut self, text: &str) {
        let email = text.trim();
        let email = email.strip_prefix("mailto:").unwrap_or(email);
        if email.is_empty() || email.len() > MAX_LEN || !email.contains('@') {
            return;
        }
        if !self.emails.iter().any(|e| e.eq_ignore_ascii_case(email)) {
            self.emails.push(email.to_owned());
        }
    }

    /// Whether nothing usable was found.
    pub fn is_empty(&self) -> bool {
        self.phones.is_empty() && self.emails.is_empty()
    }
}

/// The vcard-temp query.
pub fn vcard_temp_query() -> Element {
    Element::builder("vCard", VCARD_TEMP).build()
}

/// The `<vcard/>` inside a PEP items result, if there is one.
pub fn vcard4_of(pubsub: &Element) -> Option<&Element> {
    crate::pep::fetched(pubsub).filter(|v| v.is("vcard", VCARD4))
}

/// Reads a vCard4 (`<tel><uri>tel:+…</uri></tel>`, `<email><text>…</text></email>`).
pub fn parse_vcard4(vcard: &Element) -> Listed {
    let mut listed = Listed::default();
    for tel in vcard.children().filter(|c| c.is("tel", VCARD4)) {
        for value in tel
            .children()
            .filter(|v| v.is("uri", VCARD4) || v.is("text", VCARD4))
        {
            listed.add_phone(&value.text());
        }
    }
    for email in vcard.children().filter(|c| c.is("email", VCARD4)) {
        for value in email.children().filter(|v| v.is("text", VCARD4)) {
            listed.add_email(&value.text());
        }
    }
    listed
}

/// Reads a vcard-temp (`<TEL><NUMBER/></TEL>`, `<EMAIL><USERID/></EMAIL>`).
pub fn parse_vcard_temp(vcard: &Element) -> Listed {
    let mut listed = Listed::default();
    for tel in vcard.children().filter(|c| c.is("TEL", VCARD_TEMP)) {
        if let Some(n) = tel.get_child("NUMBER", VCARD_TEMP) {
            listed.add_phone(&n.text());
        }
    }
    for email in vcard.children().filter(|c| c.is("EMAIL", VCARD_TEMP)) {
        if let Some(u) = email.get_child("USERID", VCARD_TEMP) {
            listed.add_email(&u.text());
        }
    }
    listed
}

impl Session {
    /// Asks for the profiles of the roster's contacts (at most
    /// [`PER_LOGIN`]) not yet asked in this session.
    pub(crate) async fn fetch_profiles(&mut self) -> Result<(), XmppError> {
        let mut jids: Vec<String> = self.roster.keys().cloned().collect();
        jids.sort();
        for jid in jids.into_iter().take(PER_LOGIN) {
            self.fetch_profile(&jid).await?;
        }
        Ok(())
    }

    /// Asks for one contact's profile, once per session.
    pub(crate) async fn fetch_profile(&mut self, jid: &str) -> Result<(), XmppError> {
        if !self.profiles_asked.insert(jid.to_owned()) {
            return Ok(());
        }
        let Ok(to) = jid.parse::<XJid>() else {
            return Ok(());
        };
        let pending = PendingIq::Profile {
            jid: jid.to_owned(),
            form: Form::Vcard4,
        };
        self.iq_get(Some(to), crate::pep::fetch(VCARD4_NODE), pending)
            .await?;
        Ok(())
    }

    /// A profile answer (`None` for an error or an empty answer).
    pub(crate) async fn on_profile(
        &mut self,
        jid: String,
        form: Form,
        payload: Option<Element>,
    ) -> Result<(), XmppError> {
        let listed = match (form, &payload) {
            (Form::Vcard4, Some(p)) => vcard4_of(p).map(parse_vcard4),
            (Form::VcardTemp, Some(p)) if p.is("vCard", VCARD_TEMP) => Some(parse_vcard_temp(p)),
            _ => None,
        };
        match (listed, form) {
            (Some(listed), _) if !listed.is_empty() => self.report_profile(&jid, listed).await,
            (None, Form::Vcard4) => {
                let Ok(to) = jid.parse::<XJid>() else {
                    return Ok(());
                };
                let pending = PendingIq::Profile {
                    jid,
                    form: Form::VcardTemp,
                };
                self.iq_get(Some(to), vcard_temp_query(), pending).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn report_profile(&mut self, jid: &str, listed: Listed) -> Result<(), XmppError> {
        let Ok(jid) = Jid::parse(jid) else {
            return Ok(());
        };
        self.events
            .emit(Event::ProfileLearned(Profile {
                address: Address::Jid(jid),
                phones: listed.phones,
                emails: listed.emails,
            }))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pep::PUBSUB;

    fn el(xml: &str) -> Element {
        xml.parse().expect("xml")
    }

    #[test]
    fn vcard4_numbers_and_addresses() {
        let pubsub = el(&format!(
            "<pubsub xmlns='{PUBSUB}'><items node='{VCARD4_NODE}'><item id='current'>\
             <vcard xmlns='{VCARD4}'><fn><text>Dora</text></fn>\
             <tel><parameters/><uri>tel:+33-6-12-34-56-78;ext=9</uri></tel>\
             <tel><text>06 11 22 33 44</text></tel>\
             <tel><uri>tel:+33612345678</uri></tel>\
             <email><text>dora@mail.example</text></email>\
             <email><text>nobody</text></email>\
             </vcard></item></items></pubsub>"
        ));
        let listed = parse_vcard4(vcard4_of(&pubsub).expect("vcard"));
        assert_eq!(
            listed.phones,
            vec![PhoneNumber::parse("+33612345678").expect("e164")],
            "one number once; the national one cannot be placed"
        );
        assert_eq!(listed.emails, vec!["dora@mail.example".to_owned()]);
    }

    #[test]
    fn vcard_temp_numbers_and_addresses() {
        let vcard = el(&format!(
            "<vCard xmlns='{VCARD_TEMP}'><FN>Erin</FN>\
             <TEL><CELL/><NUMBER>+44 7700 900123</NUMBER></TEL>\
             <EMAIL><INTERNET/><USERID>erin@mail.example</USERID></EMAIL>\
             </vCard>"
        ));
        let listed = parse_vcard_temp(&vcard);
        assert_eq!(
            listed.phones,
            vec![PhoneNumber::parse("+447700900123").expect("e164")]
        );
        assert_eq!(listed.emails, vec!["erin@mail.example".to_owned()]);
    }

    #[test]
    fn an_empty_or_foreign_answer_lists_nothing() {
        let pubsub = el(&format!(
            "<pubsub xmlns='{PUBSUB}'><items node='{VCARD4_NODE}'/></pubsub>"
        ));
        assert!(vcard4_of(&pubsub).is_none());
        let long = format!("+33{}", "1".repeat(300));
        let vcard = el(&format!(
            "<vCard xmlns='{VCARD_TEMP}'><TEL><NUMBER>{long}</NUMBER></TEL></vCard>"
        ));
        assert!(parse_vcard_temp(&vcard).is_empty());
    }
}
