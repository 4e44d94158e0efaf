//! Koine's window (iced 0.14): one unified inbox across networks and
//! accounts, a separate Requests section, the chat with its route line, and
//! the route inspector.
//!
//! Layers: [`app`] holds the state and a pure `update` that returns
//! [`app::Effect`]s (intents for the engine); [`view`] draws it; [`run`] is
//! the shell that owns the [`Engine`], turns effects into tasks (store reads
//! and writes on the blocking pool, never on the UI thread) and listens to the
//! engine's broadcast through one subscription.
//!
//! Renderer: tiny-skia (CPU) by default. On a machine without a GPU, wgpu runs
//! on Mesa's software Vulkan at ~118 MiB resident against ~20 MiB for
//! tiny-skia, and the memory goal is 55 MiB. Build with the `wgpu` feature
//! and set `ICED_BACKEND=wgpu` to use the GPU renderer.

#![deny(missing_docs)]

pub mod account_setup;
pub mod actions;
mod actions_io;
pub mod app;
pub mod at_rest;
pub mod badge;
pub mod blocked;
pub mod composer_route;
pub mod demo_script;
mod events;
pub mod faces;
pub mod files;
pub mod history;
pub mod i18n;
pub mod inspector;
pub mod keys;
pub mod message;
pub mod message_view;
pub mod notices;
pub mod notify;
pub mod overlay;
pub mod people_screen;
pub mod people_view;
pub mod presence;
pub mod preview;
pub mod prompts;
mod refresh;
pub mod requests;
pub mod route;
pub mod send_errors;
pub mod settings;
pub mod settings_screen;
pub mod status_reasons;
pub mod tasks;
mod tasks_chat;
pub mod time;
pub mod view;
pub mod welcome;

use app::{App, Effect, Message};
use futures::StreamExt;
use iced::{Subscription, Task, keyboard};
use koine_core::{Engine, EngineEvent};
use std::hash::{Hash, Hasher};
use tasks::blocking;
use thiserror::Error;

pub use settings::ThemeChoice;

/// How to open the window.
#[derive(Debug, Clone, Default)]
pub struct UiOptions {
    /// Language override (`en`, `fr`); the system locale when `None`.
    pub language: Option<String>,
    /// Colour scheme, over the one in the settings.
    pub theme: Option<ThemeChoice>,
}

impl UiOptions {
    /// Options from the environment: `KOINE_LANG` and `KOINE_THEME`.
    pub fn from_env() -> Self {
        Self {
            language: std::env::var("KOINE_LANG").ok(),
            theme: std::env::var("KOINE_THEME")
                .ok()
                .and_then(|t| ThemeChoice::parse(&t)),
        }
    }
}

/// Errors of the window.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UiError {
    /// iced could not open or run the window.
    #[error("the window failed: {0}")]
    Window(#[from] iced::Error),
}

struct Shell {
    app: App,
    engine: Engine,
}

/// The engine handle as a subscription identity (one engine per window).
struct EngineKey(Engine);

impl Hash for EngineKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.profile().root().hash(state);
    }
}

