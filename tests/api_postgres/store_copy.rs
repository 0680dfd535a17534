//! `hotline-gateway store copy`: a gateway's store on sled copied to PostgreSQL, and that copy
//! copied back to a new sled directory. After each copy, a gateway on it (same certificates,
//! same signing key) shows members exactly what the first one did: report views, receipts sent
//! again byte for byte, inbox pages (cursors and signed entries), where each inbox and its push
//! delivery stand, statistics, keys, the audit chain; and it goes on from there (the duplicate
//! index, retention counting from when items closed). A target that holds anything is refused
//! and left as it was; a copy that stops leaves PostgreSQL as it was and sled unopenable.
//!
//! `round_trip` and `refusals` hold the tests; here is what they share: the gateways' settings,
//! the configuration files the command reads, and the command itself (the real binary).

mod refusals;
mod round_trip;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hotline_gateway::config::{Backend, Settings};
use hotline_gateway::pki::ensure_dev_pki;
use serde_json::Value;

use crate::support::app::{test_settings, TestApp};
use crate::support::receiver::reserve;

/// Settings of a sled gateway whose files all live under `dir` (certificates made), retention
/// 30 days, police-nl pushing to an endpoint that refuses connections (2 attempts).
fn sled_settings(dir: &Path) -> Settings {
    let mut s = test_settings(dir);
    s.store.backend = Backend::Sled;
    s.store.url = String::new();
    s.retention.closed_item_days = 30;
    s.delivery.initial_backoff = Duration::from_millis(20);
    s.delivery.max_backoff = Duration::from_millis(200);
    s.delivery.max_attempts = 2;
    let (listener, dead) = reserve();
    drop(listener);
    let police = s.members.iter_mut().find(|m| m.id == "police-nl").unwrap();
    police.endpoint = Some(dead);
    ensure_dev_pki(&s).expect("test PKI");
    s
}

/// The same gateway on a fresh PostgreSQL database.
fn on_postgres(settings: &Settings) -> Settings {
    let mut s = settings.clone();
    s.store.backend = Backend::Postgres;
    s.store.url = crate::postgres::shared().database().url();
    s
}

/// The same gateway on a sled directory `dir`.
fn on_sled(settings: &Settings, dir: PathBuf) -> Settings {
    let mut s = settings.clone();
    s.store.backend = Backend::Sled;
    s.store.url = String::new();
    s.gateway.data_dir = dir;
    s
}

/// A configuration file naming `settings`' store and signing key, beside its data directory.
fn config_file(settings: &Settings, name: &str) -> PathBuf {
    let dir = settings.gateway.data_dir.parent().unwrap();
    let path = dir.join(format!("{name}.toml"));
    let store = match settings.store.backend {
        Backend::Sled => "backend = \"sled\"\n".to_owned(),
        Backend::Postgres => format!("backend = \"postgres\"\nurl = {:?}\n", settings.store.url),
    };
    let toml = format!(
        "[gateway]\ndata_dir = {:?}\n\n[signing]\nkey = {:?}\n\n[store]\n{store}",
        settings.gateway.data_dir.display().to_string(),
        settings.signing.key.display().to_string(),
    );
    std::fs::write(&path, toml).unwrap();
    path
}

/// `hotline-gateway store copy --from … --to …` (retried while a stopped gateway's sled lock
/// lingers).
fn store_copy(from: &Settings, to: &Settings) -> Output {
    let (from, to) = (config_file(from, "from"), config_file(to, "to"));
    for _ in 0..100 {
        let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
            .args(["store", "copy", "--from"])
            .arg(&from)
            .arg("--to")
            .arg(&to)
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&output.stderr).contains("acquire lock") {
            return output;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("a store stayed locked");
}

/// A copy that succeeded; returns the counts it printed, by name.
fn copied(from: &Settings, to: &Settings) -> Vec<(String, u64)> {
    let output = store_copy(from, to);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "store copy failed: {stderr}");
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let (name, n) = line.trim().rsplit_once(": ").expect("name: n");
            (name.to_owned(), n.parse().expect("a count"))
        })
        .collect()
}

/// A copy that was refused or failed; returns what it said.
fn refused(from: &Settings, to: &Settings) -> String {
    let output = store_copy(from, to);
    assert_eq!(output.status.code(), Some(1), "the copy did not fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The sled database of a stopped gateway (retried while its lock lingers).
fn open_sled(dir: &Path) -> sled::Db {
    for _ in 0..100 {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    panic!("{} stayed locked", dir.display());
}

/// A report as first sent: who sent it, its body, and the receipt's bytes.
struct Sent {
    member: &'static str,
    body: Value,
    receipt: Vec<u8>,
}

impl Sent {
    fn items(&self) -> Vec<Value> {
        let receipt: Value = serde_json::from_slice(&self.receipt).unwrap();
        receipt["receipt"]["items"].as_array().unwrap().clone()
    }

    fn id(&self, i: usize) -> String {
        self.items()[i]["item_id"].as_str().unwrap().to_owned()
    }
}

async fn send(app: &TestApp, member: &'static str, body: Value) -> Sent {
    let response = app.post_report(member, &body).await;
    assert_eq!(response.status(), 202, "{}", body["report_id"]);
    let receipt = response.bytes().await.unwrap().to_vec();
    Sent {
        member,
        body,
        receipt,
    }
}

fn count(counts: &[(String, u64)], name: &str) -> u64 {
    counts
        .iter()
        .find(|(n, _)| n == name)
        .map_or(0, |(_, n)| *n)
}
