//! `koine routes check`: each distinct route a conversation's messages
//! took, with how many and when first and last, so a change of route shows.

use super::safe::field;
use anyhow::bail;
use clap::{Args, Subcommand};
use koine_api::{Direction, E2eScheme, Protection, Route, Timestamp};
use koine_core::{ConversationId, Engine, RouteSubject, RouteUse};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// List each distinct route of a conversation with how many messages
    /// took it and when first and last (read-only).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The conversation: its number from `koine conversations`, or its key
    /// (a room id, an address) when only one account has it.
    conversation: String,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// One line of the report, as JSON.
#[derive(Debug, Serialize)]
struct Line<'a> {
    direction: Direction,
    subject: RouteSubject,
    count: u64,
    first: Timestamp,
    last: Timestamp,
    provisional: bool,
    protection: Option<&'static str>,
    end_to_end: Option<&'static str>,
    hosts: Vec<&'a str>,
    route: Option<&'a Route>,
}

pub fn run(engine: &Engine, command: RoutesCommand) -> anyhow::Result<ExitCode> {
    let RoutesCommand::Check(args) = command;
    let conversation = find(engine, &args.conversation)?;
    let uses = engine.route_uses(conversation)?;
    let mut out = std::io::stdout().lock();
    for u in &uses {
        let line = line(u);
        if args.json {
            serde_json::to_writer(&mut out, &line)?;
            writeln!(out)?;
        } else {
            let hosts = line.hosts.join(" → ");
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}{}",
                direction_word(line.direction),
                subject_word(line.subject),
                line.count,
                utc(line.first),
                utc(line.last),
                line.end_to_end.unwrap_or("unknown"),
                line.protection.unwrap_or("unknown"),
                field(if hosts.is_empty() { "-" } else { &hosts }),
                if line.provisional {
                    "\t(provisional: not sent yet)"
                } else {
                    ""
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The conversation an argument names: a number, else a key held by
/// exactly one conversation.
fn find(engine: &Engine, arg: &str) -> anyhow::Result<ConversationId> {
    let all = engine.conversations()?;
    if let Ok(n) = arg.trim().parse::<i64>()
        && let Some(c) = all.iter().find(|c| c.id.0 == n)
    {
        return Ok(c.id);
    }
    let matching: Vec<_> = all
        .iter()
        .filter(|c| c.key.as_str() == arg.trim())
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no conversation {arg:?}: see `koine conversations`"),
        _ => bail!("several accounts have a conversation {arg:?}: give its number"),
    }
}

fn line(u: &RouteUse) -> Line<'_> {
    Line {
        direction: u.direction,
        subject: u.subject,
        count: u.count,
        first: u.first,
        last: u.last,
        provisional: u.provisional,
        protection: u.route.as_ref().map(|r| protection_word(r.protection())),
        end_to_end: u.route.as_ref().map(|r| scheme_word(&r.end_to_end.scheme)),
        hosts: u.route.iter().flat_map(Route::hosts).collect(),
        route: u.route.as_ref(),
    }
}

fn protection_word(p: Protection) -> &'static str {
    match p {
        Protection::EndToEndVerified => "end-to-end-verified",
        Protection::EndToEndUnverified => "end-to-end-unverified",
        Protection::TransportOnly => "transport-only",
        Protection::Exposed => "exposed",
    }
}

fn scheme_word(s: &E2eScheme) -> &'static str {
    match s {
        E2eScheme::None => "none",
        E2eScheme::Signal => "signal",
        E2eScheme::Omemo => "omemo",
        E2eScheme::Megolm => "megolm",
        _ => "other",
    }
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Outgoing => "outgoing",
        Direction::Incoming => "incoming",
    }
}

fn subject_word(s: RouteSubject) -> &'static str {
    match s {
        RouteSubject::Message => "messages",
        RouteSubject::Edit => "edits",
        RouteSubject::Reaction => "reactions",
        RouteSubject::Deletion => "deletions",
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC (civil-from-days, proleptic Gregorian).
fn utc(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(Timestamp(0)), "1970-01-01 00:00:00");
        assert_eq!(utc(Timestamp(1_764_244_800_000)), "2025-11-27 12:00:00");
        assert_eq!(utc(Timestamp(951_782_400_000)), "2000-02-29 00:00:00");
    }
}
