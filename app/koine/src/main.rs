//! Koine: one window for your chats on several networks, showing the route of
//! every message. With no arguments it opens the window; subcommands give
//! headless access for scripting and tests.

mod cli;
mod demo;
mod logging;
mod plugins;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Everything Koine writes (the history, logs, the plugins' files, an
    // export) is the user's alone: files 0600, folders 0700.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One clear line, no backtrace.
            let mut text = e.to_string();
            for cause in e.chain().skip(1) {
                text.push_str(": ");
                text.push_str(&cause.to_string());
            }
            eprintln!("koine: error: {text}");
            ExitCode::FAILURE
        }
    }
}
