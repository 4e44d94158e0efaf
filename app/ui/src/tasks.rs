//! The engine calls of the window's effects, as plain async functions: store reads and writes run on the blocking pool, sends
//! and answers as the engine's own futures, and each answer comes back as a
//! [`Message`]. The shell wraps them in tasks; tests call [`run`] with a
//! real engine.

use crate::app::{Effect, Message};
use crate::composer_route::Action as RouteAction;
use crate::people_screen::{Action as PeopleAction, Job};
use koine_core::{Engine, EngineError};

/// Runs a store call on the blocking pool (`None` if it panicked).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// A store call whose error becomes a notice on the People screen.
async fn people_call<T: Send + 'static>(
    engine: Engine,
    f: impl FnOnce(&Engine) -> Result<T, String> + Send + 'static,
    done: impl FnOnce(T) -> Message,
) -> Message {
    match blocking(move || f(&engine)).await {
        Some(Ok(value)) => done(value),
        Some(Err(reason)) => Message::People(PeopleAction::Failed(reason)),
        None => Message::Done,
    }
}

fn text(e: EngineError) -> String {
    e.to_string()
}

async fn people_job(engine: Engine, job: Job) -> Message {
    match job {
        Job::LoadSuggestions => {
            people_call(
                engine,
                |e| e.suggestions().map_err(text),
                |s| Message::People(PeopleAction::SuggestionsLoaded(s)),
            )
            .await
        }
        Job::Merge(into, others) => {
            people_call(
                engine,
                move |e| e.merge_people(into, &others).map_err(text),
                |()| Message::People(PeopleAction::Changed),
            )
            .await
        }
        Job::Dismiss(a, b) => {
            people_call(
                engine,
                move |e| e.dismiss_suggestion(a, b).map_err(text),
                |()| Message::Done,
            )
            .await
        }
        Job::Split(person, addresses) => {
            people_call(
                engine,
                move |e| e.split_person(person, &addresses, None).map_err(text),
                |_| Message::People(PeopleAction::Changed),
            )
            .await
        }
        Job::Undo => {
            people_call(
                engine,
                |e| e.undo_people().map_err(text),
                |change| Message::People(PeopleAction::Undone(change)),
            )
            .await
        }
        Job::AddAddress(person, account, address) => {
            people_call(
                engine,
                move |e| {
                    e.add_person_address(person, account.as_ref(), &address)
                        .map_err(text)
                },
                |()| Message::Done,
            )
            .await
        }
        Job::Rename(person, name) => {
            people_call(
                engine,
                move |e| e.rename_person(person, &name).map_err(text),
                |()| Message::Done,
            )
            .await
        }
        Job::History(person) => {
            people_call(
                engine,
                move |e| {
                    e.person_history(person, None, crate::people_screen::HISTORY)
                        .map_err(text)
                },
                move |history| Message::People(PeopleAction::HistoryLoaded(person, history)),
            )
            .await
        }
        Job::PickImport => match crate::actions_io::pick_vcard().await {
            Some(path) => Message::People(PeopleAction::ImportFrom(path)),
            None => Message::Done,
        },
        Job::PickExport => match crate::actions_io::pick_export().await {
            Some(path) => Message::People(PeopleAction::ExportTo(path)),
            None => Message::Done,
        },
        Job::Import(path) => {
            people_call(
                engine,
                move |e| {
                    let vcard = crate::actions_io::read_vcard(&path)?;
                    e.import_vcard(&vcard).map_err(text)
                },
                |report| Message::People(PeopleAction::Imported(report)),
            )
            .await
        }
        Job::Export(path) => {
            people_call(
                engine,
                move |e| {
                    let vcard = e.export_vcard(None).map_err(text)?;
                    std::fs::write(&path, &vcard).map_err(|e| e.to_string())?;
                    Ok(vcard.matches("BEGIN:VCARD").count())
                },
                |count| Message::People(PeopleAction::Exported(count)),
            )
            .await
        }
    }
}

/// Carries out an effect on the engine and returns the window's answer.
/// The shell runs every effect through here but two: reading the lists
/// (two answers) and moving the keyboard focus (a widget operation).
pub async fn run(engine: Engine, effect: Effect) -> Message {
    match effect {
        Effect::LoadRequests => match blocking(move || engine.requests()).await {
            Some(Ok(requests)) => Message::RequestsLoaded(requests),
            Some(Err(error)) => {
                tracing::warn!(%error, "reading requests");
                Message::Done
            }
            None => Message::Done,
        },
        Effect::AnswerRequest(request, decision) => {
            match engine.answer_request(&request, decision).await {
                Ok(_) => Message::Done,
                Err(error) => Message::AnswerFailed(error.to_string()),
            }
        }
        Effect::LoadBlocked => match blocking(move || engine.blocked_addresses()).await {
            Some(Ok(blocked)) => Message::BlockedLoaded(blocked),
            _ => Message::Done,
        },
        Effect::Unblock(account, address) => {
            let again = engine.clone();
            let _ = blocking(move || engine.unblock_address(&account, &address)).await;
            match blocking(move || again.blocked_addresses()).await {
                Some(Ok(blocked)) => Message::BlockedLoaded(blocked),
                _ => Message::Done,
            }
        }
        Effect::LoadStatuses => {
            Message::StatusesLoaded(engine.account_statuses().into_iter().collect())
        }
        Effect::People(job) => people_job(engine, job).await,
        Effect::ChooseRoute(person, selection) => {
            let choice = blocking(move || engine.choose_route(person, &selection).ok()).await;
            Message::Route(RouteAction::Chosen(person, choice.flatten().map(Box::new)))
        }
        Effect::SendToPerson {
            person,
            selection,
            text,
            consent,
        } => {
            let content = koine_api::Content::text(text.clone());
            match engine
                .send_to_person(person, &selection, content, consent)
                .await
            {
                Ok(sent) => Message::SentToPerson(sent.route.account, sent.route.conversation),
                Err(EngineError::DowngradeNeedsConsent { .. }) => {
                    Message::Route(RouteAction::NeedsConsent(text))
                }
                Err(error) => Message::SendFailed(error.to_string()),
            }
        }
        chat @ (Effect::AddAccount { .. }
        | Effect::AnswerPrompt { .. }
        | Effect::Change(..)
        | Effect::LoadMessages(_)
        | Effect::LoadMessagesUpTo(..)
        | Effect::LoadOlder(..)
        | Effect::LoadPeople
        | Effect::LoadStrangerPolicies(_)
        | Effect::MarkRead(_)
        | Effect::Notify { .. }
        | Effect::OpenUrl(_)
        | Effect::OpenAttachment(..)
        | Effect::LoadPreview(..)
        | Effect::PickFiles
        | Effect::ReadFiles(_)
        | Effect::Retry(_)
        | Effect::LaunchDemo
        | Effect::SaveDraft(..)
        | Effect::SaveSettings(_)
        | Effect::Search(_)
        | Effect::Send { .. }
        | Effect::SetStrangerPolicy(..)
        | Effect::Typing(..)) => crate::tasks_chat::run(engine, chat).await,
        // Carried out by the shell itself (`perform`: two answers, a widget
        // operation, the clipboard); listed so that a new effect must be
        // placed somewhere.
        Effect::LoadLists | Effect::Focus(_) | Effect::Copy(_) => Message::Done,
    }
}
