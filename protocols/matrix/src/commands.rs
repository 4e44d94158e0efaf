//! Commands from the engine.
//!
//! Durable commands (send, edit, react, delete) use the engine's local id as
//! the Matrix transaction id, so the homeserver itself recognises a retry;
//! the event id a local id got is also kept in the encrypted state store
//! (`koine.sent.<local id>`), so a retry after a restart, long after the
//! server forgot the transaction, is acknowledged without sending again.

use crate::error::send_error;
use crate::session::Session;
use koine_api::{
    AttachmentSource, ChatState, Command, Content, ConversationKey, Event, LocalId, Notice,
    RemoteId, Route, SendError, SessionError,
};
use matrix_sdk::Room;
use matrix_sdk::attachment::AttachmentConfig;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::receipt::create_receipt::v3::ReceiptType;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::receipt::ReceiptThread;
use matrix_sdk::ruma::events::relation::{Annotation, InReplyTo, Reply};
use matrix_sdk::ruma::events::room::message::{
    Relation, ReplacementMetadata, RoomMessageEventContent,
};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedTransactionId, RoomId, UInt, UserId, uint};

/// Custom-value key recording the event id a local id was sent as.
fn sent_key(local_id: &LocalId) -> Vec<u8> {
    format!("koine.sent.{local_id}").into_bytes()
}

/// Handles one command. Only the engine going away ends the session here;
/// everything else is answered with an event.
pub(crate) async fn handle(s: &mut Session, command: Command) -> Result<(), SessionError> {
    if let Some(local_id) = command.local_id().cloned() {
        return durable(s, local_id, command).await;
    }
    match command {
        Command::MarkRead {
            conversation,
            up_to,
        } => {
            if let (Ok(room), Ok(event_id)) = (
                room_of(s, &conversation).await,
                EventId::parse(up_to.as_str()),
            ) && let Err(e) = room
                .send_single_receipt(ReceiptType::Read, ReceiptThread::Unthreaded, event_id)
                .await
            {
                tracing::debug!("read receipt failed: {e}");
            }
        }
        Command::SetChatState {
            conversation,
            state,
        } => {
            if let Ok(room) = room_of(s, &conversation).await
                && let Err(e) = room.typing_notice(state == ChatState::Composing).await
            {
                tracing::debug!("typing notice failed: {e}");
            }
        }
        Command::FetchHistory {
            conversation,
            before,
            limit,
        } => history(s, conversation, before, limit).await?,
        Command::OpenConversation { with } => {
            match room_of(s, &ConversationKey::new(with.to_string())).await {
                Ok(room) => {
                    s.report_conversation(&room, true).await?;
                }
                Err(e) => notice_rejected(s, e).await?,
            }
        }
        Command::JoinRoom { room } => {
            let joined = match matrix_sdk::ruma::RoomOrAliasId::parse(room.trim()) {
                Ok(id) => s
                    .client
                    .join_room_by_id_or_alias(&id, &[])
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match joined {
                Ok(room) => {
                    s.report_conversation(&room, true).await?;
                }
                Err(e) => notice_rejected(s, SendError::Rejected(e)).await?,
            }
        }
        Command::LeaveRoom { conversation } => {
            if let Ok(room) = room_of(s, &conversation).await
                && let Err(e) = room.leave().await
            {
                notice_rejected(s, SendError::Rejected(e.to_string())).await?;
            }
        }
        Command::AnswerRequest { request, decision } => {
            crate::invites::answer(s, &request, decision).await?;
        }
        Command::AnswerPrompt { prompt, answer } => {
            crate::crypto::answer_prompt(s, &prompt, answer).await?;
        }
        Command::SetVerified { with, verified } => {
            crate::crypto::set_verified(s, &with, verified).await?;
        }
        Command::AddContact { .. } | Command::RemoveContact { .. } => {
            s.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "roster".into(),
                }))
                .await?;
        }
        _ => {
            s.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "command".into(),
                }))
                .await?;
        }
    }
    Ok(())
}

async fn notice_rejected(s: &Session, e: SendError) -> Result<(), SessionError> {
    tracing::debug!("command refused: {e}");
    s.events
        .emit(Event::Notice(Notice::Unsupported {
            feature: format!("refused: {e}"),
        }))
        .await
        .map_err(Into::into)
}

/// The room a conversation key names: a room id, or a user id for a direct
/// chat (found, or created end-to-end encrypted).
pub(crate) async fn room_of(s: &Session, key: &ConversationKey) -> Result<Room, SendError> {
    let key = key.as_str().trim();
    if key.starts_with('@') {
        let user = UserId::parse(key).map_err(|_| SendError::NoSuchRecipient)?;
        if let Some(room) = s.client.get_dm_room(&user) {
            return Ok(room);
        }
        // create_dm marks the room direct and turns Megolm on from the start.
        return s.client.create_dm(&user).await.map_err(|e| send_error(&e));
    }
    let room_id = RoomId::parse(key).map_err(|_| SendError::NoSuchRecipient)?;
    s.client
        .get_room(&room_id)
        .ok_or(SendError::NoSuchRecipient)
}

