//! The engine calls of the chat, settings, prompt and account effects (see
//! [`crate::tasks::run`], their one entry point).

use crate::app::{self, Effect, Message};
use crate::tasks::blocking;
use crate::{account_setup, actions, actions_io, notify, settings};
use koine_core::Engine;

/// Carries out a chat, settings, prompt or account effect.
pub(crate) async fn run(engine: Engine, effect: Effect) -> Message {
    match effect {
        Effect::LoadPeople => match blocking(move || engine.people()).await {
            Some(Ok(people)) => Message::PeopleLoaded(people),
            Some(Err(error)) => {
                tracing::warn!(%error, "reading people");
                Message::Done
            }
            None => Message::Done,
        },
        Effect::LoadMessages(id) => {
            match blocking(move || engine.messages(id, None, app::PAGE)).await {
                Some(Ok(messages)) => Message::MessagesLoaded(id, messages),
                _ => Message::Done,
            }
        }
        Effect::LoadMessagesUpTo(id, last) => {
            let before = koine_core::MessageId(last.0 + 1);
            match blocking(move || engine.messages(id, Some(before), app::PAGE)).await {
                Some(Ok(messages)) => Message::MessagesLoaded(id, messages),
                _ => Message::Done,
            }
        }
        Effect::LoadOlder(id, first) => {
            match blocking(move || engine.messages(id, Some(first), app::PAGE)).await {
                Some(Ok(messages)) => Message::OlderLoaded(id, messages),
                _ => Message::OlderLoaded(id, Vec::new()),
            }
        }
        Effect::Send {
            account,
            key,
            text,
            conversation,
            reply_to,
            attachments,
        } => {
            let content = koine_api::Content { text, attachments };
            match engine.send(&account, &key, content, reply_to).await {
                Ok(_) => Message::Sent(conversation),
                Err(e) => Message::SendFailed(e.to_string()),
            }
        }
        Effect::Change(id, change) => match engine.change_message(id, change).await {
            Ok(()) => Message::Done,
            Err(e) => Message::Act(actions::Action::ChangeFailed(e.to_string())),
        },
        Effect::SaveDraft(id, draft) => {
            let _ = blocking(move || engine.set_draft(id, draft.as_deref())).await;
            Message::Done
        }
        Effect::Typing(id, typing) => {
            if let Err(error) = engine.set_typing(id, typing).await {
                tracing::warn!(%error, "typing notice");
            }
            Message::Done
        }
        Effect::MarkRead(id) => {
            if let Err(error) = engine.mark_read(id).await {
                tracing::warn!(%error, "marking read");
            }
            Message::Done
        }
        Effect::SaveSettings(values) => {
            let path = crate::settings_path(&engine);
            match blocking(move || settings::save(&path, &values)).await {
                Some(Err(error)) => Message::SettingsSaveFailed(error.to_string()),
                _ => Message::Done,
            }
        }
        Effect::LoadStrangerPolicies(protocols) => {
            let policies = blocking(move || {
                protocols
                    .into_iter()
                    .filter_map(|p| engine.stranger_policy(&p).ok().map(|s| (p, s)))
                    .collect::<Vec<_>>()
            })
            .await;
            Message::PoliciesLoaded(policies.unwrap_or_default())
        }
        Effect::SetStrangerPolicy(protocol, policy) => {
            match blocking(move || engine.set_stranger_policy(&protocol, policy)).await {
                Some(Err(e)) => Message::SettingsSaveFailed(e.to_string()),
                _ => Message::Done,
            }
        }
        Effect::Search(query) => {
            let q = query.clone();
            match blocking(move || engine.search(&q, 50)).await {
                Some(Ok(hits)) => Message::SearchResults(query, hits),
                Some(Err(error)) => {
                    tracing::warn!(%error, "search");
                    Message::SearchResults(query, Vec::new())
                }
                None => Message::Done,
            }
        }
        Effect::Notify { summary, body } => {
            if let Some(Err(error)) = blocking(move || notify::show(&summary, &body)).await {
                tracing::warn!(%error, "desktop notification");
            }
            Message::Done
        }
        Effect::AnswerPrompt {
            account,
            prompt,
            answer,
        } => {
            let command = koine_api::Command::AnswerPrompt { prompt, answer };
            match engine.command(&account, command).await {
                Ok(()) => Message::Done,
                Err(e) => Message::SendFailed(e.to_string()),
            }
        }
        Effect::AddAccount {
            protocol,
            label,
            settings,
            secret,
        } => {
            let result = engine
                .add_account(&protocol, &label, settings, secret)
                .await
                .map_err(|e| e.to_string());
            Message::Setup(account_setup::Action::Added(result))
        }
        Effect::PickFiles => Message::Act(actions::Action::Picked(actions_io::pick_files().await)),
        Effect::ReadFiles(paths) => {
            Message::Act(actions::Action::Picked(actions_io::read(paths).await))
        }
        Effect::OpenUrl(url) => {
            actions_io::open_url(url).await;
            Message::Done
        }
        Effect::OpenAttachment(message, index) => {
            match engine.open_attachment(message, index).await {
                Ok(path) => {
                    actions_io::open_url(path.to_string_lossy().into_owned()).await;
                    Message::Done
                }
                Err(e) => Message::Act(actions::Action::OpenFailed(e.to_string())),
            }
        }
        Effect::LoadPreview(message, index) => {
            let handle = match engine.attachment_content(message, index).await {
                Ok(bytes) => Some(iced::widget::image::Handle::from_bytes(bytes.to_vec())),
                Err(error) => {
                    tracing::warn!(%error, "no preview");
                    None
                }
            };
            Message::Act(actions::Action::PreviewLoaded(message, index, handle))
        }
        Effect::LaunchDemo => {
            actions_io::launch_demo();
            Message::Done
        }
        Effect::Retry(account) => {
            engine.stop(&account).await;
            if let Err(error) = engine.start(&account) {
                tracing::error!(%error, "restarting an account");
            }
            Message::Done
        }
        // Carried out by `tasks::run` or the shell; never sent here.
        Effect::AnswerRequest(..)
        | Effect::ChooseRoute(..)
        | Effect::LoadBlocked
        | Effect::LoadRequests
        | Effect::LoadStatuses
        | Effect::People(_)
        | Effect::SendToPerson { .. }
        | Effect::Unblock(..)
        | Effect::LoadLists
        | Effect::Focus(_)
        | Effect::Copy(_) => Message::Done,
    }
}
