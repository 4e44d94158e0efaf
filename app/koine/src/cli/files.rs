//! `koine attachment`: a received file, opened from its sealed copy.

use anyhow::Context;
use clap::Args;
use koine_core::{Engine, MessageId};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AttachmentArgs {
    /// The message (its `id` in `koine tail --json` or `koine export`).
    message: i64,
    /// Write the file here (a new file, readable by you only).
    out: PathBuf,
    /// Which of the message's files, counting from 0.
    #[arg(long, default_value_t = 0)]
    index: usize,
}

pub async fn save(engine: &Engine, args: AttachmentArgs) -> anyhow::Result<ExitCode> {
    let size = engine
        .save_attachment(MessageId(args.message), args.index, &args.out)
        .await
        .with_context(|| format!("saving to {}", args.out.display()))?;
    eprintln!("koine: {} bytes written to {}", size, args.out.display());
    Ok(ExitCode::SUCCESS)
}
