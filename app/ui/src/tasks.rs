//! Tasks for the people, requests and route effects: each engine call runs
//! on the blocking pool (store reads and writes) or as the engine's own
//! future, and its answer comes back as a [`Message`].

use crate::app::{Effect, Message};
use crate::composer_route::Action as RouteAction;
use crate::people_screen::{Action as PeopleAction, Job};
use iced::Task;
use koine_core::{Engine, EngineError};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// A store call whose error becomes a notice on the People screen.
fn people_call<T: Send + 'static>(
    engine: Engine,
    f: impl FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
    done: impl Fn(T) -> Message + Send + 'static,
) -> Task<Message> {
    Task::perform(
        async move { blocking(move || f(&engine).map_err(|e| e.to_string())).await },
        move |result| match result {
            Some(Ok(value)) => done(value),
            Some(Err(reason)) => Message::People(PeopleAction::Failed(reason)),
            None => Message::Done,
        },
    )
}

fn people_job(engine: Engine, job: Job) -> Task<Message> {
    match job {
        Job::LoadSuggestions => people_call(engine, Engine::suggestions, |s| {
            Message::People(PeopleAction::SuggestionsLoaded(s))
        }),
        Job::Merge(into, others) => people_call(
            engine,
            move |e| e.merge_people(into, &others),
            |()| Message::People(PeopleAction::Changed),
        ),
        Job::Dismiss(a, b) => people_call(
            engine,
            move |e| e.dismiss_suggestion(a, b),
            |()| Message::Done,
        ),
        Job::Split(person, addresses) => people_call(
            engine,
            move |e| e.split_person(person, &addresses, None),
            |_| Message::People(PeopleAction::Changed),
        ),
        Job::Undo => people_call(engine, Engine::undo_people, |change| {
            Message::People(PeopleAction::Undone(change))
        }),
        Job::History(person) => people_call(
            engine,
            move |e| e.person_history(person, None, crate::people_screen::HISTORY),
            move |history| Message::People(PeopleAction::HistoryLoaded(person, history)),
        ),
        Job::Import(path) => Task::perform(
            async move {
                blocking(move || {
                    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                    engine.import_vcard(&text).map_err(|e| e.to_string())
                })
                .await
            },
            |result| match result {
                Some(Ok(report)) => Message::People(PeopleAction::Imported(report)),
                Some(Err(reason)) => Message::People(PeopleAction::Failed(reason)),
                None => Message::Done,
            },
        ),
        Job::Export(path) => Task::perform(
            async move {
                blocking(move || {
                    let text = engine.export_vcard(None).map_err(|e| e.to_string())?;
                    std::fs::write(&path, &text).map_err(|e| e.to_string())?;
                    Ok::<_, String>(text.matches("BEGIN:VCARD").count())
                })
                .await
            },
            |result| match result {
                Some(Ok(count)) => Message::People(PeopleAction::Exported(count)),
                Some(Err(reason)) => Message::People(PeopleAction::Failed(reason)),
                None => Message::Done,
            },
        ),
    }
}

/// Turns one of these effects into a task.
pub(crate) fn perform(engine: Engine, effect: Effect) -> Task<Message> {
    match effect {
        Effect::LoadRequests => Task::perform(
            async move { blocking(move || engine.requests()).await },
            |result| match result {
                Some(Ok(requests)) => Message::RequestsLoaded(requests),
                Some(Err(error)) => {
                    tracing::warn!(%error, "reading requests");
                    Message::Done
                }
                None => Message::Done,
            },
        ),
        Effect::AnswerRequest(request, decision) => Task::perform(
            async move {
                engine
                    .answer_request(&request, decision)
                    .await
                    .map_err(|e| e.to_string())
            },
            |result| match result {
                Ok(_) => Message::Done,
                Err(reason) => Message::AnswerFailed(reason),
            },
        ),
        Effect::LoadStatuses => {
            let statuses = engine.account_statuses().into_iter().collect();
            Task::done(Message::StatusesLoaded(statuses))
        }
        Effect::People(job) => people_job(engine, job),
        Effect::ChooseRoute(person, selection) => Task::perform(
            async move { blocking(move || engine.choose_route(person, &selection).ok()).await },
            move |choice| {
                Message::Route(RouteAction::Chosen(person, choice.flatten().map(Box::new)))
            },
        ),
        Effect::SendToPerson {
            person,
            selection,
            text,
            consent,
        } => Task::perform(
            async move {
                let sent = engine
                    .send_to_person(
                        person,
                        &selection,
                        koine_api::Content::text(text.clone()),
                        consent,
                    )
                    .await;
                (sent, text)
            },
            |(result, text)| match result {
                Ok(_) => Message::SentToPerson,
                Err(EngineError::DowngradeNeedsConsent { .. }) => {
                    Message::Route(RouteAction::NeedsConsent(text))
                }
                Err(error) => Message::SendFailed(error.to_string()),
            },
        ),
        _ => Task::none(),
    }
}