async fn durable(s: &mut Session, local_id: LocalId, command: Command) -> Result<(), SessionError> {
    let client = s.client.clone();
    let store = client.state_store();
    if let Ok(Some(previous)) = store.get_custom_value(&sent_key(&local_id)).await
        && let (Ok(previous), Some(conversation)) =
            (String::from_utf8(previous), conversation_of(&command))
    {
        // `event id` and, since route truth, `\n` and whether it went
        // encrypted (`1`) or in the clear (`0`).
        let (remote, encrypted) = match previous.split_once('\n') {
            Some((id, flag)) => (id.to_owned(), Some(flag == "1")),
            None => (previous, None),
        };
        let route = match room_of(s, conversation).await {
            Ok(room) => match encrypted {
                Some(encrypted) => s.room_route_as(&room, encrypted).await,
                None => s.room_route(&room).await,
            },
            Err(_) => Route {
                hops: vec![s.link_hop()],
                end_to_end: koine_api::EndToEnd::none(),
            },
        };
        return s
            .events
            .emit(Event::SendAcked {
                local_id,
                remote_id: RemoteId::new(remote),
                route,
            })
            .await
            .map_err(Into::into);
    }
    let result = match &command {
        Command::SendMessage {
            conversation,
            content,
            reply_to,
            ..
        } => send_message(s, &local_id, conversation, content, reply_to.as_ref()).await,
        Command::EditMessage {
            conversation,
            target,
            text,
            ..
        } => edit(s, &local_id, conversation, target, text).await,
        Command::React {
            conversation,
            target,
            key,
            remove,
            ..
        } => react(s, &local_id, conversation, target, key, *remove).await,
        Command::DeleteMessage {
            conversation,
            target,
            ..
        } => delete(s, &local_id, conversation, target).await,
        _ => Err(SendError::Unsupported("command".into())),
    };
    match result {
        Ok((remote_id, route)) => {
            let encrypted = u8::from(route.end_to_end.scheme != koine_api::E2eScheme::None);
            let _ = store
                .set_custom_value(
                    &sent_key(&local_id),
                    format!("{remote_id}\n{encrypted}").into_bytes(),
                )
                .await;
            s.events
                .emit(Event::SendAcked {
                    local_id,
                    remote_id,
                    route,
                })
                .await?;
        }
        Err(error) => s.events.emit(Event::SendFailed { local_id, error }).await?,
    }
    Ok(())
}

fn conversation_of(command: &Command) -> Option<&ConversationKey> {
    match command {
        Command::SendMessage { conversation, .. }
        | Command::EditMessage { conversation, .. }
        | Command::React { conversation, .. }
        | Command::DeleteMessage { conversation, .. } => Some(conversation),
        _ => None,
    }
}

fn txn(local_id: &LocalId) -> OwnedTransactionId {
    OwnedTransactionId::from(local_id.as_str())
}

fn event_id(id: &RemoteId) -> Result<OwnedEventId, SendError> {
    EventId::parse(id.as_str()).map_err(|_| SendError::Rejected(format!("not an event id: {id}")))
}

async fn send_message(
    s: &mut Session,
    local_id: &LocalId,
    conversation: &ConversationKey,
    content: &Content,
    reply_to: Option<&RemoteId>,
) -> Result<(RemoteId, Route), SendError> {
    let room = room_of(s, conversation).await?;
    s.report_conversation(&room, false)
        .await
        .map_err(|_| SendError::Offline)?;
    let reply = reply_to.map(event_id).transpose()?;
    let mut last = None;
    // Whether every event of the message went Megolm-encrypted: the SDK
    // decides at send time, from the room's state as the server has it
    // (a direct chat created by this very send is encrypted from its first
    // event, before the sync tells this client).
    let mut encrypted = true;
    for (index, attachment) in content.attachments.iter().enumerate() {
        let AttachmentSource::LocalPath(path) = &attachment.source else {
            return Err(SendError::Unsupported("remote attachment".into()));
        };
        let data = tokio::fs::read(path)
            .await
            .map_err(|e| SendError::Rejected(format!("reading {path}: {e}")))?;
        let mime: mime::Mime = attachment
            .mime
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM);
        // One event per file; the first carries the local id, the others a
        // derived one, so a retry repeats exactly the same transactions.
        let mut config =
            AttachmentConfig::new().txn_id(txn(&LocalId::new(format!("{local_id}.{index}"))));
        if index == 0 && content.text.is_empty() {
            config = config.txn_id(txn(local_id));
        }
        let response = room
            .send_attachment(&attachment.name, &mime, data, config)
            .await
            .map_err(|e| send_error(&e))?;
        // send_attachment asked the server for the room's encryption first.
        encrypted &= room.encryption_state().is_encrypted();
        last = Some(response.event_id);
    }
    if !content.text.is_empty() {
        let mut message = RoomMessageEventContent::text_plain(content.text.clone());
        if let Some(reply) = reply {
            message.relates_to = Some(Relation::Reply(Reply::new(InReplyTo::new(reply))));
        }
        let result = room
            .send(message)
            .with_transaction_id(txn(local_id))
            .await
            .map_err(|e| send_error(&e))?;
        encrypted &= result.encryption_info.is_some();
        last = Some(result.response.event_id);
    }
    let event_id = last.ok_or_else(|| SendError::Rejected("empty message".into()))?;
    // The conversation's route follows what the room turned out to be.
    let _ = s.report_conversation(&room, false).await;
    let route = s.room_route_as(&room, encrypted).await;
    Ok((RemoteId::new(event_id.as_str()), route))
}

