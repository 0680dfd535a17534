//! `hotline-gateway bench` (README "Operations") against a running gateway: several members
//! over mutual TLS, keep-alive or a full handshake per request, distinct valid reports; prints
//! throughput, latency percentiles and the answers; exit 0 only if every answer was 202.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::app::{spawn_app_with, TestApp};
use crate::support::process::binary;

/// A gateway whose rate limits a bench on a fast machine never reaches.
async fn unlimited_app() -> TestApp {
    spawn_app_with(|s| {
        s.limits.requests_per_second = 1_000_000;
        s.limits.burst = 1_000_000;
    })
    .await
}

/// A configuration file for `bench` aimed at `port`, with the app's CA (the member certificates
/// are in `members/` beside it) and `members` (TOML) as its member list.
fn bench_config(app: &TestApp, port: u16, members: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.toml");
    let ca = app.settings.tls.client_ca.display().to_string();
    let text =
        format!("[gateway]\nlisten = \"127.0.0.1:{port}\"\n[tls]\nclient_ca = {ca:?}\n{members}");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// Runs `bench --config FILE ARGS...` off the runtime's threads, so the gateway keeps serving.
async fn bench(config: &std::path::Path, args: &[&str]) -> Output {
    let mut command = binary();
    command.arg("bench").arg("--config").arg(config).args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn json_summary(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "not one JSON line: {stdout}"
    );
    serde_json::from_str(stdout.trim()).expect("--json prints one JSON object")
}

const AS_TWO_MEMBERS: [&str; 6] = [
    "--duration",
    "1",
    "--concurrency",
    "4",
    "--members",
    "hotline-fr,police-fr",
];

/// Every referral in hotline-nl's inbox (bench reports are hosted in NL): how many, and from whom.
async fn nl_referrals(app: &TestApp) -> (u64, BTreeSet<String>) {
    let (mut count, mut from) = (0, BTreeSet::new());
    let mut query = "?limit=500".to_owned();
    loop {
        let page = app.inbox_page("hotline-nl", &query).await;
        let entries = page["entries"].as_array().unwrap();
        if entries.is_empty() {
            return (count, from);
        }
        for entry in entries {
            assert_eq!(entry["kind"], "referral");
            count += 1;
            from.insert(entry["item"]["from"].as_str().unwrap().to_owned());
        }
        query = format!("?limit=500&after={}", page["next"].as_str().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_json_reports_every_answer_and_the_reports_really_land() {
    let app = unlimited_app().await;
    let (_dir, config) = bench_config(&app, app.port, "");
    let mut args = AS_TWO_MEMBERS.to_vec();
    args.push("--json");
    let output = bench(&config, &args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let summary = json_summary(&output);

    let requests = summary["requests"].as_u64().unwrap();
    assert!(requests > 0, "{summary}");
    assert_eq!(summary["accepted"], requests, "{summary}");
    assert_eq!(summary["answers"], serde_json::json!({"202": requests}));
    assert_eq!(summary["concurrency"], 4);
    assert_eq!(summary["mode"], "keep-alive");
    assert_eq!(
        summary["members"],
        serde_json::json!(["hotline-fr", "police-fr"])
    );
    assert!(summary["duration_s"].as_f64().unwrap() >= 1.0, "{summary}");
    assert!(summary["accepted_per_s"].as_f64().unwrap() > 0.0);
    let latency = &summary["latency_ms"];
    let ms = |p: &str| {
        latency[p]
            .as_f64()
            .unwrap_or_else(|| panic!("latency_ms.{p}: {summary}"))
    };
    assert!(0.0 < ms("p50"), "{summary}");
    assert!(
        ms("p50") <= ms("p90") && ms("p90") <= ms("p99") && ms("p99") <= ms("max"),
        "{summary}"
    );

    // Every accepted report is in the store, one distinct item each, sent as both members.
    let stats = app.stats("hotline-fr").await;
    assert_eq!(stats["items"]["total"], requests, "{stats}");
    assert_eq!(
        stats["items"]["by_hosting_country"]["NL"], requests,
        "{stats}"
    );
    assert_eq!(stats["items"]["by_status"]["routed"], requests, "{stats}");
    let (referrals, from) = nl_referrals(&app).await;
    assert_eq!(referrals, requests);
    assert_eq!(
        from,
        BTreeSet::from(["hotline-fr".to_owned(), "police-fr".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_with_new_connections_prints_a_table_as_the_configured_members() {
    let app = unlimited_app().await;
    // Without --members: the active hotlines and police contacts that have a certificate.
    let members = "[[members]]\nid = \"hotline-nl\"\nrole = \"hotline\"\ncountry = \"NL\"\n\
                   [[members]]\nid = \"hotline-it\"\nrole = \"hotline\"\ncountry = \"IT\"\nsuspended = true\n\
                   [[members]]\nid = \"hoster-nl\"\nrole = \"hosting_provider\"\ncountry = \"NL\"\nasns = [64500]\n\
                   [[members]]\nid = \"police-fr\"\nrole = \"lea\"\ncountry = \"FR\"\n\
                   [[members]]\nid = \"hotline-xx\"\nrole = \"hotline\"\ncountry = \"FR\"\n";
    let (_dir, config) = bench_config(&app, app.port, members);
    let output = bench(
        &config,
        &["--duration", "1", "--concurrency", "3", "--new-connections"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("new connection per request"), "{stdout}");
    assert!(stdout.contains("as hotline-nl, police-fr\n"), "{stdout}");
    let requests_line = stdout
        .lines()
        .find(|l| l.starts_with("requests"))
        .expect(&stdout);
    let numbers: Vec<u64> = requests_line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(
        numbers[0] > 0 && numbers[0] == numbers[1],
        "{requests_line}"
    );
    let latency = stdout
        .lines()
        .find(|l| l.starts_with("latency ms"))
        .expect(&stdout);
    for p in ["p50", "p90", "p99"] {
        assert!(latency.contains(p), "{latency}");
    }
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("answers"))
        .collect();
    assert_eq!(
        answers,
        [format!("answers    202: {}", numbers[0])],
        "{stdout}"
    );
    let stats = app.stats("hotline-fr").await;
    assert_eq!(stats["items"]["total"], numbers[0], "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_exits_1_when_an_answer_is_not_202() {
    let app = spawn_app_with(|s| {
        s.limits.requests_per_second = 1;
        s.limits.burst = 1;
    })
    .await;
    let (_dir, config) = bench_config(&app, app.port, "");
    let mut args = AS_TWO_MEMBERS.to_vec();
    args.push("--json");
    let output = bench(&config, &args).await;
    assert_eq!(output.status.code(), Some(1));
    let summary = json_summary(&output);
    let requests = summary["requests"].as_u64().unwrap();
    let accepted = summary["accepted"].as_u64().unwrap();
    let refused = summary["answers"]["429"].as_u64().expect("429s counted");
    assert_eq!(summary["rate_limited"], refused, "{summary}");
    // Said up front, on stderr, from the configuration bench read (the default limit).
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("limits.requests_per_second = 200")
            && stderr.contains("HGW__LIMITS__REQUESTS_PER_SECOND=1000000"),
        "{stderr}"
    );
    assert!(accepted >= 2, "each member's burst: {summary}");
    assert_eq!(accepted + refused, requests, "{summary}");
    let stats = app.stats("hotline-nl").await;
    assert_eq!(stats["items"]["total"], accepted, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_counts_transport_errors_when_nothing_listens() {
    let app = unlimited_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, config) = bench_config(&app, port, "");
    let output = bench(
        &config,
        &[
            "--duration",
            "0.3",
            "--concurrency",
            "2",
            "--members",
            "hotline-fr",
            "--json",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let summary = json_summary(&output);
    assert_eq!(summary["accepted"], 0);
    let answers = summary["answers"].as_object().unwrap();
    assert!(!answers.is_empty());
    assert!(
        answers.keys().all(|k| k.starts_with("transport error")),
        "{summary}"
    );

    // --url overrides the configured address.
    let url = format!("https://127.0.0.1:{}", app.port);
    let output = bench(
        &config,
        &[
            "--duration",
            "0.3",
            "--members",
            "hotline-fr",
            "--url",
            &url,
        ],
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_refuses_nonsense_arguments() {
    let app = unlimited_app().await;
    let (_dir, config) = bench_config(&app, app.port, "");
    for args in [
        ["--concurrency", "0", "--members", "hotline-fr"],
        ["--duration", "0", "--members", "hotline-fr"],
        ["--items", "101", "--members", "hotline-fr"],
    ] {
        let output = bench(&config, &args).await;
        assert!(!output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("--concurrency must be"));
    }
    // No member to send as: none named, none configured.
    let output = bench(&config, &[]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no member to send as"));
}