/// Opens the window and runs until it is closed. Starts every enabled
/// account; call it from the main thread, outside any async runtime (iced
/// runs its own tokio runtime, on which the engine's tasks then live).
pub fn run(engine: Engine, options: UiOptions) -> Result<(), UiError> {
    i18n::set_language(i18n::choose_language(options.language.as_deref()));
    let boot = move || {
        let names = engine
            .registry()
            .iter()
            .map(|p| {
                let info = p.info();
                faces::register(&info);
                (info.id, info.name)
            })
            .collect();
        let mut app = App::new(names);
        app.history_encrypted = engine.history_encrypted();
        app.protocols = engine.registry().iter().map(|p| p.info()).collect();
        app.protocols.sort_by(|a, b| a.name.cmp(&b.name));
        app.theme_override = options.theme;
        app.language_override = options.language.clone();
        // The lists are read before the first frame (well under a
        // millisecond), so someone with accounts never sees "No accounts
        // yet" flash by; only when that fails does a task read them.
        let lists_read = match (engine.accounts(), engine.conversations()) {
            (Ok(accounts), Ok(conversations)) => {
                let _ = app.update(Message::ListsLoaded {
                    accounts,
                    conversations,
                });
                true
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::error!(%error, "reading the lists");
                false
            }
        };
        let shell = Shell {
            app,
            engine: engine.clone(),
        };
        let start = {
            let engine = engine.clone();
            Task::perform(
                async move {
                    if let Err(error) = engine.start_all() {
                        tracing::error!(%error, "starting accounts");
                    }
                },
                |()| Message::Done,
            )
        };
        let load = perform(
            &shell.engine,
            if lists_read {
                Effect::LoadPeople
            } else {
                Effect::LoadLists
            },
        );
        let path = settings_path(&shell.engine);
        let settings = Task::perform(
            async move { blocking(move || settings::load(&path)).await },
            |loaded| Message::SettingsLoaded(Box::new(loaded.unwrap_or_default())),
        );
        let protocols = shell.app.protocols.iter().map(|p| p.id.clone()).collect();
        let policies = perform(&shell.engine, Effect::LoadStrangerPolicies(protocols));
        let statuses = perform(&shell.engine, Effect::LoadStatuses);
        let requests = perform(&shell.engine, Effect::LoadRequests);
        (
            shell,
            Task::batch([statuses, start, load, settings, policies, requests]),
        )
    };
    iced::application(boot, update, view)
        .title(|_: &Shell| crate::fl!("app-title"))
        .theme(|s: &Shell| s.app.window_theme())
        .scale_factor(|s: &Shell| s.app.settings.font_scale)
        .subscription(subscription)
        .window_size((1180.0, 760.0))
        .run()?;
    Ok(())
}

fn update(shell: &mut Shell, message: Message) -> Task<Message> {
    let effects = shell.app.update(message);
    Task::batch(effects.into_iter().map(|e| perform(&shell.engine, e)))
}

fn view(shell: &Shell) -> iced::Element<'_, Message> {
    view::view(&shell.app)
}

fn subscription(shell: &Shell) -> Subscription<Message> {
    let events = Subscription::run_with(EngineKey(shell.engine.clone()), |key| {
        let rx = key.0.subscribe();
        futures::stream::unfold(rx, |mut rx| async move {
            use tokio::sync::broadcast::error::RecvError;
            match rx.recv().await {
                Ok(event) => Some((Message::Engine(Box::new(event)), rx)),
                Err(RecvError::Lagged(_)) => Some((Message::Resync, rx)),
                Err(RecvError::Closed) => None,
            }
        })
        .boxed()
    });
    // Every key press, also those a focused field used: the shortcuts work
    // from the composer and from the panels' text field.
    let keys = iced::event::listen_with(|event, _status, _window| match event {
        iced::Event::Keyboard(keyboard::Event::KeyPressed { key, modifiers, .. }) => {
            keys::shortcut(&key, modifiers)
        }
        iced::Event::Window(iced::window::Event::Focused) => Some(Message::WindowFocus(true)),
        iced::Event::Window(iced::window::Event::Unfocused) => Some(Message::WindowFocus(false)),
        iced::Event::Window(iced::window::Event::FileDropped(path)) => {
            Some(Message::Act(actions::Action::Dropped(path)))
        }
        _ => None,
    });
    Subscription::batch([events, keys])
}

pub(crate) fn settings_path(engine: &Engine) -> std::path::PathBuf {
    engine.profile().root().join(settings::FILE)
}

/// Turns an intent into a task on the engine.
fn perform(engine: &Engine, effect: Effect) -> Task<Message> {
    let engine = engine.clone();
    match effect {
        Effect::LoadLists => {
            let people = perform(&engine, Effect::LoadPeople);
            let lists = Task::perform(
                async move {
                    blocking(move || {
                        Ok::<_, koine_core::EngineError>((
                            engine.accounts()?,
                            engine.conversations()?,
                        ))
                    })
                    .await
                },
                |result| match result {
                    Some(Ok((accounts, conversations))) => Message::ListsLoaded {
                        accounts,
                        conversations,
                    },
                    Some(Err(error)) => {
                        tracing::error!(%error, "reading the lists");
                        Message::ListsFailed
                    }
                    None => Message::ListsFailed,
                },
            );
            Task::batch([lists, people])
        }
        Effect::Focus(id) => iced::widget::operation::focus(id),
        Effect::Copy(contents) => iced::clipboard::write(contents),
        other => Task::perform(tasks::run(engine, other), |m| m),
    }
}

/// Keeps `EngineEvent` in the public signature documented for readers.
pub type Event = EngineEvent;
