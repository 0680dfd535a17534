//! `hotline-gateway audit verify --config FILE` on a stopped gateway's store, and its verdict.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hotline_gateway::config::{Backend, Settings};

/// What `audit verify` said: exit code and stdout.
pub struct Verdict {
    pub code: Option<i32>,
    pub stdout: String,
}

/// One run of `hotline-gateway audit verify --config FILE`, FILE naming `data_dir` (and the
/// embedded store).
pub fn run_verify(data_dir: &Path) -> std::process::Output {
    run_verify_with(data_dir, "")
}

/// As [`run_verify`], with `store` (TOML) as the configuration's `[store]` section.
fn run_verify_with(data_dir: &Path, store: &str) -> std::process::Output {
    let config = data_dir.with_extension("toml");
    let toml = format!(
        "[gateway]\ndata_dir = {:?}\n\n[store]\n{store}",
        data_dir.display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["audit", "verify", "--config"])
        .arg(&config)
        .output()
        .unwrap()
}

/// `audit verify` on a stopped gateway's `data_dir` (retrying while its lock lingers).
pub fn audit_verify(data_dir: &Path) -> Verdict {
    for _ in 0..100 {
        let output = run_verify(data_dir);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stdout.is_empty() && stderr.contains("lock") {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        assert!(!stdout.is_empty(), "no verdict; stderr: {stderr}");
        return Verdict {
            code: output.status.code(),
            stdout,
        };
    }
    panic!("the store stayed locked");
}

/// `audit verify` finds the chain intact, with `events` events.
pub fn assert_intact(data_dir: &Path, events: usize) {
    let verdict = audit_verify(data_dir);
    assert_eq!(verdict.code, Some(0), "{}", verdict.stdout);
    assert_eq!(
        verdict.stdout.trim(),
        format!("audit chain intact: {events} events")
    );
}

/// `audit verify` on the store of a gateway configured by `settings` (either backend; a
/// PostgreSQL store may be verified while gateways run): its verdict.
pub fn store_verdict(settings: &Settings) -> Verdict {
    match settings.store.backend {
        Backend::Sled => audit_verify(&settings.gateway.data_dir),
        Backend::Postgres => {
            let store = format!("backend = \"postgres\"\nurl = {:?}\n", settings.store.url);
            let output = run_verify_with(&settings.gateway.data_dir, &store);
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                !stdout.is_empty(),
                "no verdict; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            Verdict {
                code: output.status.code(),
                stdout,
            }
        }
    }
}

/// `audit verify` on the store of a gateway configured by `settings` (either backend; a
/// PostgreSQL store may be verified while gateways run), finds the chain intact with `events`.
pub fn assert_store_intact(settings: &Settings, events: usize) {
    let verdict = store_verdict(settings);
    assert_eq!(verdict.code, Some(0), "{}", verdict.stdout);
    assert_eq!(
        verdict.stdout.trim(),
        format!("audit chain intact: {events} events")
    );
}