async fn edit(
    s: &mut Session,
    local_id: &LocalId,
    conversation: &ConversationKey,
    target: &RemoteId,
    text: &str,
) -> Result<(RemoteId, Route), SendError> {
    let room = room_of(s, conversation).await?;
    let content = RoomMessageEventContent::text_plain(text)
        .make_replacement(ReplacementMetadata::new(event_id(target)?, None));
    let result = room
        .send(content)
        .with_transaction_id(txn(local_id))
        .await
        .map_err(|e| send_error(&e))?;
    let route = s
        .room_route_as(&room, result.encryption_info.is_some())
        .await;
    Ok((RemoteId::new(result.response.event_id.as_str()), route))
}

async fn react(
    s: &mut Session,
    local_id: &LocalId,
    conversation: &ConversationKey,
    target: &RemoteId,
    key: &str,
    remove: bool,
) -> Result<(RemoteId, Route), SendError> {
    let room = room_of(s, conversation).await?;
    // Reactions and redactions are not encrypted by Matrix clients, even
    // in an encrypted room: the servers read them.
    let route = s.room_route_as(&room, false).await;
    let target_id = event_id(target)?;
    if remove {
        let own = s
            .reactions
            .iter()
            .find(|(_, (t, k, by))| *t == target_id && k == key && *by == s.own)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| SendError::Rejected("no such reaction of ours".into()))?;
        let response = room
            .redact(&own, None, Some(txn(local_id)))
            .await
            .map_err(|e| send_error(&matrix_sdk::Error::Http(Box::new(e))))?;
        return Ok((RemoteId::new(response.event_id.as_str()), route));
    }
    let content = ReactionEventContent::new(Annotation::new(target_id.clone(), key.to_owned()));
    let result = room
        .send(content)
        .with_transaction_id(txn(local_id))
        .await
        .map_err(|e| send_error(&e))?;
    let route = if result.encryption_info.is_some() {
        s.room_route_as(&room, true).await
    } else {
        route
    };
    // Known at once, so a removal right after does not wait for the sync.
    s.reactions.insert(
        result.response.event_id.clone(),
        (target_id, key.to_owned(), s.own.clone()),
    );
    Ok((RemoteId::new(result.response.event_id.as_str()), route))
}

async fn delete(
    s: &mut Session,
    local_id: &LocalId,
    conversation: &ConversationKey,
    target: &RemoteId,
) -> Result<(RemoteId, Route), SendError> {
    let room = room_of(s, conversation).await?;
    // A redaction is never encrypted: the servers read which event it removes.
    let route = s.room_route_as(&room, false).await;
    let response = room
        .redact(&event_id(target)?, None, Some(txn(local_id)))
        .await
        .map_err(|e| send_error(&matrix_sdk::Error::Http(Box::new(e))))?;
    Ok((RemoteId::new(response.event_id.as_str()), route))
}

/// A page of history, oldest first.
async fn history(
    s: &mut Session,
    conversation: ConversationKey,
    before: Option<RemoteId>,
    limit: u32,
) -> Result<(), SessionError> {
    let Ok(room) = room_of(s, &conversation).await else {
        return s
            .events
            .emit(Event::HistoryPage {
                conversation,
                messages: vec![],
                more: false,
            })
            .await
            .map_err(Into::into);
    };
    let from = match before.as_ref().map(event_id) {
        Some(Ok(id)) => match room.event_with_context(&id, true, uint!(0), None).await {
            Ok(context) => context.prev_batch_token,
            // An unknown anchor: an empty page, the session goes on.
            Err(_) => return empty_page(s, conversation).await,
        },
        _ => None,
    };
    let mut options = MessagesOptions::backward().from(from.as_deref());
    options.limit = UInt::from(limit.clamp(1, 1000));
    let Ok(page) = room.messages(options).await else {
        return empty_page(s, conversation).await;
    };
    let route = s.room_route(&room).await;
    let mut messages = Vec::new();
    for event in page.chunk.iter().rev() {
        if let Some(m) = s.message_of(&room, &route, event).await {
            messages.push(m);
        }
    }
    let more = page.end.is_some() && !page.chunk.is_empty();
    s.events
        .emit(Event::HistoryPage {
            conversation,
            messages,
            more,
        })
        .await
        .map_err(Into::into)
}

async fn empty_page(s: &Session, conversation: ConversationKey) -> Result<(), SessionError> {
    s.events
        .emit(Event::HistoryPage {
            conversation,
            messages: vec![],
            more: false,
        })
        .await
        .map_err(Into::into)
}
