//! `hotline-gateway audit verify --config FILE` on a stopped gateway's store, and its verdict.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What `audit verify` said: exit code and stdout.
pub struct Verdict {
    pub code: Option<i32>,
    pub stdout: String,
}

/// One run of `hotline-gateway audit verify --config FILE`, FILE naming `data_dir`.
pub fn run_verify(data_dir: &Path) -> std::process::Output {
    let config = data_dir.with_extension("toml");
    let toml = format!(
        "[gateway]\ndata_dir = {:?}\n",
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
