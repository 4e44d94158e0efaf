//! Events the SDK processed but the engine never stored.
//!
//! Koine resumes syncing from its own position (`koine.since`), moved only
//! once the engine stored everything a response carried. matrix-sdk keeps
//! a position of its own, moved as soon as it processed a response, and
//! answers a response whose `next_batch` it already has with an empty one
//! ("Got the same sync response twice"). So when a session stopped between
//! the two (the store refused a write, the process was killed), a re-sync
//! from Koine's position came back empty and those messages were lost.
//!
//! At start, when the SDK is ahead of Koine, every joined room's events
//! between the two positions are fetched with `/messages` (decrypted by the
//! SDK like any other) and reported again; the engine's store drops what it
//! already has. Koine's position then moves to the SDK's.

use crate::error::MatrixError;
use crate::session::Session;
use koine_api::{Event, InputSource, Notice, SessionError};
use matrix_sdk::store::{StateStoreDataKey, StateStoreDataValue};

/// Catches up with what the SDK is ahead of `since`; returns the position
/// to sync from.
pub(crate) async fn recover(
    session: &mut Session,
    since: Option<String>,
) -> Result<Option<String>, SessionError> {
    let Some(ours) = since else {
        return Ok(None);
    };
    let sdk = match session
        .client
        .state_store()
        .get_kv_data(StateStoreDataKey::SyncToken)
        .await
    {
        Ok(Some(StateStoreDataValue::SyncToken(token))) => token,
        Ok(_) => return Ok(Some(ours)),
        Err(e) => return Err(MatrixError::Storage(e.to_string()).into()),
    };
    if sdk == ours {
        return Ok(Some(ours));
    }
    for room in session.client.joined_rooms() {
        let events = match crate::backfill::fill_gap(&room, &sdk, &ours).await {
            Ok(events) => events,
            Err(e) => {
                session
                    .events
                    .emit(Event::Notice(Notice::MalformedInput {
                        source: InputSource::Server,
                        detail: format!("catching up {} failed: {e}", room.room_id()),
                    }))
                    .await?;
                // Koine's position stays: the next start tries again.
                return Ok(Some(ours));
            }
        };
        if events.is_empty() {
            continue;
        }
        let route = session.report_conversation(&room, false).await?;
        for event in &events {
            session.timeline_event(&room, &route, event).await?;
        }
    }
    session.events.flush().await?;
    session.store_since(&sdk).await?;
    Ok(Some(sdk))
}
