//! `koine-phone-sim`: simulated Android phones on loopback, for tests and
//! demos. Each `--phone NUMBER` starts one phone on the shared simulated
//! carrier, reachable through the chosen backend's phone side (KDE Connect
//! or the SMSGate local API).
//!
//! On start it prints one JSON line per phone (`{"number", "backend",
//! "addr", "device_id", "fingerprint"}`) and then `{"ready": true}`. It
//! reads JSON commands on stdin, one per line, and exits when stdin closes:
//!
//! ```text
//! {"inject_sms": {"phone": "+33612345601", "from": "+33698765432", "body": "hi"}}
//! {"inject_mms": {"phone": "...", "from": "...", "body": "...", "name": "a.png", "mime": "image/png", "base64": "..."}}
//! {"request_pairing": {"phone": "..."}}
//! {"trust": {"phone": "...", "device_id": "...", "fingerprint": "..."}}
//! {"disconnect": {"phone": "..."}}
//! {"dump": {"phone": "..."}}            prints the phone's messages as JSON
//! ```

#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use anyhow::{Context, bail};
use base64::Engine;
use clap::Parser;
use koine_sms::sim::kdeconnect::{KdeConfig, KdePhone, KdeServer};
use koine_sms::sim::smsgate::{GateConfig, GatePhone, GateServer};
use koine_sms::sim::{Carrier, Part, Phone, PhoneConfig};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;

#[derive(Parser, Debug)]
#[command(
    name = "koine-phone-sim",
    about = "Simulated Android phones for Koine's SMS plugin"
)]
struct Args {
    /// A phone number (E.164) to simulate; repeat for several phones.
    #[arg(long = "phone", required = true)]
    phones: Vec<String>,
    /// The phone side to speak: kdeconnect or smsgate.
    #[arg(long, default_value = "kdeconnect")]
    backend: String,
    /// Address to listen on (port 0: a free port per phone). Loopback only
    /// unless you mean it.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Directory for the phones' identities and pairings (kept across runs).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The name the phones announce.
    #[arg(long, default_value = "Koine test phone")]
    device_name: String,
    /// Region of national numbers.
    #[arg(long, default_value = "FR")]
    region: String,
    /// KDE Connect protocol version to speak (7 or 8).
    #[arg(long, default_value_t = 8)]
    protocol_version: u32,
    /// Refuse pairing requests (the user taps "reject").
    #[arg(long)]
    refuse_pairing: bool,
    /// Offer only TLS 1.2 (KDE Connect), as the Android app does.
    #[arg(long)]
    tls12_only: bool,
    /// Seconds to add to the phones' clocks.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_skew: i64,
    /// Numbers outside the simulation answer every SMS with "Re: <text>".
    #[arg(long)]
    auto_answer: bool,
    /// SMSGate API user.
    #[arg(long, default_value = "sms")]
    user: String,
    /// SMSGate API password.
    #[arg(long, env = "KOINE_PHONE_SIM_PASSWORD", default_value = "")]
    password: String,
}

enum Side {
    Kde(Arc<KdePhone>, KdeServer),
    Gate(Arc<GatePhone>, GateServer),
}

