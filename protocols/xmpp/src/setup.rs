//! Stream setup after authentication: resource binding, enabling or
//! resuming stream management (XEP-0198).

use crate::connect::Stream;
use crate::error::XmppError;
use crate::session::new_id;
use crate::sm::SmState;
use futures::{SinkExt, StreamExt};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::FullJid;
use tokio_xmpp::parsers::bind::{BindQuery, BindResponse};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::sm;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamElementError, XmppStreamElement,
};

pub(crate) async fn next_nonza(stream: &mut Stream) -> Result<XmppStreamElement, XmppError> {
    loop {
        match stream.next().await {
            Some(Ok(FallibleStreamElement::Ok(el))) => return Ok(el),
            Some(Ok(FallibleStreamElement::Err(e))) => {
                if is_sm_failed(&e) {
                    return Ok(XmppStreamElement::SM(sm::Nonza::Failed(sm::Failed {
                        h: None,
                        error: None,
                    })));
                }
                return Err(XmppError::Protocol(e.to_string()));
            }
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(e.into()),
            Some(Err(ReadError::ParseError(e))) => return Err(XmppError::Protocol(e.to_string())),
            Some(Err(ReadError::StreamFooterReceived)) | None => {
                return Err(XmppError::Network("closed during setup".into()));
            }
        }
    }
}

/// Whether an element the parser refused is stream management's `<failed/>`.
///
/// XEP-0198 makes `h` optional on `<failed/>`, and Prosody leaves it out when
/// it no longer knows the stream; the parser insists on it. Taking that
/// answer for a broken stream would retry the same dead resumption forever,
/// so it counts as the failure it is.
fn is_sm_failed(e: &StreamElementError) -> bool {
    matches!(e, StreamElementError::InvalidNonza { qname, .. }
        if qname.0.as_str() == tokio_xmpp::parsers::ns::SM && qname.1.as_str() == "failed")
}

pub(crate) async fn bind(
    stream: &mut Stream,
    resource: Option<String>,
) -> Result<FullJid, XmppError> {
    let id = new_id();
    let iq = Iq::from_set(id.clone(), BindQuery::new(resource));
    stream
        .send(&XmppStreamElement::Stanza(Stanza::Iq(iq)))
        .await?;
    loop {
        if let XmppStreamElement::Stanza(Stanza::Iq(iq)) = next_nonza(stream).await? {
            if iq.id() != id {
                continue;
            }
            return match iq {
                Iq::Result {
                    payload: Some(p), ..
                } => BindResponse::try_from(p)
                    .map(|r| r.jid)
                    .map_err(|e| XmppError::Protocol(format!("bind: {e}"))),
                other => Err(XmppError::Protocol(format!("bind refused: {other:?}"))),
            };
        }
    }
}

pub(crate) async fn enable_sm(stream: &mut Stream) -> Result<Option<String>, XmppError> {
    stream
        .send(&XmppStreamElement::SM(sm::Nonza::Enable(
            sm::Enable::new().with_resume(),
        )))
        .await?;
    loop {
        match next_nonza(stream).await? {
            XmppStreamElement::SM(sm::Nonza::Enabled(e)) => {
                return Ok(e.resume.then(|| e.id.map(|i| i.0)).flatten());
            }
            XmppStreamElement::SM(sm::Nonza::Failed(_)) => return Ok(None),
            _ => continue,
        }
    }
}

/// Tries to resume; `Some((h, jid))` on success.
pub(crate) async fn try_resume(
    stream: &mut Stream,
    saved: &SmState,
    previd: String,
) -> Result<Option<(u32, FullJid)>, XmppError> {
    let Some(jid) = saved
        .bound_jid
        .as_deref()
        .and_then(|j| FullJid::new(j).ok())
    else {
        return Ok(None);
    };
    stream
        .send(&XmppStreamElement::SM(sm::Nonza::Resume(sm::Resume {
            h: saved.inbound,
            previd: sm::StreamId(previd),
        })))
        .await?;
    loop {
        match next_nonza(stream).await? {
            XmppStreamElement::SM(sm::Nonza::Resumed(r)) => return Ok(Some((r.h, jid))),
            XmppStreamElement::SM(sm::Nonza::Failed(_)) => return Ok(None),
            _ => continue,
        }
    }
}
