//! Sending attachments with HTTP upload (XEP-0363).
//!
//! The upload service is found with disco (the items of the user's domain,
//! and the domain itself, whose disco#info has identity `store/file` or the
//! feature `urn:xmpp:http:upload:0`), once, when the first attachment is
//! sent. Each file gets a slot (`<request/>` → `<slot><put/><get/></slot>`);
//! the `PUT` runs in its own task (TLS verified, see [`crate::http`]) while the
//! session goes on. When every file of a message is uploaded, the message goes
//! out with the links in its body and one out-of-band element per file
//! ([`crate::oob`]); its `SendAcked` route has the upload host as a hop that
//! stores and can read the file.
//!
//! Failures are typed: no service → `Unsupported("http-upload")`, a file over
//! the service's limit → `TooLarge` (and an `AttachmentTooLarge` notice), the
//! upload host unreachable → `Offline` (the outbox retries), its certificate
//! refused or anything it refused → `Rejected`.

use crate::error::XmppError;
use crate::http::{self, HttpError, HttpsUrl};
use crate::ns;
use crate::oob;
use crate::session::{PendingIq, Session};
use crate::store::{self, Pins};
use koine_api::{
    AttachmentSource, Content, ConversationKey, Event, Hop, LocalId, Notice, SendError, TlsVersion,
};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::sync::mpsc;
use tokio_xmpp::jid::{BareJid, Jid as XJid};
use tokio_xmpp::minidom::Element;

/// The largest file the plugin tries to upload (servers usually allow less,
/// and say so in disco#info).
pub const MAX_FILE: u64 = 512 * 1024 * 1024;

/// The upload service, as far as disco told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Service {
    Unknown,
    Discovering { outstanding: usize },
    Found { jid: String, max: Option<u64> },
    Absent,
}

#[derive(Debug)]
struct File {
    path: PathBuf,
    name: String,
    mime: String,
    size: u64,
    done: Option<(String, TlsVersion)>,
    /// The file was sealed for an OMEMO chat: `path` is the sealed copy.
    key: Option<crate::omemo::aesgcm::FileKey>,
}

impl Job {
    /// Removes the sealed copies made for the upload.
    async fn clean(&self) {
        for f in self.files.iter().filter(|f| f.key.is_some()) {
            let _ = tokio::fs::remove_file(&f.path).await;
        }
    }
}

#[derive(Debug)]
struct Job {
    conversation: ConversationKey,
    text: String,
    files: Vec<File>,
}

/// The end of one `PUT`.
#[derive(Debug)]
pub struct PutDone {
    local_id: LocalId,
    index: usize,
    get: String,
    result: Result<TlsVersion, HttpError>,
}

/// Upload bookkeeping of one session.
#[derive(Debug)]
pub struct Uploads {
    pub(crate) service: Service,
    pub(crate) waiting: Vec<LocalId>,
    jobs: HashMap<String, Job>,
    tx: mpsc::UnboundedSender<PutDone>,
    rx: mpsc::UnboundedReceiver<PutDone>,
    /// Media hops of sent messages, for the route of their `SendAcked`.
    pub(crate) media: HashMap<String, Vec<Hop>>,
}

impl Default for Uploads {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            service: Service::Unknown,
            waiting: Vec::new(),
            jobs: HashMap::new(),
            tx,
            rx,
            media: HashMap::new(),
        }
    }
}

impl Uploads {
    /// The next finished `PUT`.
    pub async fn next_done(&mut self) -> Option<PutDone> {
        self.rx.recv().await
    }

    /// Whether a message with these attachments is being uploaded.
    pub fn in_flight(&self, local_id: &LocalId) -> bool {
        self.jobs.contains_key(local_id.as_str())
    }
}

/// The slot request for a file.
fn slot_request(name: &str, size: u64, mime: &str) -> Option<Element> {
    ns::element(&format!(
        "<request xmlns='{}' filename='{}' size='{size}' content-type='{}'/>",
        ns::UPLOAD,
        ns::escape(name),
        ns::escape(mime)
    ))
}

/// A slot: the PUT URL, its allowed headers, the GET URL.
type Slot = (String, Vec<(String, String)>, String);

/// Reads a slot.
fn read_slot(slot: &Element) -> Option<Slot> {
    let put = slot.get_child("put", ns::UPLOAD)?;
    let get = slot.get_child("get", ns::UPLOAD)?.attr("url")?.to_owned();
    let headers = put
        .children()
        .filter(|h| h.is("header", ns::UPLOAD))
        .filter_map(|h| {
            let name = h.attr("name")?;
            // XEP-0363 allows only these; anything else is dropped.
            ["Authorization", "Cookie", "Expires"]
                .iter()
                .find(|a| a.eq_ignore_ascii_case(name))
                .map(|a| ((*a).to_owned(), h.text()))
        })
        .collect();
    Some((put.attr("url")?.to_owned(), headers, get))
}

