//! History from the server archive (XEP-0313 MAM v2, paged with XEP-0059 RSM).
//!
//! - `FetchHistory` asks the archive for one conversation, newest page first
//!   (`<before/>`), or the page before a message whose archive id is known.
//!   The page is reported oldest first, de-duplicated by archive id and by
//!   remote id (origin-id / id), so a message seen live and in the archive
//!   keeps one identity.
//! - After a fresh login (no stream resumption), the whole archive after the
//!   last archive id seen is replayed as `MessageReceived`, page by page, so
//!   nothing sent while the app was closed is lost. The marker is kept in
//!   `mam.json` in the data directory.

use crate::chat;
use crate::error::XmppError;
use crate::ns;
use crate::session::{PendingIq, Session};
use crate::store;
use koine_api::{ConversationKey, Direction, Event, Notice, RemoteId, Timestamp};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::message::Message;

/// Page size of the catch-up replay.
const CATCH_UP_PAGE: u32 = 250;
/// How far back the first login of an account syncs the archive: every
/// message of the last 30 days lands in the store (and in search), as
/// desktop users expect from a new client; older ones come on demand.
const FIRST_SYNC_DAYS: i64 = 30;
const FIRST_SYNC_SECS: i64 = FIRST_SYNC_DAYS * 86_400;

/// What a query is for.
#[derive(Debug, Clone)]
pub enum Purpose {
    /// A page for `FetchHistory`, of at most this many archive entries.
    Page(ConversationKey, u32),
    /// The replay after a fresh login.
    CatchUp,
}

/// One query in flight.
#[derive(Debug, Clone)]
pub struct Query {
    /// Its query id.
    pub id: String,
    /// Why it was sent.
    pub purpose: Purpose,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Marker {
    last: Option<String>,
}

/// Archive bookkeeping of one session.
#[derive(Debug, Default)]
pub struct State {
    marker: Marker,
    dirty: bool,
    archive_ids: HashMap<String, String>,
    /// Per query: archive id, the archive's date, the message.
    collected: HashMap<String, Vec<(String, Option<Timestamp>, Message)>>,
}

impl State {
    const FILE: &'static str = "mam.json";

    /// Loads the marker.
    pub fn load(dir: &Path) -> Self {
        Self {
            marker: store::load(dir, Self::FILE),
            ..Default::default()
        }
    }

    /// Saves the marker if it moved.
    pub fn save(&mut self, dir: &Path) {
        if self.dirty {
            if let Err(e) = store::save(dir, Self::FILE, &self.marker) {
                tracing::warn!(error = %e, "could not save the archive marker");
            }
            self.dirty = false;
        }
    }

    /// A live message with archive id `archive_id` was seen.
    pub fn seen(&mut self, remote_id: &str, archive_id: &str) {
        self.archive_ids
            .insert(remote_id.to_owned(), archive_id.to_owned());
    }

