//! `koine --demo`: the real binary starts the local gatekeeper server and the
//! simulated phones, its people answer over both networks, and at exit the
//! throwaway profile and every keyring entry of its accounts are gone. Run
//! inside `scripts/with-keyring`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LENA: &str = "+4915112345678";
const SAM: &str = "+4917698765432";
const MUM: &str = "+33698765432";

fn keyring_has(account: &str) -> bool {
    keyring_has_entry(&format!("{account}/password"))
}

fn keyring_has_entry(username: &str) -> bool {
    Command::new("secret-tool")
        .args(["lookup", "service", "im.koine.Koine", "username", username])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

#[test]
fn the_demo_answers_over_two_networks_and_leaves_nothing_behind() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_koine"))
        .args(["--demo", "tail", "--json"])
        .env_remove("KOINE_HOME")
        .env("KOINE_LANG", "en")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn koine --demo");
    let (tx, lines) = mpsc::channel::<(bool, String)>();
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((true, line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send((false, line));
        }
    });

    let mut profile: Option<PathBuf> = None;
    let mut accounts: Vec<String> = Vec::new();
    let mut answers: Vec<(String, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while [LENA, SAM, MUM]
        .iter()
        .any(|who| !answers.iter().any(|(from, _)| from == who))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((is_stdout, line)) = lines.recv_timeout(left) else {
            panic!("timed out; answers so far: {answers:?}");
        };
        if !is_stdout {
            if let Some(rest) = line.strip_prefix("koine: demo profile in ") {
                profile = rest.split(" (").next().map(PathBuf::from);
            }
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(a) = v["account"].as_str()
            && !accounts.iter().any(|x| x == a)
        {
            accounts.push(a.to_owned());
        }
        let m = &v["message"];
        if v["type"] == "message_stored" && m["direction"] == "incoming" {
            answers.push((
                m["sender"]["value"].as_str().unwrap_or_default().to_owned(),
                m["content"]["text"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    let text_of = |who: &str| {
        answers
            .iter()
            .find(|(from, _)| from == who)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    assert!(text_of(LENA).contains("interop gateway"), "{answers:?}");
    assert_eq!(text_of(SAM), "Yes! Seven o'clock at the usual place.");
    assert_eq!(text_of(MUM), "Are you coming for lunch on Sunday?");

    let dir = profile.expect("the demo names its directory");
    assert!(dir.join("profile").join("koine.sqlite3").exists());
    // Stored from two networks, and readable in no file of the profile
    // (the database, its WAL and index, the plugins' files).
    for canary in [
        "Seven o'clock at the usual place",
        "coming for lunch on Sunday",
    ] {
        let found = files_containing(&dir.join("profile"), canary);
        assert!(found.is_empty(), "{canary:?} in plaintext in {found:?}");
    }
    let key_entry = format!(
        "profile-{}/database-key",
        std::fs::read_to_string(dir.join("profile").join("database.id"))
            .expect("the profile's id")
            .trim()
    );
    assert!(
        keyring_has_entry(&key_entry),
        "the history's key is in the keyring"
    );
    assert_eq!(accounts.len(), 2, "{accounts:?}");
    let in_keyring: Vec<&String> = accounts.iter().filter(|a| keyring_has(a)).collect();
    assert_eq!(in_keyring.len(), 2, "both passwords are in the keyring");

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let stop = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < stop, "the demo did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!dir.exists(), "the demo's directory is removed");
    let left: Vec<&String> = accounts.iter().filter(|a| keyring_has(a)).collect();
    assert!(left.is_empty(), "keyring entries left: {left:?}");
    assert!(
        !keyring_has_entry(&key_entry),
        "the history's key is removed"
    );
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}
