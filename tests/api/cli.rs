//! The subcommands as an operator runs them: serve on the embedded default, dev-pki, submit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::app::spawn_app;
use crate::support::bodies::report;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_sends_a_report_as_a_member_and_prints_the_receipt() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    let ca = app.settings.tls.client_ca.display().to_string();
    std::fs::write(
        &config,
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{}\"\n[tls]\nclient_ca = {ca:?}\n",
            app.port
        ),
    )
    .unwrap();
    let file = dir.path().join("report.json");
    let body = report(
        "FR-CLI-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    std::fs::write(&file, body.to_string()).unwrap();

    let run = |file: std::path::PathBuf| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            binary()
                .args(["submit", "--member", "hotline-fr", "--config"])
                .arg(&config)
                .arg(&file)
                .output()
                .unwrap()
        })
    };
    let output = run(file.clone()).await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let receipt: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(receipt["receipt"]["report_id"], "FR-CLI-1");
    assert!(String::from_utf8_lossy(&output.stderr).contains("202"));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let output = run(bad).await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("422"));
}

#[test]
fn dev_pki_makes_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        binary()
            .arg("dev-pki")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for file in [
        "ca.crt",
        "ca.key",
        "gateway.crt",
        "gateway-client.key",
        "members/hotline-fr.crt",
        "members/hoster-nl.key",
    ] {
        assert!(dir.path().join("certs").join(file).is_file(), "{file}");
    }
    let ca = std::fs::read(dir.path().join("certs/ca.crt")).unwrap();
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already there"));
    assert_eq!(std::fs::read(dir.path().join("certs/ca.crt")).unwrap(), ca);
}

/// `serve` with no --config in a directory without config/default.toml: the embedded default,
/// development certificates made on first start, `HGW__` overrides, SIGTERM exits 0.
#[test]
fn serve_runs_on_the_embedded_default_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = binary()
        .arg("serve")
        .current_dir(dir.path())
        .env("HGW__GATEWAY__LISTEN", "127.0.0.1:0")
        // Not the default 9464: a gateway running on this machine must not fail the test.
        .env("HGW__GATEWAY__ADMIN_LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut saw_warning = false;
    let mut port = None;
    for line in stderr.by_ref() {
        let line = line.unwrap();
        saw_warning |= line.contains("DEVELOPMENT CERTIFICATES");
        if let Some(rest) = line.split("port=").nth(1) {
            port = rest
                .split_whitespace()
                .next()
                .map(|p| p.parse::<u16>().unwrap());
            break;
        }
    }
    // Keep reading the log, so the gateway never writes into a closed pipe.
    let rest_of_log = std::thread::spawn(move || stderr.map_while(Result::ok).collect::<Vec<_>>());
    assert!(saw_warning, "no loud line about development certificates");
    let port = port.expect("a line with the port");
    assert_ne!(port, 8443, "the HGW__ override was not applied");
    assert!(dir.path().join("certs/members/hotline-fr.crt").is_file());
    assert!(dir.path().join("certs/signing.pk8").is_file());

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = rest_of_log.join().unwrap().join("\n");
    assert!(status.success(), "exit status {status:?}; log:\n{log}");
    assert!(log.contains("store flushed"), "{log}");
    assert!(dir.path().join("data").is_dir());
}

#[test]
fn help_explains_the_configuration_its_overrides_and_every_subcommand() {
    let help = |args: &[&str]| {
        let output = binary().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let top = help(&["--help"]);
    assert!(top.contains("HGW__SECTION__KEY"), "{top}");
    assert!(top.contains("HGW__GATEWAY__LISTEN=127.0.0.1:9443"), "{top}");
    for command in [
        "serve", "dev-pki", "submit", "migrate", "audit", "store", "keys", "bench", "verify",
    ] {
        let line = top
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("{command} not listed:\n{top}"));
        assert!(
            line.trim().len() > command.len() + 10,
            "no description: {line}"
        );
    }
    for args in [
        &["serve", "--help"][..],
        &["keys", "rotate", "--help"],
        &["dev-pki", "--help"],
    ] {
        let text = help(args);
        assert!(
            text.contains("The configuration file (TOML)"),
            "{args:?}: {text}"
        );
    }
    assert!(help(&["serve", "--help"]).contains("HGW__SECTION__KEY"));
    assert!(help(&["serve", "--help"]).contains("pid_file"));
    let rotate = help(&["keys", "rotate", "--help"]);
    assert!(
        rotate.contains("SIGHUP") && rotate.contains("GET /v1/keys"),
        "{rotate}"
    );
    let verify = help(&["verify", "--help"]);
    for option in ["--keys", "--url", "--member", "--cert", "--key", "--ca"] {
        assert!(verify.contains(option), "{option}: {verify}");
    }
}
