//! `koine prompts`: the questions the networks ask (pair this phone, pin
//! this certificate, compare these numbers), answered without a window.
//! They are asked by the process that runs the sessions (`koine tail`, or
//! the window): this command talks to it.

use super::safe::field;
use anyhow::Context;
use clap::Subcommand;
use koine_api::{PromptAnswer, PromptId, PromptKind};
use koine_core::Engine;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// The open questions of the running Koine.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Yes: pair, pin, the numbers match, trust the new key.
    Confirm {
        /// The account (id or label).
        account: String,
        /// The question's id, from `koine prompts list`.
        prompt: String,
    },
    /// No: refuse, do not pin, the numbers differ.
    Reject {
        /// The account (id or label).
        account: String,
        /// The question's id, from `koine prompts list`.
        prompt: String,
    },
}

/// What the user is asked to check, in one line.
fn describe(kind: &PromptKind) -> String {
    match kind {
        PromptKind::PairDevice { device, key } => {
            format!("pair the device {device}? the key shown on it must be {key}")
        }
        PromptKind::SendUnencrypted { to, reason } => {
            format!("send this one message to {to} unencrypted? ({reason})")
        }
        PromptKind::PinCertificate {
            host, fingerprint, ..
        } => format!("trust the certificate of {host}? fingerprint {fingerprint}"),
        PromptKind::SaveRecoveryKey { account, key } => format!(
            "save the recovery key of {account} somewhere safe, then confirm: {}",
            key.expose()
        ),
        other => format!("{other:?}"),
    }
}

pub async fn run(engine: &Engine, command: PromptsCommand) -> anyhow::Result<ExitCode> {
    let no_owner =
        "no Koine is running on this profile: questions are asked by `koine tail` or the window";
    match command {
        PromptsCommand::List { json } => {
            let open = engine.owner_prompts().await.context(no_owner)?;
            let mut out = std::io::stdout().lock();
            for (account, prompt) in open {
                if json {
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({"account": account, "prompt": prompt}),
                    )?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{}\t{}\t{}",
                        field(account.as_str()),
                        field(prompt.id.as_str()),
                        field(&describe(&prompt.kind))
                    )?;
                }
            }
        }
        PromptsCommand::Confirm { account, prompt } => {
            answer(engine, &account, &prompt, PromptAnswer::Confirm).await?;
        }
        PromptsCommand::Reject { account, prompt } => {
            answer(engine, &account, &prompt, PromptAnswer::Reject).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn answer(
    engine: &Engine,
    account: &str,
    prompt: &str,
    answer: PromptAnswer,
) -> anyhow::Result<()> {
    let account = engine.find_account(account)?.id;
    engine
        .answer_owner_prompt(&account, &PromptId::new(prompt), answer)
        .await
        .context("the running Koine did not take the answer")
}