    /// Everything up to `archive_id` is stored by the engine: the catch-up
    /// after the next login starts after it.
    pub fn advance(&mut self, archive_id: &str) {
        self.marker.last = Some(archive_id.to_owned());
        self.dirty = true;
    }
}

/// Whether `m` is a MAM result wrapper.
pub fn is_result(m: &Message) -> bool {
    m.payloads.iter().any(|p| p.is("result", ns::MAM))
}

/// The `<query/>` for everything archived since `start` (an XEP-0082
/// date-time), oldest first.
pub fn query_since(query_id: &str, start: &str, max: u32) -> Option<Element> {
    ns::element(&format!(
        "<query xmlns='{mam}' queryid='{qid}'><x xmlns='{data}' type='submit'>\
         <field var='FORM_TYPE' type='hidden'><value>{mam}</value></field>\
         <field var='start'><value>{start}</value></field></x>\
         <set xmlns='{rsm}'><max>{max}</max></set></query>",
        mam = ns::MAM,
        data = ns::DATA,
        rsm = ns::RSM,
        qid = ns::escape(query_id),
        start = ns::escape(start),
    ))
}

/// Unix seconds as an XEP-0082 UTC date-time (`2026-11-27T13:00:00Z`).
// No overflow: |days| <= 2^63 / 86 400 < 1.1e14, and no step multiplies a
// value derived from it by more than 400 (so every step stays below 2^53);
// the divisors are non-zero constants.
#[allow(clippy::arithmetic_side_effects)]
pub fn xep82(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// The `<query/>` element.
pub fn query_element(
    query_id: &str,
    with: Option<&str>,
    before: Option<Option<&str>>,
    after: Option<&str>,
    max: u32,
) -> Option<Element> {
    let with = with
        .map(|w| format!("<field var='with'><value>{}</value></field>", ns::escape(w)))
        .unwrap_or_default();
    let before = match before {
        Some(Some(id)) => format!("<before>{}</before>", ns::escape(id)),
        Some(None) => "<before/>".to_owned(),
        None => String::new(),
    };
    let after = after
        .map(|a| format!("<after>{}</after>", ns::escape(a)))
        .unwrap_or_default();
    ns::element(&format!(
        "<query xmlns='{mam}' queryid='{qid}'><x xmlns='{data}' type='submit'>\
         <field var='FORM_TYPE' type='hidden'><value>{mam}</value></field>{with}</x>\
         <set xmlns='{rsm}'><max>{max}</max>{before}{after}</set></query>",
        mam = ns::MAM,
        data = ns::DATA,
        rsm = ns::RSM,
        qid = ns::escape(query_id),
    ))
}

impl Session {
    /// Sends a `FetchHistory` query.
    pub(crate) async fn fetch_history(
        &mut self,
        conversation: ConversationKey,
        before: Option<RemoteId>,
        limit: u32,
    ) -> Result<(), XmppError> {
        let id = uuid::Uuid::new_v4().to_string();
        let before_archive = before
            .as_ref()
            .and_then(|b| self.mam.archive_ids.get(b.as_str()).cloned());
        let max = limit.clamp(1, 500);
        let Some(q) = query_element(
            &id,
            Some(conversation.as_str()),
            Some(before_archive.as_deref()),
            None,
            max,
        ) else {
            return Ok(());
        };
        self.mam.collected.insert(id.clone(), Vec::new());
        self.iq_set(
            None,
            q,
            PendingIq::Mam(Query {
                id,
                purpose: Purpose::Page(conversation, max),
            }),
        )
        .await?;
        Ok(())
    }

    async fn page_before(
        &mut self,
        conversation: ConversationKey,
        archive_id: &str,
        max: u32,
    ) -> Result<(), XmppError> {
        let id = uuid::Uuid::new_v4().to_string();
        let Some(q) = query_element(
            &id,
            Some(conversation.as_str()),
            Some(Some(archive_id)),
            None,
            max,
        ) else {
            return Ok(());
        };
        self.mam.collected.insert(id.clone(), Vec::new());
        self.iq_set(
            None,
            q,
            PendingIq::Mam(Query {
                id,
                purpose: Purpose::Page(conversation, max),
            }),
        )
        .await?;
        Ok(())
    }

    /// Starts the replay after a fresh login.
    pub(crate) async fn catch_up(&mut self) -> Result<(), XmppError> {
        let last = self.mam.marker.last.clone();
        self.catch_up_after(last).await
    }

    async fn catch_up_after(&mut self, after: Option<String>) -> Result<(), XmppError> {
        let id = uuid::Uuid::new_v4().to_string();
        let q = match &after {
            Some(a) => query_element(&id, None, None, Some(a), CATCH_UP_PAGE),
            // First login: the last FIRST_SYNC_DAYS, oldest first, page by
            // page (each next page asks after the newest one stored).
            None => {
                let start = koine_api::Timestamp::now()
                    .0
                    .div_euclid(1_000)
                    .saturating_sub(FIRST_SYNC_SECS);
                query_since(&id, &xep82(start), CATCH_UP_PAGE)
            }
        };
        let Some(q) = q else { return Ok(()) };
        self.mam.collected.insert(id.clone(), Vec::new());
        self.iq_set(
            None,
            q,
            PendingIq::Mam(Query {
                id,
                purpose: Purpose::CatchUp,
            }),
        )
        .await?;
        Ok(())
    }

    /// A `<result/>` message arrived.
    pub(crate) async fn on_mam_result(&mut self, m: Message) -> Result<(), XmppError> {
        let from_ok = m.from.as_ref().is_none_or(|f| f.as_str() == self.own);
        let Some(result) = m.payloads.iter().find(|p| p.is("result", ns::MAM)) else {
            return Ok(());
        };
        let (Some(qid), Some(archive_id)) = (result.attr("queryid"), result.attr("id")) else {
            return self.notice_malformed("MAM result without ids".into()).await;
        };
        if !from_ok || !self.mam.collected.contains_key(qid) {
            return self
                .notice_malformed("MAM result for no query of ours".into())
                .await;
        }
        // The archive's own date, not one the sender put in the message.
        let archived_at = result
            .get_child("forwarded", ns::FORWARD)
            .and_then(chat::delay_of);
        match chat::forwarded_message(result) {
            Ok(inner) => {
                if let Some(list) = self.mam.collected.get_mut(qid) {
                    list.push((archive_id.to_owned(), archived_at, inner));
                }
                Ok(())
            }
            Err(e) => self.notice_malformed(format!("MAM result: {e}")).await,
        }
    }

    pub(crate) async fn mam_failed(&mut self, q: Query) -> Result<(), XmppError> {
        self.mam.collected.remove(&q.id);
        self.events
            .emit(Event::Notice(Notice::Unsupported {
                feature: "mam".into(),
            }))
            .await?;
        if let Purpose::Page(conversation, _) = q.purpose {
            self.events
                .emit(Event::HistoryPage {
                    conversation,
                    messages: Vec::new(),
                    more: false,
                })
                .await?;
        }
        Ok(())
    }

    /// The `<fin/>` of a query arrived.
    pub(crate) async fn mam_done(
        &mut self,
        q: Query,
        payload: Option<Element>,
    ) -> Result<(), XmppError> {
        let collected = self.mam.collected.remove(&q.id).unwrap_or_default();
        let fin = payload.filter(|p| p.is("fin", ns::MAM));
        let complete = fin
            .as_ref()
            .is_some_and(|f| matches!(f.attr("complete"), Some("true") | Some("1")));
        let set = fin.as_ref().and_then(|f| f.get_child("set", ns::RSM));
        let last = set
            .and_then(|s| s.get_child("last", ns::RSM))
            .map(|l| l.text());
        let first = set
            .and_then(|s| s.get_child("first", ns::RSM))
            .map(|l| l.text());

        let routes = self.routes.clone();
        let own = self.own.clone();
        let mut seen_archive = HashSet::new();
        let mut seen_remote = HashSet::new();
        let mut messages = Vec::new();
        let mut others = Vec::new();
        let mut newest_archive = None;
        for (archive_id, archived_at, inner) in collected {
            if !seen_archive.insert(archive_id.clone()) {
                continue;
            }
            let direction = if inner
                .from
                .as_ref()
                .is_some_and(|f| f.to_bare().as_str() == own)
            {
                Direction::Outgoing
            } else {
                Direction::Incoming
            };
            let sender = match direction {
                Direction::Outgoing => own.clone(),
                Direction::Incoming => inner
                    .from
                    .as_ref()
                    .map(|f| f.to_bare().to_string())
                    .unwrap_or_default(),
            };
            let Some((inner, encrypted)) = self.omemo_open(inner, &sender).await? else {
                continue;
            };
            let cx = chat::Context {
                own: &own,
                routes: &routes,
                archived_at: Some(archived_at.unwrap_or_else(Timestamp::now)),
                server_may_date: false,
            };
            let mut reading = match chat::read(&inner, direction, &cx) {
                Ok(r) => r,
                Err(e) => {
                    self.notice_malformed(format!("archived message: {e}"))
                        .await?;
                    continue;
                }
            };
            if direction == Direction::Incoming {
                self.name_by_server(&mut reading, Some(&archive_id));
            }
            for refused in self.refuse_changes_by_others(&mut reading.events, direction) {
                self.notice_peer(refused).await?;
            }
            for e in reading.events {
                match e {
                    Event::MessageReceived(mut msg)
                        if seen_remote.insert(msg.remote_id.as_str().to_owned()) =>
                    {
                        if encrypted {
                            self.omemo_protect(msg.conversation.as_str(), &mut msg.route);
                        }
                        self.mam
                            .archive_ids
                            .insert(msg.remote_id.as_str().to_owned(), archive_id.clone());
                        messages.push(msg);
                    }
                    e @ (Event::MessageChanged { .. } | Event::DeliveryUpdated { .. }) => {
                        others.push(e)
                    }
                    _ => {}
                }
            }
            newest_archive = Some(archive_id);
        }
        match q.purpose {
            Purpose::Page(conversation, max) => {
                if messages.is_empty()
                    && !complete
                    && let Some(first) = first
                {
                    // A page of receipts and markers only: the engine pages by
                    // message, so go on to the next page by archive id.
                    for e in others {
                        self.events.emit(e).await?;
                    }
                    return self.page_before(conversation, &first, max).await;
                }
                self.events
                    .emit(Event::HistoryPage {
                        conversation,
                        messages,
                        more: !complete,
                    })
                    .await?;
                for e in others {
                    self.events.emit(e).await?;
                }
            }
            Purpose::CatchUp => {
                let mut keys: Vec<ConversationKey> =
                    messages.iter().map(|m| m.conversation.clone()).collect();
                keys.dedup();
                for k in keys {
                    self.ensure_conversation(&k).await?;
                }
                let count = messages.len() as u64;
                for m in messages {
                    if self.first_time(&m) {
                        self.emit_inbound(Event::MessageReceived(m)).await?;
                    }
                }
                for e in others {
                    self.emit_inbound(e).await?;
                }
                if let Some(newest) = last.or(newest_archive) {
                    // The position moves once the engine stored this page.
                    if let Some(a) = self
                        .events
                        .after_stored(crate::handoff::Action::ArchiveMarker(newest.clone()))
                    {
                        self.apply(a).await?;
                    }
                    if !complete && count > 0 {
                        self.catch_up_after(Some(newest)).await?;
                    }
                }
            }
        }
        self.omemo_commit_when_stored().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_xep82_utc() {
        assert_eq!(xep82(0), "1970-01-01T00:00:00Z");
        assert_eq!(xep82(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(xep82(1_795_782_329), "2026-11-27T12:25:29Z");
        assert_eq!(xep82(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn query_escapes_and_pages() {
        let q =
            query_element("q1", Some("a&b@x.org"), Some(Some("arch-1")), None, 20).expect("xml");
        let set = q.get_child("set", ns::RSM).expect("set");
        assert_eq!(
            set.get_child("before", ns::RSM).map(|b| b.text()),
            Some("arch-1".into())
        );
        assert_eq!(
            set.get_child("max", ns::RSM).map(|b| b.text()),
            Some("20".into())
        );
        let x = q.get_child("x", ns::DATA).expect("form");
        assert!(x.children().any(|f| f.attr("var") == Some("with")
            && f.children().next().map(|v| v.text()) == Some("a&b@x.org".into())));
        let newest = query_element("q2", None, Some(None), None, 5).expect("xml");
        assert!(
            newest
                .get_child("set", ns::RSM)
                .and_then(|s| s.get_child("before", ns::RSM))
                .is_some()
        );
    }
}
