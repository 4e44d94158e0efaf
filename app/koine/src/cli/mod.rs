//! Command-line interface.

mod account;
mod files;
mod people;
mod prompts;
mod query;
mod requests;
mod routes;
mod safe;
mod send;
mod tail;

use anyhow::Context;
use clap::{Parser, Subcommand};
use koine_core::{Engine, EngineConfig, EngineEvent, Profile};
use std::path::PathBuf;
use std::process::ExitCode;

/// Koine: your chats on several networks in one window, with the route of
/// every message.
#[derive(Debug, Parser)]
#[command(name = "koine", version, about, long_about = None)]
pub struct Args {
    /// Use this profile directory instead of the default (also: KOINE_HOME).
    #[arg(long, global = true, value_name = "DIR")]
    profile: Option<PathBuf>,

    /// Try Koine without an account: a throwaway profile with a local
    /// gatekeeper server, a simulated phone and people who answer; removed,
    /// keyring entries included, at exit.
    #[arg(long, global = true, conflicts_with = "profile")]
    demo: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add, list, change or remove accounts.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// List the networks this build supports and their account fields.
    Networks,
    /// Send a message (queued first; sent as soon as the account is online).
    Send(send::SendArgs),
    /// Connect every account and stream messages and state changes.
    Tail(tail::TailArgs),
    /// Search all history.
    Search(query::SearchArgs),
    /// List conversations across all accounts.
    Conversations(query::ListArgs),
    /// Export one conversation or all, as JSON (plaintext: keep it safe).
    Export(query::ExportArgs),
    /// Save a received file, kept sealed on this computer, to a new file.
    Attachment(files::AttachmentArgs),
    /// People across networks: list, merge, split, undo, vCard, send by route.
    #[command(subcommand)]
    People(people::PeopleCommand),
    /// The networks' open questions (pair a phone, pin a certificate):
    /// list, confirm, reject.
    #[command(subcommand)]
    Prompts(prompts::PromptsCommand),
    /// The Requests inbox: list, accept, decline, block, report.
    #[command(subcommand)]
    Requests(requests::RequestsCommand),
    /// Who may write to you directly on each network.
    #[command(subcommand)]
    Policy(requests::PolicyCommand),
    /// The routes messages took: `routes check CONVERSATION` lists each
    /// distinct route with how many messages took it.
    #[command(subcommand)]
    Routes(routes::RoutesCommand),
}

/// Opens the profile's engine. A history written before Koine encrypted it
/// is encrypted first, once, with its progress on stderr; a history that
/// cannot be opened without its key is explained in the person's language.
fn open_engine(profile: Profile) -> anyhow::Result<Engine> {
    koine_ui::i18n::set_language(koine_ui::i18n::choose_language(
        koine_ui::UiOptions::from_env().language.as_deref(),
    ));
    let mut last = None;
    let mut report = |event: EngineEvent| {
        if let EngineEvent::HistoryEncrypting {
            done_bytes,
            total_bytes,
        } = event
        {
            let line = koine_ui::at_rest::encrypting_text(done_bytes, total_bytes);
            if last.as_ref() != Some(&line) {
                eprintln!("koine: {line}");
                last = Some(line);
            }
        }
    };
    Engine::open_reporting(
        profile,
        crate::plugins::registry(),
        EngineConfig::default(),
        &mut report,
    )
    .map_err(|e| match koine_ui::at_rest::open_error_text(&e) {
        Some(text) => anyhow::anyhow!(text),
        None => anyhow::Error::new(e).context("opening the profile"),
    })
}

/// Runs the command line.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.demo && args.command.is_none() && !display_available() {
        anyhow::bail!(
            "no display to open the window on (neither WAYLAND_DISPLAY nor DISPLAY is set)"
        );
    }
    // Dropped last: stops the demo and deletes its profile and keyring entries.
    let demo = args
        .demo
        .then(crate::demo::Demo::start)
        .transpose()
        .context("starting the demo")?;
    let profile = match &demo {
        Some(demo) => demo.profile()?,
        None => Profile::resolve(args.profile.as_deref())?,
    };
    profile
        .ensure()
        .with_context(|| format!("creating the profile at {}", profile.root().display()))?;
    crate::logging::init(&profile);
    let Some(command) = args.command else {
        // The window: iced runs its own async runtime, on which the engine's
        // account tasks then live.
        let options = koine_ui::UiOptions::from_env();
        let engine = open_engine(profile)?;
        // One process runs a profile's sessions: a second window would
        // fork every account's encryption state.
        if let Err(koine_core::EngineError::ProfileInUse) = engine.claim() {
            anyhow::bail!(
                "Koine is already running on this profile ({}); use that window, \
                 or `koine send` and the other commands, which hand their work to it",
                engine.profile().root().display()
            );
        }
        if let Some(demo) = &demo {
            koine_ui::i18n::set_language(koine_ui::i18n::choose_language(
                options.language.as_deref(),
            ));
            demo.seed(&engine).context("starting the demo")?;
        }
        if !display_available() {
            anyhow::bail!(
                "no display to open the window on (neither WAYLAND_DISPLAY nor DISPLAY is set); \
                 `koine --help` lists the headless commands"
            );
        }
        koine_ui::run(engine, options)?;
        return Ok(ExitCode::SUCCESS);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let engine = open_engine(profile)?;
    if let Some(demo) = &demo {
        demo.seed(&engine).context("starting the demo")?;
    }
    runtime.block_on(async move {
        let code = match command {
            Command::Account(cmd) => account::run(&engine, cmd).await?,
            Command::Networks => account::networks(&engine),
            Command::Send(a) => send::run(&engine, a).await?,
            Command::Tail(a) => tail::run(&engine, a).await?,
            Command::Search(a) => query::search(&engine, a)?,
            Command::Conversations(a) => query::conversations(&engine, a)?,
            Command::Export(a) => query::export(&engine, a)?,
            Command::Attachment(a) => files::save(&engine, a).await?,
            Command::People(c) => people::run(&engine, c).await?,
            Command::Prompts(c) => prompts::run(&engine, c).await?,
            Command::Requests(c) => requests::run(&engine, c).await?,
            Command::Policy(c) => requests::policy(&engine, c)?,
            Command::Routes(c) => routes::run(&engine, c)?,
        };
        engine.shutdown().await;
        Ok(code)
    })
}

/// Whether a window can be opened. On Linux and the BSDs the windowing
/// library panics without a display, so the binary checks first and says so
/// in one line; elsewhere there is always a desktop.
fn display_available() -> bool {
    if cfg!(all(unix, not(target_os = "macos"))) {
        ["WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
    } else {
        true
    }
}
