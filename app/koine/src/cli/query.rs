//! `koine search`, `koine conversations`, `koine export`.

use super::safe::field;
use anyhow::Context;
use clap::Args;
use koine_core::{ConversationId, Engine};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (accents and case ignored; the last word may be a prefix).
    query: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this conversation (its number from `koine conversations`).
    #[arg(long)]
    conversation: Option<i64>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn search(engine: &Engine, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let hits = engine.search(&args.query.join(" "), args.limit)?;
    let mut out = std::io::stdout().lock();
    for hit in hits {
        if args.json {
            serde_json::to_writer(&mut out, &hit)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{}\t{}\t{}",
                field(hit.account.as_str()),
                field(&hit.conversation_title),
                field(&hit.message.content.text)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn conversations(engine: &Engine, args: ListArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    for c in engine.conversations()? {
        if args.json {
            serde_json::to_writer(&mut out, &c)?;
            writeln!(out)?;
        } else {
            let flag = if c.is_request { " (request)" } else { "" };
            writeln!(
                out,
                "{}\t{}\t{}\t{} unread{flag}",
                c.id.0,
                field(c.account.as_str()),
                field(&c.title),
                c.unread
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(engine: &Engine, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let export = engine.export(args.conversation.map(ConversationId))?;
    // The history is encrypted in the profile; an export is not.
    eprintln!(
        "koine: the export holds your messages in plaintext: keep it somewhere safe, \
         and delete it when you no longer need it"
    );
    match args.out {
        Some(path) => {
            let file =
                private_file(&path).with_context(|| format!("creating {}", path.display()))?;
            serde_json::to_writer_pretty(std::io::BufWriter::new(file), &export)?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &export)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates or truncates `path`, readable and writable by the user only.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // An existing file keeps its mode on open: narrow it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}