impl Session {
    /// `SendMessage` with attachments.
    pub(crate) async fn send_with_attachments(
        &mut self,
        local_id: LocalId,
        conversation: ConversationKey,
        content: Content,
    ) -> Result<(), XmppError> {
        if let Some(domain) = self.acked.get(local_id.as_str()).cloned() {
            return self.acknowledged(local_id, Some(domain)).await;
        }
        if self.uploads.in_flight(&local_id) || self.is_unacked(&local_id) {
            return Ok(());
        }
        if BareJid::new(conversation.as_str()).is_err() {
            return self.fail(local_id, SendError::NoSuchRecipient).await;
        }
        let mut files = Vec::new();
        for a in &content.attachments {
            let AttachmentSource::LocalPath(path) = &a.source else {
                let e = SendError::Unsupported("forwarding-remote-attachments".into());
                return self.fail(local_id, e).await;
            };
            let path = PathBuf::from(path);
            let Ok(meta) = tokio::fs::metadata(&path).await else {
                let e = SendError::Rejected("attachment unreadable".into());
                return self.fail(local_id, e).await;
            };
            let name = match a.name.trim() {
                "" => path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".into()),
                n => n.to_owned(),
            };
            let mime = if a.mime.is_empty() {
                oob::mime_of(&name).to_owned()
            } else {
                a.mime.clone()
            };
            files.push(File {
                path,
                name,
                mime,
                size: meta.len(),
                done: None,
                key: None,
            });
        }
        if self.omemo_files(&conversation) {
            // Sealed copies are uploaded; the keys go in the encrypted body.
            let dir = self.data_dir.join("omemo-uploads");
            tokio::fs::create_dir_all(&dir).await?;
            for f in &mut files {
                let Ok(plain) = tokio::fs::read(&f.path).await else {
                    return self.fail(local_id, bad_file()).await;
                };
                let Some((sealed, key)) = crate::omemo::aesgcm::seal(&plain) else {
                    return self.fail(local_id, bad_file()).await;
                };
                let path = dir.join(uuid::Uuid::new_v4().to_string());
                tokio::fs::write(&path, &sealed).await?;
                f.path = path;
                f.size = sealed.len() as u64;
                f.key = Some(key);
            }
        }
        self.uploads.jobs.insert(
            local_id.as_str().to_owned(),
            Job {
                conversation,
                text: content.text,
                files,
            },
        );
        match self.uploads.service.clone() {
            Service::Found { jid, max } => self.request_slots(local_id, &jid, max).await,
            Service::Absent => self.upload_failed(&local_id, no_service()).await,
            Service::Discovering { .. } => {
                self.uploads.waiting.push(local_id);
                Ok(())
            }
            Service::Unknown => {
                self.uploads.waiting.push(local_id);
                self.uploads.service = Service::Discovering { outstanding: 1 };
                let domain = self.cfg.domain();
                let to = BareJid::new(&domain).map_err(|e| XmppError::Protocol(e.to_string()))?;
                let q = Element::builder("query", ns::DISCO_ITEMS).build();
                self.iq_get(Some(to.into()), q, PendingIq::UploadItems)
                    .await?;
                Ok(())
            }
        }
    }

    pub(crate) async fn request_slots(
        &mut self,
        local_id: LocalId,
        service: &str,
        max: Option<u64>,
    ) -> Result<(), XmppError> {
        let Some(job) = self.uploads.jobs.get(local_id.as_str()) else {
            return Ok(());
        };
        let max = max.map_or(MAX_FILE, |m| m.min(MAX_FILE));
        if job.files.iter().any(|f| f.size > max) {
            self.events
                .emit(Event::Notice(Notice::AttachmentTooLarge { max_bytes: max }))
                .await?;
            return self.upload_failed(&local_id, SendError::TooLarge).await;
        }
        let requests: Vec<Option<Element>> = job
            .files
            .iter()
            .map(|f| slot_request(&f.name, f.size, &f.mime))
            .collect();
        let to: XJid = service
            .parse()
            .map_err(|e: tokio_xmpp::jid::Error| XmppError::Protocol(e.to_string()))?;
        for (index, q) in requests.into_iter().enumerate() {
            let Some(q) = q else {
                return self.upload_failed(&local_id, bad_file()).await;
            };
            let pending = PendingIq::UploadSlot {
                local_id: local_id.clone(),
                index,
            };
            self.iq_get(Some(to.clone()), q, pending).await?;
        }
        Ok(())
    }

