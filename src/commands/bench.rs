//! `bench`: load a running gateway as several members over mutual TLS, like redis-benchmark or
//! pgbench: every request a new, valid, one-report-per-request submission (distinct report ids
//! and URLs, so the gateway does its whole work each time), for a fixed time, at a fixed
//! concurrency; then throughput, latency percentiles and errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use crate::config::{ConfigSource, Settings};
use crate::domain::Role;
use crate::pki::member_cert_paths;
use crate::tls;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The gateway's base URL; default: https:// and the configured listen address.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Members to send as, comma-separated; default: every active hotline and lea with a
    /// certificate in the development layout.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    members: Vec<String>,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// A new connection and a full TLS handshake (no resumption) for every request.
    #[arg(long)]
    new_connections: bool,
    /// With --new-connections: resume the TLS session (1.3 tickets) instead of a full handshake.
    #[arg(long, requires = "new_connections")]
    resume: bool,
    /// Items per report.
    #[arg(long, default_value_t = 1)]
    items: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Stop once this many reports were accepted (in all), or at --duration, whichever comes
    /// first.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// After each accepted report, take its items to a notice as the hosting country's hotline
    /// would (`assessed_illegal`, then `notice_sent`, as hotline-nl: the reports are hosted in
    /// NL on hoster-nl's AS64500): fills a gateway with items its notice follow-up works on.
    #[arg(long)]
    notice: bool,
}