struct Running {
    phone: Arc<Phone>,
    side: Side,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let carrier = Carrier::new();
    carrier.set_auto_answer(args.auto_answer);
    let mut phones: HashMap<String, Running> = HashMap::new();
    for (i, number) in args.phones.iter().enumerate() {
        let number = koine_sms::phone::normalize(number, &args.region)
            .with_context(|| format!("{number} is not a phone number"))?
            .as_str()
            .to_owned();
        let phone = Phone::new(
            PhoneConfig {
                number: number.clone(),
                region: args.region.clone(),
                device_name: args.device_name.clone(),
                clock_skew_secs: args.clock_skew,
            },
            &carrier,
        );
        let state_file = args
            .state_dir
            .as_ref()
            .map(|d| d.join(format!("phone-{}.json", number.trim_start_matches('+'))));
        let (line, side) = match args.backend.as_str() {
            "kdeconnect" => {
                let kde = KdePhone::new(
                    phone.clone(),
                    KdeConfig {
                        device_id: format!(
                            "koine_sim_phone_{i}_{}",
                            number.trim_start_matches('+')
                        ),
                        protocol_version: args.protocol_version,
                        accept_pairing: !args.refuse_pairing,
                    },
                    state_file,
                )?;
                kde.tls12_only(args.tls12_only);
                let server = kde.listen(args.listen).await?;
                let line = json!({"number": number, "backend": "kdeconnect", "addr": server.addr().to_string(),
                    "device_id": kde.device_id(), "fingerprint": kde.fingerprint()});
                (line, Side::Kde(kde, server))
            }
            "smsgate" => {
                let gate = GatePhone::new(
                    phone.clone(),
                    GateConfig {
                        username: args.user.clone(),
                        password: args.password.clone(),
                    },
                );
                let server = gate.listen(args.listen).await?;
                let line = json!({"number": number, "backend": "smsgate", "addr": server.addr().to_string()});
                (line, Side::Gate(gate, server))
            }
            other => bail!("unknown backend {other}"),
        };
        println!("{line}");
        phones.insert(number, Running { phone, side });
    }
    println!("{}", json!({"ready": true}));
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = stdin.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let reply = match handle(&phones, &line, &args.region) {
            Ok(v) => v,
            Err(e) => json!({"error": e.to_string()}),
        };
        println!("{reply}");
    }
    Ok(())
}

fn field<'a>(v: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("missing string field {key}"))
}

fn handle(phones: &HashMap<String, Running>, line: &str, region: &str) -> anyhow::Result<Value> {
    let command: Value = serde_json::from_str(line).context("not JSON")?;
    let (name, args) = command
        .as_object()
        .and_then(|o| o.iter().next())
        .context("expected {\"command\": {...}}")?;
    let number = koine_sms::phone::normalize(field(args, "phone")?, region)?;
    let running = phones.get(number.as_str()).context("no such phone")?;
    match name.as_str() {
        "inject_sms" => {
            let m = running
                .phone
                .inject_sms(field(args, "from")?, field(args, "body")?)
                .context("store unavailable")?;
            Ok(json!({"injected": m.uid}))
        }
        "inject_mms" => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(field(args, "base64")?)?;
            let part = Part {
                name: field(args, "name")?.to_owned(),
                mime: field(args, "mime")?.to_owned(),
                bytes,
            };
            let m = running
                .phone
                .inject_mms(field(args, "from")?, field(args, "body")?, part)
                .context("store unavailable")?;
            Ok(json!({"injected": m.uid}))
        }
        "request_pairing" => match &running.side {
            Side::Kde(k, _) => Ok(json!({"requested": k.request_pairing()})),
            Side::Gate(..) => bail!("SMSGate has no pairing"),
        },
        "trust" => match &running.side {
            Side::Kde(k, _) => {
                k.trust(field(args, "device_id")?, field(args, "fingerprint")?, 8);
                Ok(json!({"trusted": true}))
            }
            Side::Gate(..) => bail!("SMSGate has no pairing"),
        },
        "disconnect" => match &running.side {
            Side::Kde(k, _) => {
                k.disconnect();
                Ok(json!({"disconnected": true}))
            }
            Side::Gate(..) => bail!("SMSGate keeps no connection"),
        },
        "dump" => {
            let messages = running
                .phone
                .with_store(|s| serde_json::to_value(s.messages()))
                .context("store unavailable")??;
            let extra = match &running.side {
                Side::Kde(k, server) => {
                    json!({"addr": server.addr().to_string(), "paired": k.paired().keys().collect::<Vec<_>>()})
                }
                Side::Gate(g, server) => {
                    json!({"addr": server.addr().to_string(), "webhooks": g.webhooks().len()})
                }
            };
            Ok(json!({"messages": messages, "phone": extra}))
        }
        other => bail!("unknown command {other}"),
    }
}