    /// A slot arrived (or was refused, `None`): start the `PUT`.
    pub(crate) async fn on_upload_slot(
        &mut self,
        local_id: LocalId,
        index: usize,
        slot: Option<Element>,
        too_large: bool,
    ) -> Result<(), XmppError> {
        let Some(job) = self.uploads.jobs.get(local_id.as_str()) else {
            return Ok(());
        };
        let Some(file) = job.files.get(index) else {
            return Ok(());
        };
        let slot = slot
            .filter(|s| s.is("slot", ns::UPLOAD))
            .and_then(|s| read_slot(&s))
            .filter(|(put, _, get)| HttpsUrl::parse(put).is_ok() && HttpsUrl::parse(get).is_ok());
        let Some((put, headers, get)) = slot else {
            let e = if too_large {
                SendError::TooLarge
            } else {
                SendError::Rejected("upload slot refused".into())
            };
            return self.upload_failed(&local_id, e).await;
        };
        let host = HttpsUrl::parse(&put).map(|u| u.host).unwrap_or_default();
        let pins: Pins = store::load(&self.data_dir, Pins::FILE);
        let (tls, _) =
            crate::tls::client_config(self.cfg.extra_ca_file.as_deref(), pins.for_host(&host))?;
        let (path, size, mime) = (file.path.clone(), file.size, file.mime.clone());
        let tx = self.uploads.tx.clone();
        tokio::spawn(async move {
            let result = http::put(tls, &put, &headers, &path, size, &mime).await;
            let _ = tx.send(PutDone {
                local_id,
                index,
                get,
                result,
            });
        });
        Ok(())
    }

    /// A `PUT` ended; the message goes out once all its files are up.
    pub(crate) async fn on_put_done(&mut self, done: PutDone) -> Result<(), XmppError> {
        let version = match done.result {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(error = %e, "upload failed");
                let error = match e {
                    HttpError::Network(_) => SendError::Offline,
                    HttpError::Status(413) => SendError::TooLarge,
                    HttpError::Status(code) => SendError::Rejected(format!("upload: HTTP {code}")),
                    HttpError::File(_) => bad_file(),
                    HttpError::BadUrl(_) => SendError::Rejected("upload URL".into()),
                    HttpError::Certificate(_) => SendError::Rejected("upload certificate".into()),
                };
                return self.upload_failed(&done.local_id, error).await;
            }
        };
        let Some(job) = self.uploads.jobs.get_mut(done.local_id.as_str()) else {
            return Ok(());
        };
        if let Some(f) = job.files.get_mut(done.index) {
            f.done = Some((done.get, version));
        }
        if job.files.iter().any(|f| f.done.is_none()) {
            return Ok(());
        }
        let Some(job) = self.uploads.jobs.remove(done.local_id.as_str()) else {
            return Ok(());
        };
        job.clean().await;
        let links: Vec<(String, Option<TlsVersion>)> = job
            .files
            .iter()
            .filter_map(|f| {
                let (url, v) = f.done.clone()?;
                match &f.key {
                    Some(k) => Some((crate::omemo::aesgcm::link(&url, k)?, Some(v))),
                    None => Some((url, Some(v))),
                }
            })
            .collect();
        let urls: Vec<String> = links.iter().map(|(u, _)| u.clone()).collect();
        let hops = oob::with_media_hops(
            koine_api::Route {
                hops: vec![],
                end_to_end: koine_api::EndToEnd::none(),
            },
            &links,
        )
        .hops;
        self.uploads
            .media
            .insert(done.local_id.as_str().to_owned(), hops);
        let body = oob::body(&job.text, &urls);
        let group = self.rooms.contains_key(job.conversation.as_str());
        self.send_durable(done.local_id, &job.conversation, |to, id| {
            let mut m = if group {
                crate::muc::outgoing(to, id, &body)
            } else {
                crate::chat::outgoing_text(to, id, &body)
            };
            // An `aesgcm://` link is understood inside the encrypted body;
            // an OOB element would only show it to the servers.
            m.payloads.extend(
                urls.iter()
                    .filter(|u| u.starts_with("https://"))
                    .map(|u| oob::element(u)),
            );
            m
        })
        .await
    }

    pub(crate) async fn upload_failed(
        &mut self,
        local_id: &LocalId,
        error: SendError,
    ) -> Result<(), XmppError> {
        if let Some(job) = self.uploads.jobs.remove(local_id.as_str()) {
            job.clean().await;
            self.fail(local_id.clone(), error).await?;
        }
        Ok(())
    }
}

pub(crate) fn no_service() -> SendError {
    SendError::Unsupported("http-upload".into())
}

fn bad_file() -> SendError {
    SendError::Rejected("attachment unreadable".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_keep_only_allowed_headers() {
        let slot: Element = format!(
            "<slot xmlns='{u}'><put url='https://h/p'><header name='authorization'>Bearer x</header>\
             <header name='X-Evil'>y</header></put><get url='https://h/g'/></slot>",
            u = ns::UPLOAD
        )
        .parse()
        .expect("xml");
        let (put, headers, get) = read_slot(&slot).expect("slot");
        assert_eq!((put.as_str(), get.as_str()), ("https://h/p", "https://h/g"));
        assert_eq!(headers, vec![("Authorization".into(), "Bearer x".into())]);
    }
}
