//! Entry points for the fuzz targets in `fuzz/` at the repository root: every
//! reader of what a peer or a server sends after login, fed from one string.
//! Not part of the plugin's API; the functions only read and drop.

use crate::chat::{self, Context};
use crate::route::Routes;
use crate::{blocking, discovery, mam, muc, ns, oob, pep, roster, vcard};
use crate::{http::HttpsUrl, omemo};
use koine_api::{Direction, Timestamp, TlsVersion};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::message::Message;

/// The account that reads the fuzzed stanzas.
const OWN: &str = "me@a.example";

/// Text a peer controls that is read as a link or an address: URLs of
/// out-of-band data and uploads, `aesgcm://` links, the file links of a
/// decrypted body, room addresses.
pub fn text(input: &str) {
    let _ = HttpsUrl::parse(input);
    let _ = omemo::aesgcm::parse(input);
    let _ = omemo::receive::file_links(input).count();
    let _ = oob::download_url(input);
    let _ = oob::mime_of(input);
    let _ = muc::parse_room(input, "me");
    let payloads = [oob::element(input)];
    let _ = oob::read(&payloads, input);
}

/// One stanza or element, as the session would get it after login: every
/// reader that may see it (messages, carbons, archive results, rooms, OMEMO,
/// out-of-band data, roster, vCards, disco and PEP answers).
pub fn stanza(input: &str) {
    let Ok(el) = input.parse::<Element>() else {
        return;
    };
    elements(&el);
    if let Ok(m) = Message::try_from(el) {
        message(&m, 0);
    }
}

fn elements(el: &Element) {
    let _ = roster::parse_query(el);
    let _ = vcard::parse_vcard4(el);
    let _ = vcard::parse_vcard_temp(el);
    if let Some(card) = vcard::vcard4_of(el) {
        let _ = vcard::parse_vcard4(card);
    }
    let _ = discovery::gateway_of(el);
    let _ = blocking::reporting_of(el);
    let _ = pep::fetched(el);
    let _ = pep::first_item(el, omemo::wire::NS);
    let _ = omemo::wire::read_device_list(el);
    let _ = omemo::wire::read_bundle(el);
    let payloads = [el.clone()];
    let _ = omemo::wire::event_device_list(&payloads);
    let _ = omemo::wire::read_encrypted(&payloads);
    let _ = chat::delay_of(el);
}

/// Reads `m` as a live chat message, a carbon, an archive result, a room
/// message; `depth` bounds the forwarded messages followed.
fn message(m: &Message, depth: u8) {
    let routes = Routes::new("a.example", TlsVersion::Tls13, false);
    for archived_at in [None, Some(Timestamp(1_700_000_000_000))] {
        for server_may_date in [false, true] {
            let cx = Context {
                own: OWN,
                routes: &routes,
                archived_at,
                server_may_date,
            };
            let _ = chat::read(m, Direction::Incoming, &cx);
            let _ = chat::read(m, Direction::Outgoing, &cx);
        }
    }
    let _ = chat::live_time(m, None);
    let _ = chat::remote_id_of(m);
    let _ = chat::stanza_id_of(m, Some(OWN));
    if let Some(room) = m.from.as_ref().map(|f| f.to_bare().to_string()) {
        let _ = muc::read_room_message(m, &room, "me", None, &routes);
        let _ = chat::live_time(m, Some(&room));
    }
    let _ = muc::author(m, true);
    let _ = muc::author(m, false);
    let _ = muc::is_groupchat(m);
    let _ = mam::is_result(m);
    let _ = omemo::wire::read_encrypted(&m.payloads);
    for body in m.bodies.values() {
        let _ = oob::read(&m.payloads, body);
        let _ = omemo::receive::file_links(body).count();
    }
    if depth >= 2 {
        return;
    }
    let depth = depth.saturating_add(1);
    if let Some(Ok((inner, _))) = chat::unwrap_carbon(m, OWN) {
        message(&inner, depth);
    }
    for result in m.payloads.iter().filter(|p| p.is("result", ns::MAM)) {
        if let Ok(inner) = chat::forwarded_message(result) {
            message(&inner, depth);
        }
    }
}
