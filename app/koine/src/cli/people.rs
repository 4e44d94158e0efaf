//! `koine people`: people across networks, merge suggestions, merge, split
//! and undo, vCard import and export, and sending to a person by the route
//! the policy chooses.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use koine_api::Address;
use koine_core::{
    DowngradeConsent, Engine, MessageId, Person, RouteChoice, RouteOption, RouteSelection,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

mod send;

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// List people with their addresses.
    List(JsonArg),
    /// One person: addresses, identifiers and their recent history across networks.
    Show {
        /// Person number, name or address.
        person: String,
        /// How many messages of history.
        #[arg(long, default_value_t = 20)]
        history: u32,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Create a person from addresses you type.
    Add {
        /// The name.
        name: String,
        /// Addresses (phone number, JID, MXID, provider:id); each goes to
        /// every account whose network accepts it.
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Merge people into the first one.
    Merge {
        /// The person who stays.
        into: String,
        /// The people merged into them.
        #[arg(required = true)]
        others: Vec<String>,
    },
    /// Move addresses of a person to a new person.
    Split {
        /// The person.
        person: String,
        /// The addresses to move (all accounts' copies of each).
        #[arg(required = true)]
        addresses: Vec<String>,
        /// The new person's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Undo the latest merge or split.
    Undo,
    /// Merge suggestions: strong (same number, profile, typed) and weak (same name).
    Suggestions(JsonArg),
    /// Import a vCard (3.0 or 4.0) address book.
    Import {
        /// The .vcf file.
        file: PathBuf,
    },
    /// Export people as vCard 4.0.
    Export {
        /// Write to this file.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// The route a message to a person would take, and the alternatives.
    Route {
        /// Person number, name or address.
        person: String,
        #[command(flatten)]
        route: RouteArgs,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Send to a person by the chosen route. Exits 4 without sending when the
    /// route is a downgrade you have not allowed.
    Send {
        /// Person number, name or address.
        person: String,
        /// The text.
        text: String,
        #[command(flatten)]
        route: RouteArgs,
        /// Allow a downgrade (e.g. to SMS) for this message or from now on.
        #[arg(long, value_enum)]
        allow_downgrade: Option<Allow>,
        /// Seconds to wait for the network to accept it.
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Use this account's route (id or label) instead of the best one.
    #[arg(long, value_name = "ACCOUNT", conflicts_with = "reply_to")]
    via: Option<String>,
    /// Reply to this stored message (its number): the route it came by.
    #[arg(long, value_name = "MESSAGE")]
    reply_to: Option<i64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Allow {
    /// This message only.
    Once,
    /// For this person from now on.
    Always,
}

fn selection(engine: &Engine, args: &RouteArgs) -> anyhow::Result<RouteSelection> {
    Ok(match (&args.via, args.reply_to) {
        (Some(a), _) => RouteSelection::Via(engine.find_account(a)?.id),
        (None, Some(m)) => RouteSelection::ReplyTo(MessageId(m)),
        (None, None) => RouteSelection::Best,
    })
}

pub(super) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn line(p: &Person) -> String {
    let addresses: Vec<String> = p
        .addresses
        .iter()
        .map(|a| match &a.account {
            Some(acc) => format!("{} ({acc})", a.address),
            None => format!("{} (no account)", a.address),
        })
        .collect();
    format!(
        "{}\t{}\t{}",
        p.id,
        super::safe::field(&p.name),
        super::safe::field(&addresses.join(", "))
    )
}

fn option_line(o: &RouteOption) -> String {
    let mut flags = Vec::new();
    if o.estimated {
        flags.push("estimated");
    }
    if o.bridged {
        flags.push("bridged");
    }
    if o.allowed {
        flags.push("allowed");
    }
    format!(
        "{} via {} ({}) {:?} {}",
        o.address,
        o.account,
        o.protocol,
        o.protection,
        flags.join(" ")
    )
}

pub(super) fn print_choice(choice: &RouteChoice) {
    let consent = if choice.needs_consent_for_downgrade {
        "  (downgrade: needs your consent)"
    } else {
        ""
    };
    println!("route: {}{consent}", option_line(&choice.chosen));
    for alt in &choice.alternatives {
        println!("  or:  {}", option_line(alt));
    }
}

/// Every account whose network accepts the address, as typed.
fn placements(
    engine: &Engine,
    text: &str,
) -> anyhow::Result<Vec<(Option<koine_api::AccountId>, Address)>> {
    let mut out = Vec::new();
    for account in engine.accounts()? {
        if let Some(plugin) = engine.registry().get(&account.protocol)
            && let Ok(a) = plugin.parse_address(text)
        {
            out.push((Some(account.id.clone()), a));
        }
    }
    if out.is_empty() {
        out.push((None, Address::parse_any(text)?));
    }
    Ok(out)
}

pub async fn run(engine: &Engine, command: PeopleCommand) -> anyhow::Result<ExitCode> {
    match command {
        PeopleCommand::List(a) => {
            for p in engine.people()? {
                if a.json {
                    print_json(&p)?;
                } else {
                    println!("{}", line(&p));
                }
            }
        }
        PeopleCommand::Show {
            person,
            history,
            json,
        } => {
            let p = engine.find_person(&person)?;
            let messages = engine.person_history(p.id, None, history)?;
            if json.json {
                print_json(&serde_json::json!({"person": p, "history": messages}))?;
            } else {
                println!("{}", line(&p));
                for h in &p.hints {
                    println!("  also: {}", h.identifier.key());
                }
                for m in messages {
                    let route = m
                        .message
                        .route
                        .as_ref()
                        .map(|r| format!("{:?}", r.protection()))
                        .unwrap_or_else(|| "route not known yet".into());
                    println!(
                        "  {}\t{}\t{}\t{}: {}",
                        m.message.timestamp.0,
                        m.protocol,
                        route,
                        m.message.sender,
                        m.message.content.text
                    );
                }
            }
        }
        PeopleCommand::Add { name, addresses } => {
            let mut all = Vec::new();
            for a in &addresses {
                all.extend(placements(engine, a)?);
            }
            let id = engine.create_person(&name, &all)?;
            println!("{id}");
        }
        PeopleCommand::Merge { into, others } => {
            let into = engine.find_person(&into)?;
            let others = others
                .iter()
                .map(|o| engine.find_person(o).map(|p| p.id))
                .collect::<Result<Vec<_>, _>>()?;
            engine.merge_people(into.id, &others)?;
            println!("{}", line(&engine.person(into.id)?));
        }
        PeopleCommand::Split {
            person,
            addresses,
            name,
        } => {
            let p = engine.find_person(&person)?;
            let mut moved = Vec::new();
            for text in &addresses {
                let matching: Vec<_> = p
                    .addresses
                    .iter()
                    .filter(|a| {
                        a.address.to_string() == *text
                            || Address::parse_any(text).ok().as_ref() == Some(&a.address)
                    })
                    .map(|a| (a.account.clone(), a.address.clone()))
                    .collect();
                if matching.is_empty() {
                    bail!("{} has no address {text}", p.name);
                }
                moved.extend(matching);
            }
            let id = engine.split_person(p.id, &moved, name.as_deref())?;
            println!("{}", line(&engine.person(id)?));
        }
        PeopleCommand::Undo => match engine.undo_people()? {
            Some(change) => println!("undone: {change:?}"),
            None => println!("nothing to undo"),
        },
        PeopleCommand::Suggestions(a) => {
            for s in engine.suggestions()? {
                if a.json {
                    print_json(&s)?;
                } else {
                    println!("{}\t{}\t{:?}\t{:?}", s.a, s.b, s.strength, s.reason);
                }
            }
        }
        PeopleCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = engine.import_vcard(&text)?;
            print_json(&report)?;
        }
        PeopleCommand::Export { out } => {
            let text = engine.export_vcard(None)?;
            std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
        }
        PeopleCommand::Route {
            person,
            route,
            json,
        } => {
            let p = engine.find_person(&person)?;
            let choice = engine.choose_route(p.id, &selection(engine, &route)?)?;
            if json.json {
                print_json(&choice)?;
            } else {
                print_choice(&choice);
            }
        }
        PeopleCommand::Send {
            person,
            text,
            route,
            allow_downgrade,
            wait,
        } => {
            let p = engine.find_person(&person)?;
            let consent = match allow_downgrade {
                None => DowngradeConsent::NotGiven,
                Some(Allow::Once) => DowngradeConsent::Once,
                Some(Allow::Always) => DowngradeConsent::Always,
            };
            return send::run(engine, &p, &selection(engine, &route)?, text, consent, wait).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
