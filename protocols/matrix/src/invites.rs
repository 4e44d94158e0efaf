//! Room invitations, routed into Koine's requests.
//!
//! An invite is reported as a [`Request`] of kind
//! [`RequestKind::RoomInvite`] whose id is the room id; the user's
//! [`Decision`] joins (accept), leaves (decline), leaves and ignores the
//! inviter (block), or also reports the room to the homeserver's admins
//! (report).

use crate::session::Session;
use koine_api::{
    Address, ConversationKey, Decision, Event, Mxid, Notice, Request, RequestId, RequestKind,
    SessionError, Timestamp,
};
use matrix_sdk::ruma::RoomId;

/// Reports an invite once per session.
pub(crate) async fn report(s: &mut Session, room_id: &RoomId) -> Result<(), SessionError> {
    if !s.invites.insert(room_id.to_owned()) {
        return Ok(());
    }
    let Some(room) = s.client.get_room(room_id) else {
        return Ok(());
    };
    let details = room.invite_details().await.ok();
    let inviter = details.as_ref().map(|d| d.inviter_id.clone());
    let Some(from) = inviter.and_then(|u| Mxid::parse(u.as_str()).ok()) else {
        return s
            .events
            .emit(crate::session::malformed(
                koine_api::InputSource::Server,
                format!("invite to {room_id} without a valid inviter"),
            ))
            .await
            .map_err(Into::into);
    };
    let display_name = details
        .as_ref()
        .and_then(|d| d.inviter.as_ref())
        .and_then(|m| m.display_name().map(str::to_owned));
    let room_name = room.cached_display_name().map(|n| n.to_string());
    s.events
        .emit(Event::RequestReceived(Request {
            id: RequestId::new(room_id.as_str()),
            kind: RequestKind::RoomInvite { room_name },
            from: Address::Mxid(from),
            display_name,
            conversation: Some(ConversationKey::new(room_id.as_str())),
            preview: None,
            received: Timestamp::now(),
        }))
        .await
        .map_err(Into::into)
}

/// Carries out the user's decision on an invite.
pub(crate) async fn answer(
    s: &mut Session,
    request: &RequestId,
    decision: Decision,
) -> Result<(), SessionError> {
    let Ok(room_id) = RoomId::parse(request.as_str()) else {
        return Ok(());
    };
    let Some(room) = s.client.get_room(&room_id) else {
        return Ok(());
    };
    let inviter = room.invite_details().await.ok().map(|d| d.inviter_id);
    let outcome = match decision {
        Decision::Accept => room.join().await.map_err(|e| e.to_string()),
        Decision::Decline => room.leave().await.map_err(|e| e.to_string()),
        Decision::Block | Decision::Report => {
            let mut result = Ok(());
            if decision == Decision::Report
                && let Err(e) = room
                    .report_room("spam or abuse (reported from Koine)".into())
                    .await
            {
                tracing::debug!("room report failed: {e}");
                s.events
                    .emit(Event::Notice(Notice::Unsupported {
                        feature: "spam-reporting".into(),
                    }))
                    .await?;
            }
            if let Err(e) = room.leave().await {
                result = Err(e.to_string());
            }
            if let Some(user) = inviter.as_deref().filter(|u| *u != (&*s.own))
                && let Err(e) = s.client.account().ignore_user(user).await
            {
                result = Err(e.to_string());
            }
            result
        }
    };
    match outcome {
        Ok(()) => {
            s.invites.remove(&room_id);
            s.events
                .emit(Event::RequestResolved(request.clone()))
                .await?;
            if decision == Decision::Accept {
                s.report_conversation(&room, true).await?;
            }
        }
        Err(e) => {
            tracing::debug!("answering invite {room_id} failed: {e}");
            s.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "invite-answer".into(),
                }))
                .await?;
        }
    }
    Ok(())
}