/// What one worker saw: latencies of answered requests (µs) and answers by status.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<String, u64>,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&ConfigSource::from_arg(args.config.clone()))?;
    if args.concurrency == 0 || !(1..=100).contains(&args.items) || args.duration <= 0.0 {
        bail!("--concurrency must be at least 1, --items 1 to 100, --duration more than 0");
    }
    let members = pick_members(&settings, &args.members)?;
    let base = args.url.clone().unwrap_or_else(|| {
        format!(
            "https://{}",
            super::member_client::loopback_for(settings.gateway.listen)
        )
    });
    let endpoint = format!("{}/v1/reports", base.trim_end_matches('/'));
    warn_of_rate_limit(&settings, &args, members.len());
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let started = Instant::now();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = args.count.unwrap_or(u64::MAX);
    let assessor = match args.notice {
        true => Some(client_for(
            &settings,
            "hotline-nl",
            args.new_connections,
            args.resume,
        )?),
        false => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..args.concurrency {
        let member = members[worker % members.len()].clone();
        let client = client_for(&settings, &member, args.new_connections, args.resume)?;
        let (endpoint, run_id, items) = (endpoint.clone(), run_id.clone(), args.items);
        let (accepted, assessor, base) = (accepted.clone(), assessor.clone(), base.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut n = 0u64;
            while Instant::now() < deadline && accepted.load(Ordering::Relaxed) < count {
                let body = report_body(&run_id, worker, n, items);
                n += 1;
                let sent = Instant::now();
                let outcome = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let key = match outcome {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.bytes().await.unwrap_or_default();
                        tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                        if status == 202 {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            if let Some(assessor) = &assessor {
                                for answer in take_to_notice(assessor, &base, &body).await {
                                    *tally.statuses.entry(answer).or_default() += 1;
                                }
                            }
                        }
                        status.to_string()
                    }
                    Err(e) => format!("transport error: {}", e.without_url()),
                };
                *tally.statuses.entry(key).or_default() += 1;
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(tally) = tasks.join_next().await {
        let tally = tally.context("a bench worker failed")?;
        all.latencies_us.extend(tally.latencies_us);
        for (status, n) in tally.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(&args, &members, &mut all, elapsed);
    // In --notice mode the status changes answer 200 (`notice: 200`).
    let ok = all
        .statuses
        .keys()
        .all(|s| s == "202" || s == "notice: 200");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Takes every item of an accepted report's `receipt` to `notice_sent` as `assessor`; returns
/// how each change was answered (`notice: 200`, ...).
async fn take_to_notice(assessor: &reqwest::Client, base: &str, receipt: &[u8]) -> Vec<String> {
    let receipt: serde_json::Value = serde_json::from_slice(receipt).unwrap_or_default();
    let items = receipt["receipt"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut answers = Vec::new();
    for item in items {
        let Some(id) = item["item_id"].as_str() else {
            continue;
        };
        let url = format!("{}/v1/items/{id}/status", base.trim_end_matches('/'));
        for status in ["assessed_illegal", "notice_sent"] {
            let answer = assessor
                .post(&url)
                .header("content-type", "application/json")
                .body(json!({ "status": status }).to_string())
                .send()
                .await;
            answers.push(match answer {
                Ok(response) => {
                    let code = response.status().as_u16();
                    let _ = response.bytes().await;
                    format!("notice: {code}")
                }
                Err(e) => format!("notice: transport error: {}", e.without_url()),
            });
        }
    }
    answers
}

fn pick_members(settings: &Settings, asked: &[String]) -> anyhow::Result<Vec<String>> {
    let chosen: Vec<String> = if asked.is_empty() {
        settings
            .members
            .iter()
            .filter(|m| !m.suspended && matches!(m.role, Role::Hotline | Role::Lea))
            .filter(|m| member_cert_paths(settings, &m.id).0.exists())
            .map(|m| m.id.clone())
            .collect()
    } else {
        asked.to_vec()
    };
    if chosen.is_empty() {
        bail!("no member to send as: name them with --members, with certificates in the development layout");
    }
    Ok(chosen)
}

fn client_for(
    settings: &Settings,
    member: &str,
    new_connections: bool,
    resume: bool,
) -> anyhow::Result<reqwest::Client> {
    let (cert, key) = member_cert_paths(settings, member);
    let mut config = tls::client_config(&settings.tls.client_ca, &cert, &key)
        .with_context(|| format!("cannot use the certificate of member {member}"))?;
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if new_connections {
        if !resume {
            config.resumption = rustls::client::Resumption::disabled();
        }
        builder = builder.pool_max_idle_per_host(0);
    }
    builder
        .tls_backend_preconfigured(config)
        .build()
        .context("cannot build the HTTPS client")
}

/// A distinct, valid report of about 1.3 KB per item.
fn report_body(run_id: &str, worker: usize, n: u64, items: usize) -> Vec<u8> {
    let items: Vec<_> = (0..items)
        .map(|i| {
            json!({
                "url": format!("https://bench-{worker}.example.nl/{run_id}/{n}/{i}/image.jpg"),
                "category": "csam",
                "content_kind": "image",
                "classification": "baseline",
                "hosting": {"ip": format!("192.0.2.{}", (n % 250) + 1), "country": "NL", "asn": 64500},
                "hashes": {
                    "sha256": format!("{:064x}", u128::from(n) << 8 | i as u128),
                    "md5": format!("{:032x}", u128::from(n) << 8 | i as u128),
                    "pdq": format!("{:064x}", (worker as u128) << 64 | u128::from(n)),
                },
                "note": "bench ".repeat(140),
            })
        })
        .collect();
    let body = json!({
        "report_id": format!("BENCH-{run_id}-{worker}-{n}"),
        "reported_at": "2026-11-20T09:14:00Z",
        "items": items,
    });
    body.to_string().into_bytes()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Above this many requests a second per member, the rate limit is taken to be out of bench's
/// way and not mentioned.
const UNLIMITED: u32 = 100_000;

/// How to take the rate limit out of a measurement, for the gateway's environment.
const RAISE_LIMIT: &str =
    "HGW__LIMITS__REQUESTS_PER_SECOND=1000000 HGW__LIMITS__BURST=1000000 hotline-gateway serve";

/// Says up front (on stderr, so that --json stays one line) that the gateway's per-member rate
/// limit, as the configuration read here sets it, will refuse most of the load with 429.
fn warn_of_rate_limit(settings: &Settings, args: &BenchArgs, members: usize) {
    let limits = &settings.limits;
    if limits.requests_per_second >= UNLIMITED {
        return;
    }
    let most = u64::from(limits.requests_per_second)
        .saturating_mul(members as u64)
        .saturating_mul(args.duration.ceil() as u64)
        .saturating_add(u64::from(limits.burst).saturating_mul(members as u64));
    eprintln!(
        "note: the configuration read here limits each member to \
         limits.requests_per_second = {} (burst {}): a gateway with that limit accepts at most \
         about {most} reports from these {members} member(s) in {} s and answers the rest 429. \
         To measure the gateway itself, start it with its limit raised: {RAISE_LIMIT}",
        limits.requests_per_second, limits.burst, args.duration
    );
}

fn report(args: &BenchArgs, members: &[String], all: &mut Tally, elapsed: f64) {
    all.latencies_us.sort_unstable();
    let requests: u64 = all.statuses.values().sum();
    let accepted = all.statuses.get("202").copied().unwrap_or(0);
    let rate_limited = all.statuses.get("429").copied().unwrap_or(0);
    let rate = accepted as f64 / elapsed;
    let (p50, p90, p99) = (
        percentile(&all.latencies_us, 0.50),
        percentile(&all.latencies_us, 0.90),
        percentile(&all.latencies_us, 0.99),
    );
    let max = all
        .latencies_us
        .last()
        .map_or(0.0, |&us| us as f64 / 1000.0);
    let mode = match (args.new_connections, args.resume) {
        (false, _) => "keep-alive",
        (true, false) => "new connection per request",
        (true, true) => "new connection per request, TLS session resumed",
    };
    if args.json {
        let summary = json!({
            "concurrency": args.concurrency, "duration_s": elapsed, "mode": mode,
            "items_per_report": args.items, "members": members,
            "requests": requests, "accepted": accepted, "accepted_per_s": rate,
            "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max},
            "answers": all.statuses,
            "rate_limited": rate_limited,
        });
        println!("{summary}");
        return;
    }
    println!(
        "hotline-gateway bench: {} connections, {elapsed:.1} s, {mode}, {} item(s) per report, as {}",
        args.concurrency,
        args.items,
        members.join(", ")
    );
    println!("requests   {requests} ({accepted} accepted, {rate:.1}/s)");
    println!("latency ms p50 {p50:.2}  p90 {p90:.2}  p99 {p99:.2}  max {max:.2}");
    for (status, n) in all.statuses.iter().filter(|(s, _)| *s != "429") {
        println!("answers    {status}: {n}");
    }
    if rate_limited > 0 {
        println!(
            "rate limited (429): {rate_limited}: over the gateway's per-member \
             limits.requests_per_second, not a failure of the gateway; to measure it, raise the \
             limit where it runs: {RAISE_LIMIT}"
        );
    }
}
